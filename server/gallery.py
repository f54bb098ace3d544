"""The gallery page (`GET /gallery`), its static files, the cards of one page of a view or query
(`POST /gallery/items`, paged by cursor: `server.pages`), what the page opens on (`GET /gallery/start`), plots as SVG (`GET /gallery/plots/{kind}.svg`), and the points of the
embedding map view (`GET /gallery/map`, `qmdb.gallery.map_points`), and the map's lasso selection
written as tags (`POST /gallery/tags`: a write route, on `server.writes.router` with `POST /tags`, so it is
mounted only with --allow-writes and needs the write token; a read-only server refuses it with the
other write routes, `server.app.READ_ONLY_WRITES`).

Queries take the same path as `/query` and `/views/{name}/rows` (safety check, timeout, row cap);
the boxes of each card come from one trusted query over `labels` and `predictions`
(`qmdb.gallery.annotate`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from qmdb.errors import QmdbError
from qmdb.gallery import annotate

from .errors import ApiError
from .limits import check_view_params
from .pages import gallery_page
from .execution import Query as Sql
from .execution import dumps
from .writes import _write
from .writes import router as write_router

STATIC = Path(__file__).parent / "static"
MEDIA = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}

router = APIRouter(tags=["gallery"])


class ItemsRequest(BaseModel):
    view: str | None = Field(None, description="a view's name (or give `sql`)")
    params: dict[str, Any] = Field(default_factory=dict, description="the view's parameters")
    sql: str | None = Field(None, description="a read-only query (when no view is given)")
    limit: int = Field(24, ge=1, le=500, description="cards per page")
    offset: int = Field(0, ge=0, le=2**63 - 1, description="start at this row (a link to a page); later pages by `cursor`")
    cursor: str | None = Field(None, max_length=65_536, description="the `next_cursor` of the previous page")
    min_score: float = Field(0.5, ge=0, le=1, description="draw predictions scoring at least this")
    model: str | None = Field(None, description="draw only this model's predictions")


@router.get("/gallery", summary="The gallery page (HTML)", response_class=FileResponse)
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/gallery/static/{name}", summary="The gallery's own JS and CSS", response_class=FileResponse)
def static(name: str) -> FileResponse:
    files = {p.name: p for p in STATIC.iterdir() if p.suffix in MEDIA}
    if name not in files:
        raise ApiError(404, f"no static file named '{name}'")
    return FileResponse(files[name], media_type=MEDIA[files[name].suffix])


@router.get("/gallery/config", summary="What the page needs: database name, writes allowed, plot kinds")
def config(request: Request) -> dict:
    state = request.app.state.qmdb
    from qmdb.plots import plots as plot_kinds

    try:
        import matplotlib  # noqa: F401 - the 'plot' extra draws them
        plots = {kind: plot.as_dict() for kind, plot in plot_kinds().items()}
    except ImportError:
        plots = {}
    return {"database": state.settings.database.name, "writable": state.settings.allow_writes, "plots": plots}


@router.get("/gallery/start", summary="What the page opens on when its URL names no view")
def start(request: Request) -> Response:
    """`{tab, view, summary}` (`qmdb.gallery.opening`): the map tab when an embedding map is stored, else
    the first label-error view with rows (None: the images query), and the `dataset_summary` rows."""
    from qmdb.gallery.opening import opening

    try:
        result = request.app.state.qmdb.timed(opening)
    except (QmdbError, duckdb.Error) as error:
        raise ApiError(400, f"start: {str(error).splitlines()[0]}") from None
    return Response(dumps(result), media_type="application/json")


@router.post("/gallery/items", summary="One page of a view or query, with each row's image and boxes")
def items(request: Request, body: ItemsRequest) -> Response:
    state = request.app.state.qmdb
    if body.view:
        check_view_params(body.view, body.params)
        view = state.view(body.view)
        query, order_sql = Sql(*view.call_sql(body.params)), view.sql
        inline = view.inline_sql(body.params) if view.params else (view.sql, [])
        same_rows = Sql(*inline) if inline else None
    elif body.sql:
        state.check(body.sql)
        query, order_sql, same_rows = Sql(body.sql, None), body.sql, Sql(body.sql, None)
    else:
        raise ApiError(400, "give a view's name or a query (sql)")
    result = gallery_page(state.runner, query, order_sql, body.limit, body.offset, body.cursor,
                          body=same_rows)
    names = [c["name"] for c in result["columns"]]
    try:
        result["items"] = state.timed(lambda cursor: annotate(cursor, names, result["rows"],
                                                             min_score=body.min_score, model=body.model))
    except duckdb.Error as error:
        raise ApiError(400, f"the result's image_id, label_id and prediction_id columns must hold integer ids: "
                            f"{str(error).splitlines()[0]}") from None
    return Response(dumps(result), media_type="application/json")


@router.get("/gallery/plots/{kind}.svg", summary="A plot as SVG; its parameters are query parameters")
def plot(request: Request, kind: str) -> Response:
    state = request.app.state.qmdb
    from qmdb.errors import MissingExtra
    from qmdb.plots import draw

    given = dict(request.query_params)
    try:
        data = state.timed(lambda cursor: draw(cursor, kind, None, "svg", **given))
    except MissingExtra as error:
        raise ApiError(501, str(error)) from None
    except (QmdbError, ValueError, TypeError, duckdb.Error) as error:
        raise ApiError(400, f"plot {kind}: {str(error).splitlines()[0] if str(error) else type(error).__name__}") from None
    return Response(data, media_type="image/svg+xml")


@router.get("/gallery/map", summary="The embedding map's points, each with a colour value from any column")
def map_view(request: Request, embedding_model: str | None = None, item_type: str = "image", by: str = "class",
             method: str = "auto") -> Response:
    """`{model, item_type, method, by, kind, points: [[item_id, image_id, x, y, value]], options}`: the stored
    layout of the model's vectors (or one computed now, not stored), coloured by `by` (one of `options`)."""
    from qmdb.gallery.map_points import colour_options, map_points

    state = request.app.state.qmdb

    def read(cursor: duckdb.DuckDBPyConnection) -> dict:
        return {**map_points(cursor, embedding_model, item_type, by, method), "options": colour_options(cursor)}

    try:
        result = state.timed(read)
    except (QmdbError, ValueError) as error:
        raise ApiError(400, str(error)) from None
    except duckdb.Error as error:
        raise ApiError(400, f"map: {str(error).splitlines()[0]}") from None
    return Response(dumps(result), media_type="application/json")


class SelectionTags(BaseModel):
    item_type: str = Field("image", description="image, label or prediction")
    item_ids: list[int] = Field(min_length=1, max_length=1_000_000, description="the selected items")
    tag: str
    author: str | None = "gallery-map"
    note: str | None = None


@write_router.post("/gallery/tags", status_code=201,
                   summary="Tag every item of a selection (the map's lasso) in one transaction")
def tag_selection(request: Request, body: SelectionTags) -> dict:
    from qmdb.gallery.selection import tag_items

    tag_ids = _write(request, tag_items, body.item_type, body.item_ids, body.tag, body.author, body.note)
    return {"tagged": len(tag_ids), "tag_ids": tag_ids}
