"""The metrics as ad hoc SQL functions, by id, registered on every qmdb connection (a `qmdb.functions`
provider) and on the server's.

Image metric ``m`` becomes ``m(image_id BIGINT)`` and label metric ``m`` becomes
``m(label_id BIGINT)``. The file is found inside qmdb, by the one path rule
(`image_location` over `images` and `datasets`), never given by the caller, so
no SQL can make these functions read a file of its choosing: the server
registers them too (`register_served`, which also refuses a file that leaves
its dataset's root). They are vectorized Arrow UDFs: each batch runs one lookup
query (on a cursor of an open connection to the same database: Python UDFs are
shared by every connection to a database, so the batch may come from any of
them), then decodes each distinct file once, on a thread pool. An unknown id or
a file that cannot be read gives NULL. The lookup sees committed rows.

    SELECT image_id, sharpness(image_id) FROM images;
    SELECT label_id, box_brightness(label_id) FROM labels;

For Python, `measure(file)` computes the image metrics of any file; it is not a SQL function.
"""

from __future__ import annotations

import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import functions
from ..images import contained
from . import registry, tables
from .boxes import Boxes
from .compute import image_values, label_values
from .pixels import DecodeError, read
from .registry import Metric

_IMAGES = """
SELECT q.image_id AS id, image_location(d.root, i.path) AS file, image_location(d.root, '') AS base
FROM (SELECT unnest($ids) AS image_id) q JOIN images i USING (image_id) JOIN datasets d ON d.name = i.dataset
"""
_LABELS = """
SELECT q.label_id AS id, image_location(d.root, i.path) AS file, image_location(d.root, '') AS base,
       l.class, l.x::DOUBLE AS x, l.y::DOUBLE AS y, l.w::DOUBLE AS w, l.h::DOUBLE AS h
FROM (SELECT unnest($ids) AS label_id) q JOIN labels l USING (label_id) JOIN images i USING (image_id)
JOIN datasets d ON d.name = i.dataset
"""


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1), thread_name_prefix="qmdb-metric")


class _Database:
    """The open connections to one database that registered the functions; a batch's lookup runs on a
    cursor of the first one still open."""

    def __init__(self) -> None:
        self.connections: weakref.WeakSet = weakref.WeakSet()

    def lookup(self, sql: str, ids: pa.Array) -> pa.Table:
        for con in list(self.connections):
            try:
                cursor = con.cursor()
            except duckdb.ConnectionException:
                self.connections.discard(con)
                continue
            try:
                return cursor.sql(sql, params={"ids": ids.to_pylist()}).to_arrow_table()
            finally:
                cursor.close()
        raise duckdb.ConnectionException("qmdb metric functions: no open qmdb connection to this database")


_DATABASES: dict[object, _Database] = {}


def _database(con: duckdb.DuckDBPyConnection) -> _Database:
    from ..database import database_file

    key = database_file(con) or ("memory", id(con))
    database = _DATABASES.setdefault(key, _Database())
    database.connections.add(con)
    return database


def _decode(file: str, base: str, served: bool):
    if served and not contained(file, base):
        return None
    try:
        return read(file)
    except DecodeError:
        return None


def _found(database: _Database, sql: str, ids: pa.Array) -> tuple[pa.Array, pa.Table]:
    """The ids as int64, and the lookup rows of the distinct ones that exist."""
    ids = pc.cast(ids, pa.int64())
    return ids, database.lookup(sql, pc.unique(ids.drop_null()))


def _align(per_row, ids: pa.Array, found: pa.Table, arrow_type: pa.DataType) -> pa.Array:
    """The values of the lookup rows, in the order of the batch's ids (NULL for an unknown or NULL id)."""
    if len(ids) == 0:
        return pa.array([], arrow_type)
    values = pc.take(per_row, pc.index_in(ids, found["id"]))
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _image_udf(metric: Metric, database: _Database, served: bool):
    arrow_type = tables.ARROW_TYPES[metric.type]

    def udf(image_ids: pa.Array) -> pa.Array:
        ids, found = _found(database, _IMAGES, image_ids)
        files = pc.unique(found["file"])
        bases = pc.take(found["base"], pc.index_in(files, found["file"]))

        def one(file, base):
            image = _decode(file, base, served)
            return None if image is None else image_values(image, [metric])[0][metric.name]

        values = pa.array(list(_pool().map(one, files.to_pylist(), bases.to_pylist())), arrow_type, from_pandas=True)
        per_row = pc.take(values, pc.index_in(found["file"], files))
        return _align(per_row, ids, found, arrow_type)

    return udf


def _label_udf(metric: Metric, database: _Database, served: bool):
    arrow_type = tables.ARROW_TYPES[metric.type]

    def udf(label_ids: pa.Array) -> pa.Array:
        ids, found = _found(database, _LABELS, label_ids)
        out = np.full(found.num_rows, None, dtype=object)
        files, image_of = np.unique(found["file"].to_numpy(zero_copy_only=False).astype(str), return_inverse=True)
        first = np.unique(image_of, return_index=True)[1]
        bases = found["base"].to_numpy(zero_copy_only=False)
        xywh = np.stack([found[c].to_numpy(zero_copy_only=False).astype(np.float64) for c in "xywh"], axis=1) \
            if found.num_rows else np.zeros((0, 4))
        classes = found["class"].to_numpy(zero_copy_only=False)

        def one(k):
            image = _decode(files[k], bases[first[k]], served)
            if image is None:
                return
            rows = np.flatnonzero(image_of == k)
            boxes = Boxes(xywh[rows], classes[rows], image.width, image.height)
            values = label_values(image, boxes, [metric])[0][metric.name]
            data = np.ma.getdata(values).astype(object)
            data[np.ma.getmaskarray(values)] = None
            out[rows] = data

        list(_pool().map(one, range(len(files))))
        return _align(pa.array(out, arrow_type, from_pandas=True), ids, found, arrow_type)

    return udf


def register(con: duckdb.DuckDBPyConnection, *, served: bool = False) -> None:
    """Define one SQL function per registered metric that has a SQL name, taking `image_id` (image
    metrics) or `label_id` (label metrics). ``served``: refuse (NULL) a file outside its dataset's root."""
    database = _database(con)
    defined = set()
    for metric in registry.metrics():
        if metric.sql_name is None:
            continue
        make = _image_udf if metric.kind == "image" else _label_udf
        functions.define(con, metric.sql_name, make(metric, database, served), [duckdb.sqltype("BIGINT")],
                         duckdb.sqltype(metric.type), type="arrow", null_handling="special", side_effects=False)
        defined.add((metric.kind, metric.name))
    _DEFINED[con] = frozenset(defined)


_DEFINED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # connection → (kind, name) it defines


def defines(con: duckdb.DuckDBPyConnection, metrics: list[Metric]) -> bool:
    """Whether `register` has defined every one of these metrics (those with a SQL name) on this
    connection already."""
    return {(m.kind, m.name) for m in metrics if m.sql_name} <= _DEFINED.get(con, frozenset())


def register_served(con: duckdb.DuckDBPyConnection) -> None:
    """`register` for the HTTP server's connection: a file that leaves its dataset's root gives NULL."""
    register(con, served=True)


def measure(file: str | Path, metrics: list[str] | None = None) -> dict[str, object]:
    """The image metrics (all, or those named) of any file, for Python users; NULLs (None) when it
    cannot be read. Not a SQL function: SQL names images by id."""
    try:
        image = read(file)
    except DecodeError:
        return {m.name: None for m in registry.metrics("image", metrics)}
    return image_values(image, registry.metrics("image", metrics))[0]
