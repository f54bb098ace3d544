"""The FastAPI app: read endpoints for tables, views, queries, snapshots and images.

Every request that runs SQL gets its own DuckDB cursor of one locked-down serving
connection (`connection.open_serving`), so requests run in parallel and share no
state. The view and query endpoints are coroutines: a page already in the cache
(and, for a client's SQL, a text that already passed the safety check) is answered
on the event loop; anything that runs DuckDB goes to the thread pool.
Write endpoints (`writes.py`) are mounted only when the settings allow writes.
"""

from __future__ import annotations

import json

import duckdb
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from qmdb import snapshots, views
from qmdb.errors import ViewError

from . import checks, docs, errors, gallery, images
from .auth import BearerAuth
from .cache import PageCache, volatility
from .connection import open_serving
from .execution import Query as Sql
from .execution import Runner, dumps
from .formats import FORMATS
from .watchdog import WATCHDOG
from .limits import Limits, check_view_params
from .safety import Checker, catalog
from .settings import Settings

FormatName = Literal["json", "arrow", "csv", "parquet"]
RESERVED = ("format", "limit", "offset", "_shape")
ShapeName = Literal["arrays", "objects", "array"]
SHAPE = Query("arrays", alias="_shape", description="JSON rows as lists (`arrays`), as objects in "
              "`{\"rows\": [...]}` (`objects`), or a bare list of objects (`array`, what `pandas.read_json` reads)")


def _fmt(fmt: str, shape: str) -> str:
    """The format name the state answers: `json`, or `json:objects` / `json:array` for the other JSON shapes."""
    return f"json:{shape}" if fmt == "json" and shape != "arrays" else fmt


def shaped(page: dict, shape: str) -> dict | list:
    """A JSON page in Datasette's `_shape`: `objects` keeps the page with each row an object; `array` is the rows only.

    >>> page = {"columns": [{"name": "a", "type": "INTEGER"}], "rows": [[1], [2]], "next_offset": None}
    >>> shaped(page, "array")
    [{'a': 1}, {'a': 2}]
    >>> shaped(page, "objects")["rows"]
    [{'a': 1}, {'a': 2}]
    """
    names = [c["name"] for c in page["columns"]]
    rows = [dict(zip(names, row)) for row in page["rows"]]
    return rows if shape == "array" else {**page, "rows": rows}
MAX_ID = 2**63 - 1
Id = Annotated[int, Path(ge=0, le=MAX_ID)]


class QueryRequest(BaseModel):
    sql: str = Field(description="one SELECT / WITH / VALUES query; `?` or `$name` placeholders for params")
    params: list[Any] | dict[str, Any] | None = Field(None, description="values bound to the placeholders")
    format: FormatName = "json"
    shape: ShapeName = Field("arrays", alias="_shape", description="JSON shape (Datasette's `_shape`)")
    limit: int | None = Field(None, ge=1, le=MAX_ID, description="JSON: rows per page")
    offset: int = Field(0, ge=0, le=MAX_ID, description="JSON: first row of the page")


class ViewRequest(BaseModel):
    params: dict[str, Any] = Field(default_factory=dict, description="the view's parameters; defaults fill the rest")
    format: FormatName = "json"
    shape: ShapeName = Field("arrays", alias="_shape", description="JSON shape (Datasette's `_shape`)")
    limit: int | None = Field(None, ge=1, le=MAX_ID)
    offset: int = Field(0, ge=0, le=MAX_ID)


