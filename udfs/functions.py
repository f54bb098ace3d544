"""The metrics as ad hoc SQL functions, registered on every qmdb connection (a `qmdb.functions` provider).

Image metric ``m`` becomes ``m(file VARCHAR)`` and label metric ``m`` becomes
``m(file VARCHAR, x DOUBLE, y DOUBLE, w DOUBLE, h DOUBLE)``, where ``file`` is
an absolute path (or one relative to the working directory); ``image_file(image_id)``
gives an image's. They are vectorized Arrow UDFs: each batch decodes each
distinct file once, on a thread pool, and a file that cannot be read gives NULL.

    SELECT path, sharpness(image_file(image_id)) FROM images;
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from .. import functions
from . import registry, tables
from .boxes import Boxes
from .compute import image_values, label_values
from .pixels import DecodeError, read
from .registry import Metric

BOX = ["x", "y", "w", "h"]


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1), thread_name_prefix="qmdb-metric")


def _decode(file: str | None):
    try:
        return read(file) if file is not None else None
    except DecodeError:
        return None


def _image_udf(metric: Metric):
    def udf(files: pa.Array) -> pa.Array:
        paths = files.to_pylist()
        distinct = list(dict.fromkeys(p for p in paths if p is not None))

        def one(path):
            image = _decode(path)
            return None if image is None else image_values(image, [metric])[0][metric.name]

        results = dict(zip(distinct, _pool().map(one, distinct)))
        return pa.array([results.get(p) for p in paths], tables.ARROW_TYPES[metric.type], from_pandas=True)

    return udf


def _label_udf(metric: Metric):
    def udf(files: pa.Array, x: pa.Array, y: pa.Array, w: pa.Array, h: pa.Array) -> pa.Array:
        paths = np.asarray(files.to_pylist(), dtype=object)
        xywh = np.stack([pa.compute.cast(b, pa.float64()).to_numpy(zero_copy_only=False) for b in (x, y, w, h)], axis=1)
        out = np.full(len(paths), None, dtype=object)
        valid = np.array([p is not None for p in paths], dtype=bool)
        codes, firsts = np.unique(paths[valid].astype(str), return_inverse=True) if valid.any() else ([], [])
        rows_of = np.flatnonzero(valid)

        def one(k):
            image = _decode(codes[k])
            if image is None:
                return
            rows = rows_of[firsts == k]
            boxes = Boxes(xywh[rows], np.full(len(rows), None, dtype=object), image.width, image.height)
            values = label_values(image, boxes, [metric])[0][metric.name]
            out[rows] = [None if m else v.item() for v, m in zip(np.ma.getdata(values), np.ma.getmaskarray(values))]

        list(_pool().map(one, range(len(codes))))
        return pa.array(out.tolist(), tables.ARROW_TYPES[metric.type], from_pandas=True)

    return udf


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Define one SQL function per registered metric that has a SQL name."""
    for metric in registry.metrics():
        if metric.sql_name is None:
            continue
        if metric.kind == "image":
            udf, parameters = _image_udf(metric), [duckdb.sqltype("VARCHAR")]
        else:
            udf, parameters = _label_udf(metric), [duckdb.sqltype("VARCHAR")] + [duckdb.sqltype("DOUBLE")] * 4
        functions.define(con, metric.sql_name, udf, parameters, duckdb.sqltype(metric.type),
                         type="arrow", null_handling="special", side_effects=False)
