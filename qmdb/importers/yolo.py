"""YOLO detection folders: normalized `class cx cy w h` lines, class names in data.yaml or classes.txt.

`source` is the dataset folder (or its data.yaml). Every image under `root`
(default: that folder) is imported; its label file is the same path with the
last `images` folder replaced by `labels` and the suffix `.txt` (or, with no
`images` folder, the `.txt` beside the image). An image without a label file
has no labels. `images/<split>/…` gives the split unless `split` is passed.
Boxes are converted to pixels with the image size read from the file header:
x = (cx - w/2)·W, y = (cy - h/2)·H, w·W, h·H. A segmentation line (Ultralytics:
`class x1 y1 x2 y2 ...`, normalized) becomes a polygon in pixels, its box the
points' bounds, and its mask and area the COCO RLE of that polygon. A label file whose image is
missing or unreadable cannot be converted; its labels are skipped and an
`errors` row says so.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import yaml
from tqdm import tqdm

from ..errors import InputError
from . import fields as f
from .files import probe_images, read_text, relative_paths, sizes_or_none, walk_images
from .masks import encode
from .store import DatasetBatch


def class_names(folder: Path, yaml_file: Path | None = None) -> list[str]:
    """Class names by index, from data.yaml (`names`: list or {index: name}) or classes.txt."""
    yaml_file = yaml_file or next((p for p in (folder / "data.yaml", folder / "dataset.yaml") if p.exists()), None)
    if yaml_file is not None:
        try:
            data = yaml.safe_load(read_text(yaml_file))
        except yaml.YAMLError as error:
            raise InputError(yaml_file, None, f"invalid YAML: {str(error).splitlines()[0]}") from None
        names = data.get("names") if isinstance(data, dict) else None
        if isinstance(names, dict) and all(isinstance(k, int) for k in names):
            if sorted(names) != list(range(len(names))):
                raise InputError(yaml_file, "names", "class indices must be 0..n-1")
            names = [names[k] for k in range(len(names))]
        if not isinstance(names, list) or not names or not all(isinstance(n, (str, int)) for n in names):
            raise InputError(yaml_file, "names", "expected a list of class names or a {index: name} mapping")
        names = [str(n) for n in names]
    elif (folder / "classes.txt").exists():
        names = [line.strip() for line in read_text(folder / "classes.txt").splitlines() if line.strip()]
        yaml_file = folder / "classes.txt"
    else:
        raise InputError(folder, "data.yaml", "no data.yaml or classes.txt with the class names")
    duplicate = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if duplicate is not None:
        raise InputError(yaml_file, "names", f"class '{duplicate}' is listed twice")
    return names


def label_file(image: str) -> str:
    """The label file of an image path: last `images` folder → `labels`, suffix → .txt.

    >>> label_file("images/train/a.jpg"), label_file("b.png")
    ('labels/train/a.txt', 'b.txt')
    """
    parts = list(PurePosixPath(image).with_suffix(".txt").parts)
    if "images" in parts[:-1]:
        i = len(parts) - 2 - parts[:-1][::-1].index("images")
        parts[i] = "labels"
    return str(PurePosixPath(*parts))


def _segment(row: list[str], columns: int) -> bool:
    """A segmentation line: class, at least 3 x y points, and the extra columns of a box line after
    its 4 box numbers (a confidence for predictions)."""
    coords = len(row) - (columns - 4)
    return len(row) > columns and coords >= 6 and coords % 2 == 0


def parse_lines(file: Path, text: str, columns: int, what: str,
                polygons: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(values as an (n, columns) float array, 1-based line numbers) of a YOLO txt file.

    With a `polygons` list, segmentation lines (`class x1 y1 x2 y2 ... [confidence]`, Ultralytics) are
    accepted too: their box numbers are NaN and their normalized points are appended to `polygons`
    (None for a box line), one entry per row."""
    lines = text.splitlines()
    numbers = [i for i, line in enumerate(lines, start=1) if line.strip()]
    rows = [lines[i - 1].split() for i in numbers]
    for row, line in zip(rows, numbers):
        if len(row) != columns and not (polygons is not None and _segment(row, columns)):
            if polygons is not None and len(row) > columns:
                raise InputError(file, f"line {line}", f"a polygon needs x y pairs (at least 3): got {len(row) - (columns - 4)} "
                                 "coordinates")
            raise InputError(file, f"line {line}", f"expected {columns} numbers ({what}), got {len(row)}")
    if polygons is not None:
        extra = columns - 5
        for row in rows:
            if len(row) == columns:
                polygons.append(None)
            else:
                polygons.append(row[1:len(row) - extra])
                row[:] = [row[0], "nan", "nan", "nan", "nan", *row[len(row) - extra:]]
    try:
        values = np.array(rows, dtype=float).reshape(-1, columns)
    except ValueError:
        for row, line in zip(rows, numbers):
            try:
                [float(v) for v in row]
            except ValueError:
                raise InputError(file, f"line {line}", f"expected numbers, got {' '.join(row)!r}") from None
        raise
    finite = np.isfinite(values) | (np.isnan(values) & (np.arange(columns) >= 1) & (np.arange(columns) <= 4))
    bad = ~finite.all(axis=1) | (values[:, 0] != np.round(values[:, 0])) | (values[:, 0] < 0)
    if polygons is not None:
        start = len(polygons) - len(rows)
        for k, points in enumerate(polygons[start:]):
            if points is not None:
                try:
                    polygons[start + k] = np.array(points, dtype=float)
                except ValueError:
                    raise InputError(file, f"line {numbers[k]}", f"expected numbers, got {' '.join(points)!r}") from None
                bad[k] |= not np.isfinite(polygons[start + k]).all()
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(file, f"line {numbers[i]}", f"expected a class index and finite numbers, got {' '.join(rows[i])!r}")
    return values, np.asarray(numbers, dtype=np.int64)


