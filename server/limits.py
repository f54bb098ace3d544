"""Bounds every request shares, as one pure ASGI middleware (it does not buffer streamed responses).

- A body larger than `Settings.max_body_bytes` is refused with 413 before the app reads it
  (by its `Content-Length`, or while it arrives when it has none).
- At most `Settings.max_requests` requests are in flight at once; the next ones wait in line up
  to `Settings.queue_timeout` seconds, then get 503 with `Retry-After`.

Parameters that size work have their maxima where the work happens (`MAX_BINS` in
`qmdb.plots._common`, `MAX_K` in `qmdb.embeddings.functions`); `VIEW_PARAM_MAXIMA` applies the
same maxima to a view's parameters of those names before DuckDB runs it.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qmdb.embeddings.functions import MAX_K

from .errors import ApiError

# A view parameter of this name may not exceed this value (the same maxima as the plots' and searches').
VIEW_PARAM_MAXIMA: dict[str, int] = {"bins": 1_000, "top": 1_000, "k": MAX_K}


def check_view_params(name: str, params: dict) -> None:
    """Refuse (400) a view parameter above its maximum in VIEW_PARAM_MAXIMA.

    >>> check_view_params("eval_by_metric", {"bins": "4"})
    >>> check_view_params("eval_by_metric", {"bins": 2_000_000_000})
    Traceback (most recent call last):
    ...
    qmdb.server.errors.ApiError: view eval_by_metric: bins must be at most 1000, not 2000000000
    """
    for key, maximum in VIEW_PARAM_MAXIMA.items():
        if key not in params or params[key] is None:
            continue
        try:
            value = int(float(params[key]))
        except (TypeError, ValueError, OverflowError):
            continue  # not a number: DuckDB's cast gives the error
        if value > maximum:
            raise ApiError(400, f"view {name}: {key} must be at most {maximum}, not {value}")


async def _send_error(send: Send, status: int, message: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": message, "status": status}).encode()
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


class Limits:
    """Body size and requests in flight, for every HTTP request."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_requests: int, queue_timeout: float):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_requests = max_requests
        self.queue_timeout = queue_timeout
        self._slots: asyncio.Semaphore | None = None

    def _too_large(self) -> str:
        return f"the request body is larger than the server's limit of {self.max_body_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await _send_error(send, 413, self._too_large())
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_requests)
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_timeout)
        except (asyncio.TimeoutError, TimeoutError):
            retry = max(1, round(self.queue_timeout))
            await _send_error(send, 503, f"the server is busy: {self.max_requests} requests are in flight; "
                                         f"retry in {retry} s", {"Retry-After": str(retry)})
            return
        received = 0
        started = refused = False

        async def counted() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes and not started:
                    refused = True  # answer 413 now; the app sees the client gone
                    await _send_error(send, 413, self._too_large())
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except Exception:
            if not refused:
                raise
        finally:
            self._slots.release()
