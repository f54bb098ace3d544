"""Image-classification folders: `source/<class>/<image>`, or `source/<split>/<class>/<image>`.

The split layout is used when every top-level folder is a split name (train,
val, valid, validation, test). Each image gets one image-level label (no box)
whose class is its class folder; class ids are the classes' sorted order.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pyarrow as pa

from ..errors import InputError
from .files import probe_images, relative_paths, walk_images
from .store import DatasetBatch

SPLITS = {"train", "val", "valid", "validation", "test"}


def layout(paths: list[str]) -> tuple[list[str | None], list[str]]:
    """(split, class) of each relative image path.

    >>> layout(["train/cat/a.png", "val/dog/b.png"])
    (['train', 'val'], ['cat', 'dog'])
    >>> layout(["cat/a.png"])
    ([None], ['cat'])
    """
    parts = [PurePosixPath(p).parts for p in paths]
    by_split = bool(parts) and all(len(p) >= 3 and p[0] in SPLITS for p in parts)
    depth = 2 if by_split else 1
    for p, path in zip(parts, paths):
        if len(p) <= depth:
            raise InputError(path, None, "image is not inside a class folder" + (" of its split" if by_split else ""))
    return [p[0] if by_split else None for p in parts], [p[depth - 1] for p in parts]


def read(source: str | Path, *, name: str | None = None, root: str | Path | None = None,
         split: str | None = None) -> DatasetBatch:
    """Walk the class folders and read the image headers."""
    source = Path(source)
    found = walk_images(source)
    if not found:
        raise InputError(source, None, "no images in class folders here")
    splits, classes = layout(found)
    root = Path(root) if root is not None else source
    paths = relative_paths(found, source, root)
    probe = probe_images(root, paths)
    path_array = pa.array(paths, pa.string())
    images = pa.table({
        "path": path_array,
        "split": pa.array([split] * len(paths) if split else splits, pa.string()),
        "source_id": pa.nulls(len(paths), pa.string()),
    })
    for column in probe.column_names:
        images = images.append_column(column, probe[column])
    names = sorted(set(classes))
    labels = pa.table({"path": path_array, "class": pa.array(classes, pa.string()),
                       "source_id": pa.array(["folder"] * len(paths), pa.string())})
    return DatasetBatch(
        name=name or source.resolve().name, root=root, format="folders", source=str(source.resolve()),
        task="classification", images=images, labels=labels,
        classes=pa.table({"class_id": pa.array(range(len(names)), pa.int32()), "class": pa.array(names, pa.string()),
                          "supercategory": pa.nulls(len(names), pa.string())}),
    )
