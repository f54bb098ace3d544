"""Semantic segmentation predictions: per image a class-index PNG or a probability file (`qmdb.importers.semantic`).

The file of an image has its path with the suffix `.png`, `.npy` or `.npz`
(`a/b.jpg` → `a/b.png`, relative to `source`) or, failing that, the same file
stem; one file per image. Classes are those of a `classes.json`/`classes.csv`
inside `source` when there is one, else the dataset's class ids
(`classes.class_id`). A PNG's pixel values are class indices (255 is
ignored), a hard decision: score 1. A `.npy`/`.npz` holds the (K, H, W) class
probabilities (`semantic_probs`): the argmax is the mask, the score the mean
probability of the class over its pixels, and the import also finds the
pixel label issues of the dataset's labels (`semantic_pixel_issues`).
Each (image, class predicted) is one prediction row holding that class's
COCO RLE, area and box.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import duckdb
import numpy as np
import pyarrow as pa

from ...errors import InputError
from ..semantic import encode_masks, find_class_map, read_class_map
from . import semantic_probs
from .store import PredictionBatch, dataset_exists, owner_by_path_or_stem

SUFFIXES = (".png", *semantic_probs.SUFFIXES)


def _owners(files: list[str], images: list[tuple]) -> list:
    by_path = {str(PurePosixPath(p).with_suffix(s)): k for k, (_, p, _, _) in enumerate(images) for s in SUFFIXES}
    return owner_by_path_or_stem(files, by_path, [(p, k) for k, (_, p, _, _) in enumerate(images)])


def _check_owners(folder: Path, files: list[str], owners: list, images: list[tuple], dataset: str) -> None:
    first: dict[int, str] = {}
    for name, owner in zip(files, owners):
        if owner is None:
            raise InputError(folder / name, None, f"no image of dataset '{dataset}' matches this file")
        if images[owner][2] is None or images[owner][3] is None:
            raise InputError(folder / name, None, "its image's size is unknown (missing or unreadable image)")
        if owner in first:
            raise InputError(folder / name, None, f"image {images[owner][1]} already has the prediction file "
                             f"{first[owner]}; keep one")
        first[owner] = name


def read(con: duckdb.DuckDBPyConnection, source: str | Path, *, model: str, dataset: str,
         root: str | Path | None = None) -> PredictionBatch:
    folder = Path(source)
    if not folder.is_dir():
        raise InputError(folder, None, "expected a folder of class-index PNGs or probability files")
    dataset_exists(con, dataset, folder)
    own_map = find_class_map(folder, required=False)
    if own_map is not None:
        classes = read_class_map(own_map)
    else:
        classes = dict(con.execute("SELECT class_id, class FROM classes WHERE dataset = ? ORDER BY class_id",
                                   [dataset]).fetchall())
    files = sorted(p.relative_to(folder).as_posix() for s in SUFFIXES for p in folder.rglob(f"*{s}"))
    images = con.execute("SELECT image_id, path, width, height FROM images WHERE dataset = ? ORDER BY image_id",
                         [dataset]).fetchall()
    owners = _owners(files, images)
    _check_owners(folder, files, owners, images, dataset)
    hard = [k for k, name in enumerate(files) if name.endswith(".png")]
    soft = sorted((k for k, name in enumerate(files) if not name.endswith(".png")), key=lambda k: owners[k])
    rows = encode_masks([folder / files[k] for k in hard], [(images[owners[k]][3], images[owners[k]][2]) for k in hard],
                        classes)
    rows = rows.set_column(0, "row", pa.array(np.array(hard, np.int64)[rows["row"].to_numpy()], pa.int64()))
    rows = rows.append_column("score", pa.array(np.ones(rows.num_rows)))
    probs = semantic_probs.read(con, dataset, [folder / files[k] for k in soft], soft,
                                [images[owners[k]] for k in soft], classes, own_map or folder)
    rows = pa.concat_tables([rows, probs.rows.select(rows.column_names)])
    ids = np.array([images[k][0] for k in owners], np.int64)[rows["row"].to_numpy()]
    table = pa.table({"key": pa.array(ids.astype(str), pa.string()), "class": rows["class"], "score": rows["score"],
                      "x": rows["x"], "y": rows["y"], "w": rows["w"], "h": rows["h"],
                      "mask": rows["mask"], "area": rows["area"], "source_id": rows["source_id"]})
    return PredictionBatch(model, dataset, "semantic", str(folder.resolve()), "semantic", "image_id", table,
                           lambda i: (folder / files[rows["row"][i].as_py()], "class " + rows["source_id"][i].as_py()),
                           also=probs.writer(model))
