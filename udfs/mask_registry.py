"""Mask metrics: `@mask_metric` turns a function of one decoded mask into a SQL function and a column.

A mask metric is ``f(item) -> value`` where ``item`` is a `MaskItem`: the
label's mask decoded from its COCO RLE (an H×W uint8 array of 0/1) and its box.
The decorator enforces the contract of `@label_metric` (a lower_snake_case
name, a positive version, an SQL type, a docstring whose first line says what
it measures, a unit) and builds on its `Metric` record, with kind "mask".

Each metric is a SQL function of the stored mask, pure (no file is read):
``name(mask)``, or ``name(mask, x, y, w, h)`` for one that needs the box
(`box=True`), vectorized over Arrow batches. `register(con)` defines them.
`compute_mask_metrics(con)` materializes them into `mask_metrics` (one row per
label with a mask, a column per metric, `versions` per metric, `mask_hash` of
the mask and box it read): a label is recomputed when its mask or box changed
or its row lacks a metric's current version, never otherwise.

    SELECT label_id, mask_area(mask), mask_fill(mask, x, y, w, h) FROM labels WHERE mask IS NOT NULL;
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import QmdbError
from .registry import _NAME, RESERVED, TYPES, Metric

MODULES = ("qmdb.udfs.mask_metrics",)   # the built-in mask metrics
MASK_SQL_TYPE = "STRUCT(size INTEGER[], counts VARCHAR)"
_ARROW = {"DOUBLE": pa.float64(), "INTEGER": pa.int32(), "BIGINT": pa.int64(), "BOOLEAN": pa.bool_()}
_REGISTRY: dict[str, tuple[Metric, bool]] = {}
# what a mask metric reads: the mask and the box (a changed box recomputes the box metrics)
_HASH = "md5(concat_ws('/', l.mask.counts, l.mask.size[1], l.mask.size[2], l.x, l.y, l.w, l.h))"


@dataclass
class MaskItem:
    """One label's decoded mask (H×W uint8, 1 inside) and its box x, y, w, h (NaN without one)."""

    mask: np.ndarray
    box: np.ndarray


def mask_metric(*, version: int, type: str = "DOUBLE", unit: str = "", name: str | None = None,
                box: bool = False) -> Callable[[Callable], Callable]:
    """Register ``f(item: MaskItem) -> value`` as a mask metric: a column of `mask_metrics` and a SQL
    function ``name(mask)`` (``name(mask, x, y, w, h)`` with ``box=True``)."""

    def register(function: Callable) -> Callable:
        metric_name = name or function.__name__
        where = f"mask metric '{metric_name}'"
        if not _NAME.match(metric_name) or metric_name in RESERVED:
            raise QmdbError(f"{where}: the name must be lower_snake_case and not one of {sorted(RESERVED)}")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise QmdbError(f"{where}: version must be a positive integer, got {version!r}")
        if type.upper() not in TYPES or type.upper() not in _ARROW:
            raise QmdbError(f"{where}: type must be one of {', '.join(_ARROW)}, got {type!r}")
        doc = (function.__doc__ or "").strip()
        if not doc:
            raise QmdbError(f"{where}: needs a docstring whose first line says what it measures")
        _REGISTRY[metric_name] = (Metric(metric_name, "mask", version, type.upper(), function,
                                         doc.splitlines()[0].strip(), unit, metric_name), box)
        return function

    return register


def mask_metrics() -> list[tuple[Metric, bool]]:
    """(metric, needs the box) of every registered mask metric, built-ins first."""
    for module in MODULES:
        importlib.import_module(module)
    return list(_REGISTRY.values())


def _decode(masks: list[dict | None]) -> list[np.ndarray | None]:
    from ..importers.masks import mask_api, to_rles

    api = mask_api("mask metrics")
    return [None if r is None else api.decode(r) for r in to_rles(masks)]


