"""A generic label table (CSV or Parquet): one row per label.

Columns: `path` (relative to `root`, default the table's folder) and `class`
are required; `x, y, w, h` (pixels, all four or none; a row with all four
empty is an image-level label), `split`, `annotator`, `iscrowd`, `area` and
`id` (the label's source id; default its position among its image's rows) are
optional; any other column becomes a `labels` column. With box columns the
dataset's task is detection, without them classification.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import InputError
from . import fields as f
from .extras import check_name
from .files import probe_images, sizes_or_none
from .store import DatasetBatch
from .tables import no_nulls, number_column, ordinal, read_table, require, text_column

BOX = ("x", "y", "w", "h")
KNOWN = {"path", "class", *BOX, "split", "annotator", "iscrowd", "area", "id"}


def _boxes(file: Path, table: pa.Table) -> np.ndarray:
    present = [c for c in BOX if c in table.column_names]
    if not present:
        return np.full((table.num_rows, 4), np.nan)
    if len(present) < 4:
        missing = next(c for c in BOX if c not in present)
        raise InputError(file, missing, "box columns come as all of x, y, w, h or none")
    box = np.stack([number_column(file, table, c) for c in BOX], axis=1)
    partial = np.isnan(box).any(axis=1) & ~np.isnan(box).all(axis=1)
    if partial.any():
        i = int(np.argmax(partial))
        column = BOX[int(np.argmax(np.isnan(box[i])))]
        raise InputError(file, f"rows[{i}].{column}", "empty while other box columns of the row are set")
    negative = (box[:, 2] < 0) | (box[:, 3] < 0)
    if negative.any():
        i = int(np.argmax(negative))
        raise InputError(file, f"rows[{i}].w", f"width and height must be >= 0, got {box[i, 2]:g}, {box[i, 3]:g}")
    return box


def read(source: str | Path, *, name: str | None = None, root: str | Path | None = None,
         split: str | None = None) -> DatasetBatch:
    """Parse and check a label table; read the headers of the images it names."""
    file = Path(source)
    table = read_table(file)
    require(file, table, "path", "class")
    for column in ("path", "class"):
        no_nulls(file, table, column)
    box = _boxes(file, table)
    path_col = text_column(file, table, "path")
    paths = np.asarray(path_col.to_pylist(), dtype=object)
    unique_paths, first = np.unique(paths, return_index=True)
    first.sort()
    image_paths = paths[first].tolist()
    root = Path(root) if root is not None else file.parent
    probe = probe_images(root, image_paths)
    width, height = sizes_or_none(probe)
    row_image = np.searchsorted(unique_paths, paths)
    by_path = np.empty(len(unique_paths), dtype=np.int64)
    by_path[np.searchsorted(unique_paths, paths[first])] = np.arange(len(first))
    owner = by_path[row_image]
    f.check_inside(box, width[owner], height[owner], lambda i: (file, f"rows[{i}]"))
    if "id" in table.column_names:
        no_nulls(file, table, "id")
        source_id = text_column(file, table, "id")
        keys = np.char.add(paths.astype(str), np.char.add("\x00", np.asarray(source_id.to_pylist(), dtype=str)))
        dup = ordinal(keys) > 0
        if dup.any():
            raise InputError(file, f"rows[{int(np.argmax(dup))}].id", "duplicate id for this image")
    else:
        source_id = pa.array(ordinal(paths.astype(str)).astype(str), pa.string())
    splits = pa.array([split] * len(image_paths), pa.string()) if split or "split" not in table.column_names \
        else text_column(file, table, "split").take(pa.array(first))
    images = pa.table({"path": pa.array(image_paths, pa.string()), "split": splits,
                       "source_id": pa.nulls(len(image_paths), pa.string())})
    for column in probe.column_names:
        images = images.append_column(column, probe[column])
    classes = text_column(file, table, "class")
    labels = {"path": path_col, "class": classes, "x": box[:, 0], "y": box[:, 1], "w": box[:, 2], "h": box[:, 3],
              "source_id": source_id}
    if "annotator" in table.column_names:
        labels["annotator"] = text_column(file, table, "annotator")
    if "area" in table.column_names:
        labels["area"] = pa.array(number_column(file, table, "area"), from_pandas=True)
    if "iscrowd" in table.column_names:
        labels["iscrowd"] = pa.array(number_column(file, table, "iscrowd") == 1)
    extras = [c for c in table.column_names if c not in KNOWN]
    for column in extras:
        check_name(file, "labels", column)
    names = sorted(set(classes.to_pylist()))
    has_box = not np.isnan(box).all()
    return DatasetBatch(
        name=name or file.stem, root=root, format="table", source=str(file.resolve()),
        task="detection" if has_box else "classification", images=images, labels=pa.table(labels),
        classes=pa.table({"class_id": pa.array(range(len(names)), pa.int32()), "class": pa.array(names, pa.string()),
                          "supercategory": pa.nulls(len(names), pa.string())}),
        label_extras={c: table[c].combine_chunks() for c in extras},
    )
