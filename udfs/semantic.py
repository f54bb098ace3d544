"""Pixel counts between two masks, for semantic segmentation evaluation (`eval_semantic*` views).

`mask_intersection(a, b)` is the number of pixels two stored masks (COCO RLE
structs of one image) share: pycocotools' `merge(..., intersect=True)` and
`area` on the RLE, never decoding to pixels. NULL when either is NULL; masks of
different sizes share no pixel.

`mask_iou(a, b)` is their intersection over union, pycocotools' `iou` with
`iscrowd=0` (the `errors_*_masks` views): 0 for masks of different sizes or two
empty masks, NULL when either is NULL.

    SELECT mask_intersection(l.mask, p.mask), mask_iou(l.mask, p.mask) FROM labels l JOIN predictions p USING (image_id);

>>> from pycocotools import mask as api
>>> import numpy as np
>>> a = api.encode(np.asfortranarray(np.eye(4, dtype=np.uint8))); b = api.encode(np.asfortranarray(np.ones((4, 4), np.uint8)))
>>> to_struct = lambda r: {"size": list(r["size"]), "counts": r["counts"].decode()}
>>> intersections(pa.array([to_struct(a), None]), pa.array([to_struct(b), to_struct(b)])).to_pylist()
[4, None]
>>> ious(pa.array([to_struct(a), to_struct(a)]), pa.array([to_struct(b), None])).to_pylist()
[0.25, None]
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..importers.masks import mask_api, to_rles
from .mask_registry import MASK_SQL_TYPE


def intersections(a: pa.Array, b: pa.Array) -> pa.Array:
    """Shared pixels of each pair of masks (an Arrow batch of each)."""
    api = mask_api("mask_intersection")
    out = []
    for x, y in zip(to_rles(a.to_pylist()), to_rles(b.to_pylist())):
        if x is None or y is None:
            out.append(None)
        elif list(x["size"]) != list(y["size"]):
            out.append(0)
        else:
            out.append(int(api.area(api.merge([x, y], intersect=True))))
    return pa.array(out, pa.int64())


def ious(a: pa.Array, b: pa.Array) -> pa.Array:
    """Mask IoU of each pair of masks (an Arrow batch of each): pycocotools' `iou`, not crowd.

    One `iou` call per distinct first mask, against all the masks it is paired with in the batch
    (a label joined to its image's predictions is one call, not one per pair)."""
    api = mask_api("mask_iou")
    a, b = (x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x for x in (a, b))
    out = np.zeros(len(a))
    valid = np.asarray(pc.and_(a.is_valid(), b.is_valid()).to_numpy(zero_copy_only=False))
    groups: dict[tuple, list[int]] = {}
    a_counts, b_counts = a.field("counts").to_pylist(), b.field("counts").to_pylist()
    a_sizes, b_sizes = a.field("size").to_pylist(), b.field("size").to_pylist()
    for i in np.flatnonzero(valid):
        if a_sizes[i] == b_sizes[i]:                     # masks of different sizes share no pixel: 0
            groups.setdefault((a_counts[i], *a_sizes[i]), []).append(i)
    for (counts, h, w), rows in groups.items():
        gt = [{"size": [h, w], "counts": counts.encode("ascii")}]
        dt = [{"size": [h, w], "counts": b_counts[i].encode("ascii")} for i in rows]
        out[rows] = np.asarray(api.iou(dt, gt, [0])).reshape(-1)
    return pa.array(out, pa.float64(), mask=~valid)


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Define `mask_intersection(mask, mask) -> BIGINT` and `mask_iou(mask, mask) -> DOUBLE` on `con`
    (a `qmdb.functions` provider)."""
    from ..functions import define

    mask = duckdb.sqltype(MASK_SQL_TYPE)
    define(con, "mask_intersection", intersections, [mask, mask], duckdb.sqltype("BIGINT"), type="arrow",
           null_handling="special", side_effects=False)
    define(con, "mask_iou", ious, [mask, mask], duckdb.sqltype("DOUBLE"), type="arrow",
           null_handling="special", side_effects=False)
