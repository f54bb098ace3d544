"""LabelMe: one JSON file per image (``imagePath``, ``imageWidth``, ``imageHeight``, ``shapes``), in one folder.

A ``rectangle`` shape is a box from its two corner points; a ``polygon`` is stored as a polygon with
its bounding box. Other shape types are refused with the file and the field named.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from qmdb.errors import InputError
from qmdb.importers.files import probe_images
from qmdb.importers.store import DatasetBatch


def _shape(file: Path, index: int, shape: dict) -> tuple[str, list[float], list[float] | None]:
    where = f"shapes[{index}]"
    points = np.asarray(shape.get("points") or [], dtype=np.float64).reshape(-1, 2)
    kind = shape.get("shape_type", "polygon")
    if "label" not in shape:
        raise InputError(file, f"{where}.label", "missing")
    if kind == "rectangle" and len(points) == 2:
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        return shape["label"], [x0, y0, x1 - x0, y1 - y0], None
    if kind == "polygon" and len(points) >= 3:
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        return shape["label"], [x0, y0, x1 - x0, y1 - y0], points.ravel().tolist()
    raise InputError(file, f"{where}.shape_type", f"'{kind}' with {len(points)} points is not a rectangle or polygon")


def read(source: str | Path, *, name: str | None = None, root: str | Path | None = None,
         split: str | None = None) -> DatasetBatch:
    folder = Path(source)
    files = sorted(folder.glob("*.json"))
    if not files:
        raise InputError(folder, None, "no LabelMe .json files in this folder")
    paths, rows = [], []
    for file in files:
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(file, None, f"not a JSON file: {error}") from None
        if "imagePath" not in document:
            raise InputError(file, "imagePath", "missing")
        paths.append(document["imagePath"])
        rows += [(document["imagePath"], i, *_shape(file, i, s)) for i, s in enumerate(document.get("shapes", []))]
    root = Path(root) if root is not None else folder
    probe = probe_images(root, paths)
    images = pa.table({"path": pa.array(paths, pa.string()), "split": pa.array([split] * len(paths), pa.string()),
                       "source_id": pa.array(paths, pa.string())})
    for column in probe.column_names:
        images = images.append_column(column, probe[column])
    boxes = np.asarray([r[3] for r in rows], dtype=np.float64).reshape(-1, 4)
    labels = pa.table({
        "path": pa.array([r[0] for r in rows], pa.string()), "class": pa.array([r[2] for r in rows], pa.string()),
        "x": boxes[:, 0], "y": boxes[:, 1], "w": boxes[:, 2], "h": boxes[:, 3],
        "polygon": pa.array([[r[4]] if r[4] else None for r in rows], pa.list_(pa.list_(pa.float64()))),
        "source_id": pa.array([str(r[1]) for r in rows], pa.string()),
    })
    names = sorted({r[2] for r in rows})
    return DatasetBatch(
        name=name or folder.name, root=root, format="labelme", source=str(folder.resolve()), task="detection",
        images=images, labels=labels,
        classes=pa.table({"class_id": pa.array(range(len(names)), pa.int32()), "class": pa.array(names, pa.string()),
                          "supercategory": pa.nulls(len(names), pa.string())}),
    )