def read_label_files(base: Path, files: list[str], columns: int, what: str,
                     polygons: list | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All rows of the label files that exist: values, line numbers, and the index of their file
    (with `polygons`, segmentation lines too: see `parse_lines`)."""
    values, lines, owner = [np.empty((0, columns))], [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for k, name in enumerate(tqdm(files, desc="reading label files", unit="file", disable=len(files) < 200, leave=False)):
        path = base / name
        if not path.is_file():
            continue
        v, n = parse_lines(path, read_text(path), columns, what, polygons)
        values.append(v)
        lines.append(n)
        owner.append(np.full(len(n), k))
    return np.concatenate(values), np.concatenate(lines), np.concatenate(owner)


def to_pixels(norm: np.ndarray, width: np.ndarray, height: np.ndarray) -> np.ndarray:
    """Normalized (cx, cy, w, h) → pixel (x, y, w, h) from the top-left corner."""
    cx, cy, w, h = norm.T
    return np.stack([(cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height], axis=1)


def polygon_pixels(polygons: list, width: np.ndarray, height: np.ndarray) -> tuple[list, np.ndarray]:
    """Normalized YOLO points (None for a box row) → pixel rings `[[x1, y1, ...]]` and their bounds
    as x, y, w, h (Ultralytics' segments2boxes); NaN rows for box rows or an unknown image size."""
    rings, box = [None] * len(polygons), np.full((len(polygons), 4), np.nan)
    for i, points in enumerate(polygons):
        if points is None or np.isnan(width[i]) or np.isnan(height[i]):
            continue
        xy = points.reshape(-1, 2) * [width[i], height[i]]
        rings[i] = [xy.ravel().tolist()]
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        box[i] = [lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]]
    return rings, box


def _split_of(path: str) -> str | None:
    parts = PurePosixPath(path).parts
    return parts[parts.index("images") + 1] if "images" in parts[:-2] else None


def read(source: str | Path, *, name: str | None = None, root: str | Path | None = None,
         split: str | None = None) -> DatasetBatch:
    """Parse a YOLO dataset folder; image sizes come from the image headers."""
    source = Path(source)
    folder = source.parent if source.is_file() else source
    names = class_names(folder, source if source.is_file() else None)
    root = Path(root) if root is not None else folder
    paths = walk_images(root)
    in_folder = relative_paths(paths, root, folder)  # label files are found from the dataset folder
    files = [label_file(p) for p in in_folder]
    probe = probe_images(root, paths)
    polygons: list = []
    values, lines, owner = read_label_files(folder, files, 5, "class cx cy w h", polygons)
    classes = values[:, 0].astype(np.int64)
    if (classes >= len(names)).any():
        i = int(np.argmax(classes >= len(names)))
        raise InputError(folder / files[owner[i]], f"line {lines[i]}", f"class {classes[i]} is not in the class names (0..{len(names) - 1})")
    width, height = sizes_or_none(probe)
    box = to_pixels(values[:, 1:], width[owner], height[owner])
    rings, ring_box = polygon_pixels(polygons, width[owner], height[owner])
    box = np.where(np.isnan(values[:, 1:2]), ring_box, box)
    masks = encode(folder / "labels", "lines", rings, height[owner], width[owner], key="polygon")
    f.check_inside(box, width[owner], height[owner], lambda i: (folder / files[owner[i]], f"line {lines[i]}"))
    known = ~np.isnan(box).any(axis=1)
    lost = np.unique(owner[~known])
    notes = pa.table({"path": pa.array([paths[k] for k in lost], pa.string()),
                      "message": pa.array([f"labels of {files[k]} not imported: the image size is unknown"
                                           for k in lost], pa.string())})
    box, lines, owner, classes = box[known], lines[known], owner[known], classes[known]
    keep = pa.array(np.flatnonzero(known))
    path_array = pa.array(paths, pa.string())
    images = pa.table({
        "path": path_array,
        "split": pa.array([split] * len(paths) if split else [_split_of(p) for p in in_folder], pa.string()),
        "source_id": pa.nulls(len(paths), pa.string()),
    })
    for column in probe.column_names:
        images = images.append_column(column, probe[column])
    labels = pa.table({
        "path": path_array.take(pa.array(owner)),
        "class": pa.array(names, pa.string()).take(pa.array(classes)),
        "x": box[:, 0], "y": box[:, 1], "w": box[:, 2], "h": box[:, 3],
        "polygon": masks.polygon.take(keep), "mask": masks.mask_array().take(keep),
        "area": pa.array(masks.area[known], from_pandas=True),
        "source_id": pa.array(lines.astype(str), pa.string()),
    })
    return DatasetBatch(
        name=name or folder.resolve().name, root=root, format="yolo", source=str(source.resolve()), task="detection",
        images=images, labels=labels, notes=notes,
        classes=pa.table({"class_id": pa.array(range(len(names)), pa.int32()), "class": names,
                          "supercategory": pa.nulls(len(names), pa.string())}),
    )
