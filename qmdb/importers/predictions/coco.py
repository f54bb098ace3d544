"""COCO results JSON: a list of {image_id, category_id, bbox, score} (optionally id, segmentation, keypoints).

`image_id` is the COCO image id (`images.source_id` of the dataset) and
`category_id` a class id of the dataset (`classes.class_id`). A prediction's
source id is its `id` when present, else its position in the list. A
`segmentation` (RLE or polygons, as in COCO's segm results) is stored as the
`mask`, `keypoints` (x, y, score triplets, as many as the category names) as
`keypoints`. `bbox` may then be absent, and `area` is as pycocotools' `loadRes`
makes it: the box's w·h where a `bbox` is given, else the mask's area (box:
`toBbox`), else the keypoints' extent (box: their bounds).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import InputError
from .. import fields as f
from ..masks import encode, keypoints
from ..files import read_json
from ...transaction import registered
from .store import PredictionBatch, dataset_exists


def class_map(con: duckdb.DuckDBPyConnection, dataset: str) -> tuple[np.ndarray, pa.Array]:
    """The dataset's class ids (sorted) and their names."""
    rows = con.execute("SELECT class_id, class FROM classes WHERE dataset = ? ORDER BY class_id", [dataset]).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64), pa.array([r[1] for r in rows], pa.string())


def image_sizes(con: duckdb.DuckDBPyConnection, dataset: str, keys: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Height and width (NaN: unknown) of the dataset image with each source id."""
    with registered(con, _qmdb_keys=pa.table({"key": keys, "row": np.arange(len(keys))})):
        t = con.sql("SELECT k.row, i.height::DOUBLE AS h, i.width::DOUBLE AS w FROM _qmdb_keys k LEFT JOIN images i "
                    "ON i.dataset = $dataset AND i.source_id = k.key ORDER BY k.row", params={"dataset": dataset}).to_arrow_table()
    fill = lambda c: pc.fill_null(t[c], np.nan).to_numpy()  # noqa: E731
    return fill("h"), fill("w")


def keypoint_counts(con: duckdb.DuckDBPyConnection, dataset: str) -> np.ndarray:
    """Per class of `class_map` (by class id): how many keypoints its category names (-1: none named)."""
    rows = con.execute("SELECT coalesce(len(keypoints), -1) FROM classes WHERE dataset = ? ORDER BY class_id",
                       [dataset]).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64)


def _keypoint_boxes(points: list) -> np.ndarray:
    """loadRes's box of keypoint results: the bounds of all their x and y (NaN without keypoints)."""
    out = np.full((len(points), 4), np.nan)
    for i, kp in enumerate(points):
        if kp:
            x, y = np.asarray(kp[0::3], float), np.asarray(kp[1::3], float)
            out[i] = [x.min(), y.min(), x.max() - x.min(), y.max() - y.min()]
    return out


def read(con: duckdb.DuckDBPyConnection, source: str | Path, *, model: str, dataset: str,
         root: str | Path | None = None) -> PredictionBatch:
    file = Path(source)
    items = f.objects(file, read_json(file, list, "a list of COCO results"), "results")
    dataset_exists(con, dataset, file)
    name = "results"
    image = f.ints(file, name, "image_id", f.values(items, file, name, "image_id"))
    category = f.ints(file, name, "category_id", f.values(items, file, name, "category_id"))
    ids, names = class_map(con, dataset)
    f.members(file, name, "category_id", category, ids, f"category id (dataset '{dataset}' has {ids.tolist()})")
    given = f.values(items, file, name, "bbox", required=False)
    segs = f.values(items, file, name, "segmentation", required=False)
    points = f.values(items, file, name, "keypoints", required=False)
    for i, (b, sg, kp) in enumerate(zip(given, segs, points)):
        if b is None and sg in (None, []) and kp is None:
            raise InputError(file, f"{name}[{i}].bbox", "required field is missing (no segmentation or keypoints either)")
    box = f.boxes(file, name, "bbox", given)
    score = f.numbers(file, name, "score", f.values(items, file, name, "score"))
    if not ((score >= 0) & (score <= 1)).all():
        i = int(np.argmax(~((score >= 0) & (score <= 1))))
        raise InputError(file, f"{name}[{i}].score", f"expected a score in [0, 1], got {items[i]['score']!r}")
    own = f.values(items, file, name, "id", required=False)
    if all(v is None for v in own):
        source_id = pa.array(np.arange(len(items)).astype(str), pa.string())
    else:
        own_ids = f.ints(file, name, "id", f.values(items, file, name, "id"))
        f.unique(file, name, "id", own_ids)
        source_id = pc.cast(pa.array(own_ids), pa.string())
    key = pc.cast(pa.array(image), pa.string())
    height, width = image_sizes(con, dataset, key)
    masks = encode(file, name, segs, height, width)
    cat_index = np.searchsorted(ids, category)
    expected = keypoint_counts(con, dataset)[cat_index] if len(items) else np.zeros(0, np.int64)
    kp, _ = keypoints(file, name, points, expected)
    area = box[:, 2] * box[:, 3]
    boxless = np.isnan(box[:, 0])
    area = np.where(boxless, masks.area, area)
    box = np.where(boxless[:, None], masks.box, box)
    extent = _keypoint_boxes(points)
    still = np.isnan(box[:, 0])
    area = np.where(still, extent[:, 2] * extent[:, 3], area)
    box = np.where(still[:, None], extent, box)
    rows = pa.table({
        "key": key,
        "class": names.take(pa.array(cat_index)),
        "score": score, "x": box[:, 0], "y": box[:, 1], "w": box[:, 2], "h": box[:, 3],
        "polygon": masks.polygon, "mask": masks.mask_array(), "keypoints": kp, "area": area,
        "source_id": source_id,
    })
    return PredictionBatch(model, dataset, "detection", str(file.resolve()), "coco results", "source_id", rows,
                           lambda i: (file, f"{name}[{i}].image_id"))
