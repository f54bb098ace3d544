"""Bearer-token auth: a pure ASGI middleware (it does not buffer streamed responses)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send


def bearer(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


def accepted(token: str | None, tokens: Iterable[str]) -> bool:
    return token is not None and any(secrets.compare_digest(token.encode(), t.encode()) for t in tokens)


class BearerAuth:
    """Refuse every HTTP request whose bearer token is not one of `tokens` (401, JSON)."""

    def __init__(self, app: ASGIApp, tokens: set[str]):
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or accepted(bearer(scope["headers"]), self.tokens):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": "this server needs 'Authorization: Bearer <token>'", "status": 401}).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b"Bearer")]})
        await send({"type": "http.response.body", "body": body})
