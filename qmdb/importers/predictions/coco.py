"""COCO results JSON: a list of {image_id, category_id, bbox, score} (optionally id, segmentation).

`image_id` is the COCO image id (`images.source_id` of the dataset) and
`category_id` a class id of the dataset (`classes.class_id`). A prediction's
source id is its `id` when present, else its position in the list.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import InputError
from .. import fields as f
from ..coco import _polygons
from ..files import read_json
from .store import PredictionBatch, dataset_exists


def class_map(con: duckdb.DuckDBPyConnection, dataset: str) -> tuple[np.ndarray, pa.Array]:
    """The dataset's class ids (sorted) and their names."""
    rows = con.execute("SELECT class_id, class FROM classes WHERE dataset = ? ORDER BY class_id", [dataset]).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64), pa.array([r[1] for r in rows], pa.string())


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
    box = f.boxes(file, name, "bbox", f.values(items, file, name, "bbox"))
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
    rows = pa.table({
        "key": pc.cast(pa.array(image), pa.string()),
        "class": names.take(pa.array(np.searchsorted(ids, category))),
        "score": score, "x": box[:, 0], "y": box[:, 1], "w": box[:, 2], "h": box[:, 3],
        "polygon": _polygons(file, f.values(items, file, name, "segmentation", required=False), name),
        "source_id": source_id,
    })
    return PredictionBatch(model, dataset, "detection", str(file.resolve()), "coco results", "source_id", rows,
                           lambda i: (file, f"{name}[{i}].image_id"))