class State:
    """What the endpoints share: the connection's runner, the safety checker and the page cache."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.active = 0  # lifespans running (a test client and a fuzzer may share one app)
        self.con = open_serving(settings.database, writable=settings.allow_writes,
                                memory_limit=settings.memory_limit, threads=settings.threads)
        self.runner = Runner(self.con, settings)
        self.cache = PageCache(0 if settings.allow_writes else settings.cache_entries)
        self.refresh()

    def refresh(self) -> None:
        """Re-read what only a write can change: the relation names and the views."""
        cursor = self.runner.cursor()
        try:
            self.checker = Checker(catalog(cursor))
            self.views = {v.name: v for v in views.list_views(cursor) if _runs_here(cursor, v)}
            self.cache.learn(dict(cursor.execute(
                "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal UNION ALL "
                "SELECT function_name, string_agg(macro_definition, ' ') FROM duckdb_functions() "
                "WHERE function_type IN ('macro', 'table_macro') AND NOT internal GROUP BY 1").fetchall()),
                volatility(cursor))
        finally:
            cursor.close()

    @property
    def relations(self) -> frozenset[str]:
        return self.checker.relations

    def check(self, sql: str) -> str:
        """`sql` when it is one read-only query of this database (the verdict is remembered), else UnsafeQuery."""
        checker = self.checker
        return sql if checker.passed(sql) else self.read(lambda cursor: checker.check(sql, cursor))

    def view(self, name: str) -> views.View:
        if name not in self.views:
            raise ViewError(f"no view named '{name}'; known views: {', '.join(self.views) or 'none'}")
        return self.views[name]

    async def run_view(self, name: str, params: dict, fmt: str, limit: int | None, offset: int) -> Response:
        view = self.view(name)
        check_view_params(name, params)
        body = "random()" if view.needs_qmdb else view.sql  # a Python function's answer is never cached
        return await self.answer(Sql(*view.call_sql(params)), fmt, limit, offset, body)

    def cached(self, query: Sql, fmt: str, limit: int | None, offset: int, *depends_on: str) -> Response | None:
        """The cached JSON page of this request, if there is one: no DuckDB, cheap enough for the event loop."""
        key = self._key(query, fmt, limit, offset, depends_on)
        page = self.cache.get(key) if key else None
        return None if page is None else Response(page, media_type="application/json")

    def respond(self, query: Sql, fmt: str, limit: int | None, offset: int, *depends_on: str) -> Response:
        """The answer in `fmt` (runs DuckDB: call it in a worker thread); JSON pages of deterministic queries are cached."""
        if fmt == "json":
            key = self._key(query, fmt, limit, offset, depends_on)
            page = self.cache.get(key) if key else None
            if page is None:
                page = dumps(self.runner.json_page(query, limit, offset))
                if key:
                    self.cache.put(key, page)
            return Response(page, media_type="application/json")
        if fmt.startswith("json:"):
            page = shaped(self.runner.json_page(query, limit, offset), fmt.partition(":")[2])
            return Response(dumps(page), media_type="application/json")
        chunks, headers = self.runner.stream(query, fmt)
        return StreamingResponse(chunks, media_type=FORMATS[fmt].media_type, headers=headers)

    async def answer(self, query: Sql, fmt: str, limit: int | None, offset: int, *depends_on: str) -> Response:
        """`respond`, from the cache on the event loop when it can, else in a worker thread."""
        page = self.cached(query, fmt, limit, offset, *depends_on)
        if page is not None:
            return page
        return await run_in_threadpool(self.respond, query, fmt, limit, offset, *depends_on)

    def _key(self, query: Sql, fmt: str, limit: int | None, offset: int, depends_on: tuple[str, ...]) -> tuple | None:
        if fmt != "json" or not self.cache.entries or not self.cache.cacheable(query.sql, *depends_on):
            return None
        return PageCache.key(query.sql, query.params, limit, offset)

    def read(self, function, *args):
        """Run `function(cursor, *args)` on a fresh cursor and close it."""
        cursor = self.runner.cursor()
        try:
            return function(cursor, *args)
        finally:
            cursor.close()

    def timed(self, function, *args):
        """`read`, interrupted after the server's time limit (408), for work that computes (plots, cards)."""
        cursor = self.runner.cursor()
        ticket = WATCHDOG.watch(cursor, self.settings.timeout)
        try:
            return function(cursor, *args)
        except duckdb.Error as error:
            if ticket.fired:
                raise errors.from_duckdb(error, timed_out=True, timeout=self.settings.timeout) from None
            raise
        finally:
            ticket.cancel()
            cursor.close()


def _runs_here(cursor, view: views.View) -> bool:
    """Whether the view binds on the serving connection: one that calls a function the server does not
    register (e.g. a Python UDF outside SERVED_PROVIDERS) is not listed, rather than listed and failing."""
    try:
        cursor.execute(f"SELECT * FROM ({view.call_sql()[0]}) AS qmdb_probe LIMIT 0")
    except duckdb.CatalogException:
        return False
    except duckdb.Error:
        pass  # another error (a parameter with no default): the run will say so
    return True


