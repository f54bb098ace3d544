"""Errors as JSON with the right status code, never a traceback.

Every error body is `{"error": "<message>", "status": <code>}`.
"""

from __future__ import annotations

import logging

import duckdb
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from qmdb.errors import QmdbError, ViewError

from .safety import UnsafeQuery

log = logging.getLogger("qmdb.server")


class ApiError(Exception):
    """An error to send as JSON with a status code."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# DuckDB error class -> status; the first match in order wins.
DUCKDB_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (duckdb.InterruptException, 408),
    (duckdb.PermissionException, 403),
    (duckdb.OutOfMemoryException, 503),
    (duckdb.CatalogException, 400),
    (duckdb.Error, 400),
)


def from_duckdb(error: Exception, *, timed_out: bool = False, timeout: float | None = None) -> ApiError:
    """The ApiError a DuckDB error (or an interrupted Arrow stream) becomes."""
    if timed_out:
        return ApiError(408, f"the query ran longer than the server's limit of {timeout:g} s and was interrupted")
    status = next((code for kind, code in DUCKDB_STATUS if isinstance(error, kind)), 400)
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return ApiError(status, message)


def body(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into JSON."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return body(error.status, error.message)

    @app.exception_handler(UnsafeQuery)
    async def unsafe(request: Request, error: UnsafeQuery) -> JSONResponse:
        return body(403 if "parse" not in str(error) else 400, f"refused: {error}")

    @app.exception_handler(ViewError)
    async def view_error(request: Request, error: ViewError) -> JSONResponse:
        return body(404 if str(error).startswith("no view named") else 400, str(error))

    @app.exception_handler(QmdbError)
    async def qmdb_error(request: Request, error: QmdbError) -> JSONResponse:
        return body(404 if str(error).startswith("no ") else 400, str(error))

    @app.exception_handler(duckdb.Error)
    async def duckdb_error(request: Request, error: duckdb.Error) -> JSONResponse:
        api = from_duckdb(error)
        return body(api.status, api.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in error.errors())
        return body(422, f"invalid request: {problems}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        response = body(error.status_code, str(error.detail))
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(MemoryError)
    async def out_of_memory(request: Request, error: MemoryError) -> JSONResponse:
        ceiling = request.app.state.qmdb.settings.max_memory
        return body(503, f"the request needed more memory than the server's limit ({ceiling or 'its memory'}) "
                         "allows and was stopped; ask for fewer or smaller rows")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return body(500, f"internal error ({type(error).__name__}); the server log has the details")
