"""YOLO predictions: a folder of txt files, one line `class cx cy w h confidence` per box
(or `class x1 y1 x2 y2 ... confidence` per polygon, as Ultralytics' segmentation models save them).

A txt file belongs to the dataset image with the same path (`labels/…` for
`images/…`, suffix `.txt`) or, failing that, the same file stem. The class
index is a name's position in a `data.yaml`/`classes.txt` inside `source`
when there is one, else a class id of the dataset (`classes.class_id`).
Boxes are converted to pixels with the image size stored at import.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import duckdb
import numpy as np
import pyarrow as pa

from ...errors import InputError
from ..masks import encode
from ..yolo import class_names, label_file, polygon_pixels, read_label_files, to_pixels
from .coco import class_map
from .store import PredictionBatch, dataset_exists, owner_by_path_or_stem


def _match(files: list[str], images: list[tuple]) -> list:
    """image_id of each txt file (None when no image matches)."""
    by_label = {label_file(p): i for i, p, _, _ in images}
    by_label.update({str(PurePosixPath(p).with_suffix(".txt")): i for i, p, _, _ in images})
    return owner_by_path_or_stem(files, by_label, [(p, i) for i, p, _, _ in images])


def read(con: duckdb.DuckDBPyConnection, source: str | Path, *, model: str, dataset: str,
         root: str | Path | None = None) -> PredictionBatch:
    folder = Path(source)
    if not folder.is_dir():
        raise InputError(folder, None, "expected a folder of YOLO txt files")
    dataset_exists(con, dataset, folder)
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.txt") if p.name != "classes.txt")
    images = con.execute("SELECT image_id, path, width, height FROM images WHERE dataset = ?", [dataset]).fetchall()
    owners = _match(files, images)
    unmatched = next((name for name, o in zip(files, owners) if o is None), None)
    if unmatched is not None:
        raise InputError(folder / unmatched, None, f"no image of dataset '{dataset}' matches this file")
    polygons: list = []
    values, lines, owner = read_label_files(folder, files, 6, "class cx cy w h confidence", polygons)
    has_names = any((folder / n).exists() for n in ("data.yaml", "dataset.yaml", "classes.txt"))
    index = values[:, 0].astype(np.int64)
    ids, names = class_map(con, dataset)
    if has_names:
        names = pa.array(class_names(folder), pa.string())
        ids = np.arange(len(names))
    bad = ~np.isin(index, ids)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(folder / files[owner[i]], f"line {lines[i]}", f"class {index[i]} is not a class of '{dataset}'")
    sizes = {i: (w, h) for i, _, w, h in images}
    image_ids = np.array([owners[k] for k in owner], dtype=np.int64)
    wh = np.array([sizes[owners[k]] for k in owner], dtype=float).reshape(-1, 2)
    unknown = np.isnan(wh).any(axis=1)
    if unknown.any():
        i = int(np.argmax(unknown))
        raise InputError(folder / files[owner[i]], None, "its image's size is unknown (missing or unreadable image)")
    score = values[:, 5]
    if ((score < 0) | (score > 1)).any():
        i = int(np.argmax((score < 0) | (score > 1)))
        raise InputError(folder / files[owner[i]], f"line {lines[i]}", f"confidence {score[i]:g} is not in [0, 1]")
    box = to_pixels(values[:, 1:5], wh[:, 0], wh[:, 1])
    rings, ring_box = polygon_pixels(polygons, wh[:, 0], wh[:, 1])
    box = np.where(np.isnan(values[:, 1:2]), ring_box, box)
    masks = encode(folder, "lines", rings, wh[:, 1], wh[:, 0], key="polygon")
    rows = pa.table({
        "key": pa.array(image_ids.astype(str), pa.string()),
        "class": names.take(pa.array(np.searchsorted(ids, index))),
        "score": score, "x": box[:, 0], "y": box[:, 1], "w": box[:, 2], "h": box[:, 3],
        "polygon": masks.polygon, "mask": masks.mask_array(), "area": box[:, 2] * box[:, 3],
        "source_id": pa.array(lines.astype(str), pa.string()),
    })
    return PredictionBatch(model, dataset, "detection", str(folder.resolve()), "yolo", "image_id", rows,
                           lambda i: (folder / files[owner[i]], f"line {lines[i]}"))
