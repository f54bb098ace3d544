"""Semantic segmentation predictions: a folder of class-index PNGs, one per image (`qmdb.importers.semantic`).

The PNG of an image has its path with the suffix `.png` (`a/b.jpg` → `a/b.png`,
relative to `source`) or, failing that, the same file stem. Pixel values are
class indices of a `classes.json`/`classes.csv` inside `source` when there is
one, else of the dataset's class ids (`classes.class_id`); 255 is ignored.
Each (image, class predicted) is one prediction row holding that class's
COCO RLE, area and box; a class-index PNG is a hard decision, so its score is 1.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import duckdb
import numpy as np
import pyarrow as pa

from ...errors import InputError
from ..semantic import encode_masks, find_class_map, read_class_map
from .store import PredictionBatch, dataset_exists, owner_by_path_or_stem


def _owners(files: list[str], images: list[tuple]) -> list:
    by_path = {str(PurePosixPath(p).with_suffix(".png")): k for k, (_, p, _, _) in enumerate(images)}
    return owner_by_path_or_stem(files, by_path, [(p, k) for k, (_, p, _, _) in enumerate(images)])


def read(con: duckdb.DuckDBPyConnection, source: str | Path, *, model: str, dataset: str,
         root: str | Path | None = None) -> PredictionBatch:
    folder = Path(source)
    if not folder.is_dir():
        raise InputError(folder, None, "expected a folder of class-index PNGs")
    dataset_exists(con, dataset, folder)
    own_map = find_class_map(folder, required=False)
    if own_map is not None:
        classes = read_class_map(own_map)
    else:
        classes = dict(con.execute("SELECT class_id, class FROM classes WHERE dataset = ? ORDER BY class_id",
                                   [dataset]).fetchall())
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png"))
    images = con.execute("SELECT image_id, path, width, height FROM images WHERE dataset = ? ORDER BY image_id",
                         [dataset]).fetchall()
    owners = _owners(files, images)
    for name, owner in zip(files, owners):
        if owner is None:
            raise InputError(folder / name, None, f"no image of dataset '{dataset}' matches this file")
        if images[owner][2] is None or images[owner][3] is None:
            raise InputError(folder / name, None, "its image's size is unknown (missing or unreadable image)")
    rows = encode_masks([folder / n for n in files], [(images[k][3], images[k][2]) for k in owners], classes)
    owner = np.array(owners, np.int64)[rows["row"].to_numpy()] if files else np.zeros(0, np.int64)
    ids = np.array([images[k][0] for k in owner], np.int64)
    table = pa.table({"key": pa.array(ids.astype(str), pa.string()), "class": rows["class"],
                      "score": np.ones(rows.num_rows), "x": rows["x"], "y": rows["y"], "w": rows["w"], "h": rows["h"],
                      "mask": rows["mask"], "area": rows["area"], "source_id": rows["source_id"]})
    return PredictionBatch(model, dataset, "semantic", str(folder.resolve()), "semantic", "image_id", table,
                           lambda i: (folder / files[rows["row"][i].as_py()], "class " + rows["source_id"][i].as_py()))