READ_ONLY_WRITES = (("POST", "/views"), ("DELETE", "/views/{name}"), ("POST", "/tags"),
                    ("POST", "/snapshots"), ("DELETE", "/snapshots/{name}"), ("POST", "/fix"),
                    ("POST", "/batches/{batch_id}/undo"), ("POST", "/checks/run"),
                    ("POST", "/gallery/tags"))


def _refuse_writes(app: FastAPI) -> None:
    """The write routes of a read-only server: each answers 403 saying how to allow writes."""

    def read_only() -> None:
        raise errors.ApiError(403, "read-only: start with --allow-writes")

    for method, path in READ_ONLY_WRITES:
        app.add_api_route(path, read_only, methods=[method], include_in_schema=False)


def _view_info(view: views.View, with_sql: bool = False) -> dict:
    info = {"name": view.name, "description": view.description, "builtin": view.builtin,
            "needs_qmdb": view.needs_qmdb, "parameters": [p.as_dict() for p in view.params]}
    if with_sql:
        info["sql"] = view.sql
    return info


def _tables(cursor) -> list[dict]:
    rows = cursor.execute(
        "SELECT t.table_name, t.estimated_size, "
        "list({'name': c.column_name, 'type': c.data_type} ORDER BY c.column_index) "
        "FROM duckdb_tables() t JOIN duckdb_columns() c USING (database_name, schema_name, table_name) "
        "WHERE t.database_name = current_database() AND NOT t.internal GROUP BY ALL ORDER BY 1"
    ).fetchall()
    return [{"name": name, "rows": count, "columns": columns} for name, count, columns in rows]


