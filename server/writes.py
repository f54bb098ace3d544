"""Write endpoints: save or delete a view, add a tag, take or delete a snapshot, accept or reject
what a label-error view suggests (`POST /fix`, as `qmdb fix`), undo a batch of label changes.

Mounted only when the server starts with `--allow-writes --token T`; every call
needs `Authorization: Bearer T`. Writes are serialized, each on its own cursor
in its own transaction. A view saved over HTTP passes the same safety check as
a query (no file-reading function), then qmdb's save-time check.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from qmdb import snapshots, views
from qmdb.history import undo
from qmdb.history.fix import fix, suggestion
from qmdb.tags import tag

from .auth import accepted
from .errors import ApiError
from .safety import check

_LOCK = threading.Lock()
_SCHEME = HTTPBearer(auto_error=False, description="the token given with --token")


def require_write_token(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_SCHEME)) -> None:
    token = credentials.credentials if credentials else None
    if not accepted(token, [request.app.state.qmdb.settings.write_token]):
        raise ApiError(401, "writing needs 'Authorization: Bearer <token>' with the token the server was started with")


router = APIRouter(dependencies=[Depends(require_write_token)], tags=["writes"])


class ParamSpec(BaseModel):
    name: str
    type: str
    default: str = Field("NULL", description="a SQL literal")
    doc: str = ""


class SaveView(BaseModel):
    name: str
    sql: str
    description: str
    parameters: list[ParamSpec] = Field(default_factory=list)
    replace: bool = False


class NewTag(BaseModel):
    item_type: str = Field(description="image, label or prediction")
    item_id: int = Field(ge=0, le=2**63 - 1)
    tag: str
    author: str | None = None
    note: str | None = None


class NewSnapshot(BaseModel):
    view: str
    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    note: str | None = None
    replace: bool = False


class Fix(BaseModel):
    view: str = Field(description="errors_classification, errors_bad_boxes, errors_missing_labels or errors_duplicate_boxes")
    accept: str | None = Field(None, description="what to accept (default: what the view suggests)")
    where: str | None = Field(None, description="an SQL condition on the view's columns")
    min_score: float | None = Field(None, ge=0, le=1, description="only suggestions at least this confident")
    tag: str | None = Field(None, description="only items with this tag")
    params: dict[str, Any] = Field(default_factory=dict, description="the view's parameters")
    limit: int | None = Field(None, ge=1, le=1_000_000)
    author: str | None = None
    dry_run: bool = False
    reject: bool = Field(False, description="tag the items 'rejected' instead of changing labels")


class Undo(BaseModel):
    author: str | None = None


def _write(request: Request, function, *args, **kwargs):
    state = request.app.state.qmdb
    with _LOCK:
        cursor = state.runner.cursor()
        try:
            return function(cursor, *args, **kwargs)
        finally:
            cursor.close()
            state.refresh()


@router.post("/views", status_code=201, summary="Save a view (checked now: syntax, tables, columns, parameters)")
def save_view(request: Request, body: SaveView) -> dict:
    allowed = request.app.state.qmdb.checker.catalog
    check(body.sql, dataclasses.replace(allowed, relations=allowed.relations | {body.name}))
    for p in body.parameters:  # a default is SQL too: the same functions are refused in it
        check(f"SELECT ({p.default})", allowed)
    params = {p.name: (p.type, p.default) for p in body.parameters}
    view = _write(request, views.save, body.name, body.sql, body.description, params, replace=body.replace)
    return {"name": view.name, "saved": True}


@router.delete("/views/{name}", summary="Delete a saved view")
def delete_view(request: Request, name: str) -> dict:
    _write(request, views.delete, name)
    return {"name": name, "deleted": True}


@router.post("/tags", status_code=201, summary="Tag an image, a label or a prediction")
def add_tag(request: Request, body: NewTag) -> dict:
    tag_id = _write(request, tag, body.item_type, body.item_id, body.tag, body.author, body.note)
    return {"tag_id": tag_id}


@router.post("/snapshots", status_code=201, summary="Freeze a view's result as a snapshot")
def take_snapshot(request: Request, body: NewSnapshot) -> dict:
    taken = _write(request, snapshots.snapshot, body.view, body.name, params=body.params,
                   note=body.note, replace=body.replace)
    return taken.as_dict()


@router.delete("/snapshots/{name}", summary="Delete a snapshot")
def delete_snapshot(request: Request, name: str) -> dict:
    _write(request, snapshots.delete, name)
    return {"name": name, "deleted": True}


@router.post("/fix", summary="Accept (or reject) a label-error view's suggestions as one batch of label versions")
def apply_fix(request: Request, body: Fix) -> dict:
    suggestion(body.view, body.accept)
    if body.where:  # the condition passes the same safety check as a query over the view
        allowed = request.app.state.qmdb.checker.catalog
        check(f"SELECT * FROM {body.view} WHERE {body.where}", dataclasses.replace(allowed, relations=allowed.relations | {body.view}))
    result = _write(request, fix, body.view, body.accept, where=body.where, min_score=body.min_score, tag=body.tag,
                    params=body.params, limit=body.limit, author=body.author, dry_run=body.dry_run, reject=body.reject)
    return {"view": result.view, "batch_id": result.batch_id, "count": result.count, "rejected": result.rejected,
            "dry_run": body.dry_run, "changes": result.changes.to_pylist()}


@router.post("/batches/{batch_id}/undo", summary="Undo a batch of label changes (recorded as a new batch)")
def undo_batch(request: Request, batch_id: int, body: Undo | None = None) -> dict:
    done = _write(request, undo, batch_id, author=body.author if body else None)
    return {"batch_id": batch_id, "undone_by": done}