def values(metric: Metric, masks: list[dict | None], boxes: np.ndarray) -> pa.Array:
    """The metric of each mask (NULL for a NULL mask or a NaN result)."""
    out = [None if m is None else metric.function(MaskItem(m, b)) for m, b in zip(_decode(masks), boxes)]
    out = [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in out]
    return pa.array(out, _ARROW[metric.type])


def _udf(metric: Metric, box: bool) -> Callable:
    def boxed(mask: pa.Array, x: pa.Array, y: pa.Array, w: pa.Array, h: pa.Array) -> pa.Array:
        boxes = np.stack([np.asarray(c.to_numpy(zero_copy_only=False), float) for c in (x, y, w, h)], axis=1)
        return values(metric, mask.to_pylist(), boxes)

    def alone(mask: pa.Array) -> pa.Array:
        return values(metric, mask.to_pylist(), np.full((len(mask), 4), np.nan))

    return boxed if box else alone


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Define every mask metric as a SQL function on `con` (a `qmdb.functions` provider's `register`)."""
    from ..functions import define

    mask_type = duckdb.sqltype(MASK_SQL_TYPE)
    for metric, box in mask_metrics():
        parameters = [mask_type] + ([duckdb.sqltype("DOUBLE")] * 4 if box else [])
        define(con, metric.name, _udf(metric, box), parameters, duckdb.sqltype(metric.type), type="arrow",
               null_handling="special", side_effects=False)


def compute_mask_metrics(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> int:
    """Fill `mask_metrics` for the labels with a mask that lack a metric at its current version (all of
    them with `force`), in one transaction; returns how many labels were (re)computed."""
    from ..schema import add_columns
    from ..transaction import registered, transaction

    metrics = mask_metrics()
    current = {m.name: m.version for m, _ in metrics}
    add_columns(con, "mask_metrics", {m.name: m.type for m, _ in metrics})
    where = "l.mask IS NOT NULL"
    if not force:
        fresh = " AND ".join(f"coalesce(mm.versions['{n}'] = {v}, false)" for n, v in current.items())
        where += f" AND (mm.label_id IS NULL OR mm.mask_hash IS DISTINCT FROM {_HASH} OR NOT ({fresh}))"
    todo = con.sql(f"SELECT l.label_id, l.mask, l.x, l.y, l.w, l.h, {_HASH} AS mask_hash FROM labels l "
                   f"LEFT JOIN mask_metrics mm USING (label_id) WHERE {where} ORDER BY l.label_id").to_arrow_table()
    gone = "label_id NOT IN (SELECT label_id FROM labels WHERE mask IS NOT NULL)"
    if todo.num_rows == 0:
        con.execute(f"DELETE FROM mask_metrics WHERE {gone}")
        return 0
    masks = todo["mask"].to_pylist()
    boxes = np.stack([todo[c].to_numpy(zero_copy_only=False).astype(float) for c in "xywh"], axis=1)
    columns = {m.name: values(m, masks, boxes if box else np.full_like(boxes, np.nan)) for m, box in metrics}
    keys = pa.array([list(current)] * todo.num_rows, pa.list_(pa.string()))
    vals = pa.array([list(current.values())] * todo.num_rows, pa.list_(pa.int32()))
    rows = pa.table({"label_id": todo["label_id"], "mask_hash": todo["mask_hash"], "_keys": keys, "_vals": vals, **columns})
    names = ", ".join(f'"{n}"' for n in columns)
    with transaction(con), registered(con, _qmdb_mask_rows=rows):
        con.execute(f"DELETE FROM mask_metrics WHERE {gone} OR label_id IN (SELECT label_id FROM _qmdb_mask_rows)")
        con.execute(f"INSERT INTO mask_metrics (label_id, mask_hash, versions, {names}) "
                    f"SELECT label_id, mask_hash, map(_keys, _vals), {names} FROM _qmdb_mask_rows")
    return todo.num_rows