def create_app(settings: Settings) -> FastAPI:
    """The app serving `settings.database`; opens the serving connection now."""
    state = State(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state.active += 1
        try:
            yield
        finally:
            state.active -= 1
            if not state.active:  # the last server (or test client) running this app is done
                state.runner.interrupt_all()
                state.con.close()

    app = FastAPI(
        title="qmdb", lifespan=lifespan, docs_url=None, redoc_url=None,
        description="Query a qmdb project over HTTP: tables, views, SQL, snapshots and images. "
                    "Read-only unless started with --allow-writes; every error is JSON.",
    )
    app.state.qmdb = state
    errors.install(app)
    docs.install(app)
    app.add_middleware(Limits, max_body_bytes=settings.max_body_bytes, max_requests=settings.max_requests,
                       queue_timeout=settings.queue_timeout)
    if settings.auth_token:
        tokens = {settings.auth_token} | ({settings.write_token} if settings.write_token else set())
        app.add_middleware(BearerAuth, tokens=tokens)
    if settings.allowed_hosts:  # a page on another name resolving to 127.0.0.1 (DNS rebinding) is refused
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))
    if settings.cors_origins:  # outermost: a browser's preflight is answered before auth and limits
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)

    @app.get("/", summary="What this server serves; a browser gets the gallery page")
    def info(request: Request) -> Any:
        if "text/html" in request.headers.get("accept", ""):
            return gallery.page()
        return {"database": settings.database.name, "read_only": not settings.allow_writes,
                "max_rows": settings.max_rows, "timeout_s": settings.timeout,
                "formats": ["json", "arrow", "csv", "parquet"], "docs": "/docs", "gallery": "/gallery"}

    @app.get("/tables", summary="Tables with their columns and row counts")
    def tables() -> dict:
        return {"tables": state.read(_tables)}

    @app.get("/views", summary="Views with their description and parameters")
    def list_views() -> dict:
        return {"views": [_view_info(v) for v in state.views.values()]}

    @app.get("/views/{name}", summary="One view, with its SQL")
    def show_view(name: str) -> dict:
        return _view_info(state.view(name), with_sql=True)

    @app.get("/views/{name}/rows", summary="Run a view; its parameters are query parameters (?min_score=0.5)")
    async def run_view(request: Request, name: str, format: FormatName = "json", shape: ShapeName = SHAPE,
                       limit: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                       offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Response:
        params = {k: v for k, v in request.query_params.items() if k not in RESERVED}
        return await state.run_view(name, params, _fmt(format, shape), limit, offset)

    @app.post("/views/{name}/rows", summary="Run a view with parameters in a JSON body")
    async def run_view_post(name: str, body: ViewRequest) -> Response:
        return await state.run_view(name, body.params, _fmt(body.format, body.shape), body.limit, body.offset)

    async def run_sql(sql: str, params, fmt: str, limit: int | None, offset: int) -> Response:
        query = Sql(sql, params)
        page = state.cached(query, fmt, limit, offset) if state.checker.passed(sql) else None
        if page is not None:
            return page

        def checked_answer() -> Response:
            state.check(sql)
            return state.respond(query, fmt, limit, offset)

        return await run_in_threadpool(checked_answer)

    @app.post("/query", summary="Run one read-only SQL query, with bound parameters")
    async def query_post(body: QueryRequest) -> Response:
        return await run_sql(body.sql, body.params, _fmt(body.format, body.shape), body.limit, body.offset)

    @app.get("/query", summary="Run one read-only SQL query given in the URL (?sql=...&params=[...])")
    async def query_get(sql: str, params: str | None = Query(None, description="JSON list or object of bound values"),
                        format: FormatName = "json", shape: ShapeName = SHAPE,
                        limit: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                        offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Response:
        try:
            values = json.loads(params) if params else None
        except ValueError:
            raise errors.ApiError(400, "params must be a JSON list or object") from None
        if values is not None and not isinstance(values, (list, dict)):
            raise errors.ApiError(400, "params must be a JSON list or object")
        return await run_sql(sql, values, _fmt(format, shape), limit, offset)

    @app.get("/snapshots", summary="Snapshots with their view, parameters, versions and row count")
    def list_snapshots() -> dict:
        return {"snapshots": [s.as_dict() for s in state.read(snapshots.list_snapshots)]}

    @app.get("/snapshots/{name}", summary="One snapshot's record")
    def show_snapshot(name: str) -> dict:
        return state.read(snapshots.get, name).as_dict()

    @app.get("/snapshots/{name}/rows", summary="A snapshot's frozen rows")
    def snapshot_rows(name: str, format: FormatName = "json", shape: ShapeName = SHAPE,
                      limit: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                      offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Response:
        return state.respond(Sql(*state.read(snapshots.rows_query, name)), _fmt(format, shape), limit, offset)

    @app.get("/snapshots/{before}/diff/{after}", summary="Rows that entered, left or changed between two snapshots")
    def diff(before: str, after: str, format: FormatName = "json", shape: ShapeName = SHAPE,
             limit: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
             offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Response:
        return state.respond(Sql(*state.read(snapshots.diff_query, before, after)), _fmt(format, shape), limit, offset)

    @app.get("/images/{image_id}", summary="The original image file", response_class=FileResponse)
    def image(image_id: Id) -> FileResponse:
        path = state.read(images.image_path, settings.database, image_id)
        return FileResponse(path, media_type=images.media_type(path))

    @app.get("/images/{image_id}/thumbnail", summary="A JPEG thumbnail (longest side `size` pixels)")
    def thumbnail(image_id: Id, size: Annotated[int | None, Query(ge=8, le=4096)] = None) -> Response:
        path = state.read(images.image_path, settings.database, image_id)
        data = images.thumbnail(path, image_id, size or settings.thumbnail_size)
        return Response(data, media_type="image/jpeg")

    @app.get("/labels/{label_id}/crop", summary="A label's box with a margin, as JPEG")
    def label_crop(label_id: Id, margin: Annotated[float, Query(ge=0, le=10)] = 0.1,
                   size: Annotated[int | None, Query(ge=8, le=4096)] = None) -> Response:
        data = state.read(images.crop, settings.database, label_id, margin, size)
        return Response(data, media_type="image/jpeg")

    app.include_router(gallery.router)
    checks.mount(app)
    if settings.allow_writes:
        from .writes import router

        app.include_router(router)
    else:
        _refuse_writes(app)
    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn worker processes (`--workers` > 1): settings come from the file the
    environment names; each worker puts itself under the memory ceiling."""
    from .memory import limit_process

    settings = Settings.from_environment()
    limit_process(settings.max_memory)
    return create_app(settings)
