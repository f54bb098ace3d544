"""Semantic segmentation folders: one class-index PNG per image (Cityscapes/ADE20K style) and a class map.

`source` is the dataset folder (or its class map file). Layout::

    folder/classes.json        {"0": "road", "1": "car", ...}, or ["road", "car", ...] (index = position)
      (or classes.csv)         index,name lines (a header line is allowed)
    folder/images/a/b.jpg      the images (`root`, default folder/images, else the folder)
    folder/masks/a/b.png       the class-index mask of images/a/b.jpg (also `annotations/` or `labels/`)

A mask is a single-channel PNG (mode L, P (palette indices, as Cityscapes and
ADE20K save them) or I;16) of the image's size whose value at each pixel is a
class index of the class map; 255 is the ignore index (unlabelled pixels,
never stored). An image without a mask file has no labels.

Each (image, class present) becomes one label row: its mask the COCO
compressed RLE of that class's pixels (pycocotools' `mask.encode`), area and
box from the RLE (`mask.area`, `mask.toBbox`), `source_id` the class index,
so a re-import updates rows in place. The dataset's task is `semantic`.

Bad input is one line naming the file and the field: a mask whose size is not
its image's (`size`), a pixel value outside the class map (`pixel (x, y)`), a
multi-channel PNG (`mode`), a class map entry that is not `index: name`.

>>> lut = lookup({0: "road", 1: "car"})
>>> [r[0] for r in classes_present("m.png", np.array([[0, 1], [255, 1]], np.uint8), lut, (2, 2))]
[0, 1]
"""

from __future__ import annotations

import csv
import io
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
from PIL import Image

from ..errors import InputError
from .files import probe_images, read_json, read_text, sizes_or_none, walk_images
from .masks import MASK_TYPE, mask_api
from .store import DatasetBatch

IGNORE = 255
CLASS_MAPS = ("classes.json", "classes.csv")
MASK_FOLDERS = ("masks", "annotations", "labels")
_MODES = {"L", "P", "I;16", "I"}


def read_class_map(path: Path) -> dict[int, str]:
    """{index: name} from a JSON list / object or an `index,name` CSV; 255 is reserved for ignore."""
    if path.suffix.lower() == ".json":
        data = read_json(path, (dict, list), "a list of class names or an {index: name} object")
        items = list(enumerate(data)) if isinstance(data, list) else list(data.items())
    else:
        rows = [r for r in csv.reader(io.StringIO(read_text(path))) if r and any(c.strip() for c in r)]
        if rows and not rows[0][0].strip().lstrip("-").isdigit():
            rows = rows[1:]  # header
        for k, row in enumerate(rows, start=1):
            if len(row) != 2:
                raise InputError(path, f"row {k}", f"expected index,name; got {len(row)} fields")
        items = [(r[0].strip(), r[1].strip()) for r in rows]
    out: dict[int, str] = {}
    for key, name in items:
        try:
            index = int(key)
        except (TypeError, ValueError):
            raise InputError(path, f"{key!r}", "a class index must be an integer") from None
        if not isinstance(name, str) or not name:
            raise InputError(path, str(index), f"expected a class name, got {name!r}")
        if not 0 <= index < 65535 or index == IGNORE:
            raise InputError(path, str(index), f"class index must be in 0..65534 and not {IGNORE} (the ignore index)")
        if name in out.values():
            raise InputError(path, str(index), f"class '{name}' is listed twice")
        out[index] = name
    if not out:
        raise InputError(path, None, "the class map names no class")
    return dict(sorted(out.items()))


def find_class_map(folder: Path, required: bool = True) -> Path | None:
    found = next((folder / n for n in CLASS_MAPS if (folder / n).is_file()), None)
    if found is None and required:
        raise InputError(folder, CLASS_MAPS[0], "no classes.json or classes.csv with the class map (index → name)")
    return found


def lookup(classes: dict[int, str]) -> np.ndarray:
    """A table from pixel value to class position: -1 for a value outside the map, -2 for ignore."""
    lut = np.full(65536, -1, np.int64)
    lut[IGNORE] = -2
    lut[list(classes)] = np.arange(len(classes))
    return lut


def read_png(file: Path) -> np.ndarray:
    """The class indices of a mask PNG as a 2-D array."""
    try:
        with Image.open(file) as image:
            if image.mode not in _MODES:
                raise InputError(file, "mode", f"expected a single-channel class-index PNG (L, P or I;16), got {image.mode}")
            return np.asarray(image)
    except InputError:
        raise
    except Exception as error:  # noqa: BLE001 - any file Pillow cannot read is this file's problem
        raise InputError(file, None, f"not a readable PNG: {error or type(error).__name__}") from None


def classes_present(file: object, indices: np.ndarray, lut: np.ndarray, size: tuple[int, int]) -> list[tuple[int, dict]]:
    """(class position, pycocotools RLE) of every class present in a mask, checked against the
    image's (height, width) and the class map."""
    if indices.shape != tuple(size):
        raise InputError(file, "size", f"mask is {indices.shape[1]}x{indices.shape[0]} (w x h), its image "
                         f"{size[1]}x{size[0]}")
    position = lut[np.clip(indices.astype(np.int64), 0, 65535)]
    bad = (position == -1) | (indices < 0)
    if bad.any():
        y, x = np.argwhere(bad)[0]
        raise InputError(file, f"pixel ({x}, {y})", f"class index {indices[y, x]} is not in the class map "
                         f"(and not {IGNORE}, the ignore index)")
    api = mask_api("semantic masks")
    present = np.unique(position[position >= 0])
    return [(int(k), api.encode(np.asfortranarray(position == k, dtype=np.uint8))) for k in present]


def encode_masks(files: list[Path], sizes: list[tuple[int, int]], classes: dict[int, str]) -> pa.Table:
    """One row per (mask file, class present): `row` (index into `files`), class, source_id, mask,
    area, x, y, w, h."""
    api = mask_api("semantic masks")
    lut, names, index = lookup(classes), list(classes.values()), list(classes)
    rows: dict[str, list] = {k: [] for k in ("row", "class", "source_id", "mask", "area", "box")}
    for k, (file, size) in enumerate(zip(files, sizes)):
        for position, rle in classes_present(file, read_png(file), lut, size):
            rows["row"].append(k)
            rows["class"].append(names[position])
            rows["source_id"].append(str(index[position]))
            rows["mask"].append({"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")})
            rows["area"].append(float(api.area(rle)))
            rows["box"].append(api.toBbox(rle))
    box = np.array(rows.pop("box"), float).reshape(-1, 4)
    return pa.table({"row": pa.array(rows["row"], pa.int64()), "class": pa.array(rows["class"], pa.string()),
                     "source_id": pa.array(rows["source_id"], pa.string()), "mask": pa.array(rows["mask"], MASK_TYPE),
                     "area": pa.array(rows["area"], pa.float64()),
                     **{c: box[:, j] for j, c in enumerate("xywh")}})


def mask_folder(folder: Path) -> Path:
    found = next((folder / n for n in MASK_FOLDERS if (folder / n).is_dir()), None)
    if found is None:
        raise InputError(folder, MASK_FOLDERS[0], f"no mask folder ({', '.join(MASK_FOLDERS)}) beside the images")
    return found


def mask_path(image: str) -> str:
    """The mask of an image path, relative to the mask folder.

    >>> mask_path("train/a.jpg")
    'train/a.png'
    """
    return str(PurePosixPath(image).with_suffix(".png"))


def classes_table(classes: dict[int, str]) -> pa.Table:
    return pa.table({"class_id": pa.array(list(classes), pa.int32()), "class": pa.array(list(classes.values()), pa.string()),
                     "supercategory": pa.nulls(len(classes), pa.string())})


def read(source: str | Path, *, name: str | None = None, root: str | Path | None = None,
         split: str | None = None) -> DatasetBatch:
    """Parse a semantic segmentation folder; image sizes come from the image headers."""
    source = Path(source)
    folder = source.parent if source.is_file() else source
    if not folder.is_dir():
        raise InputError(folder, None, "no such folder")
    classes = read_class_map(source if source.is_file() else find_class_map(folder))
    masks = mask_folder(folder)
    root = Path(root) if root is not None else (folder / "images" if (folder / "images").is_dir() else folder)
    paths = walk_images(root)
    inside = masks.resolve().relative_to(root.resolve()).as_posix() + "/" if masks.resolve().is_relative_to(root.resolve()) else None
    paths = [p for p in paths if inside is None or not p.startswith(inside)]
    probe = probe_images(root, paths)
    width, height = sizes_or_none(probe)
    has_mask = np.array([(masks / mask_path(p)).is_file() for p in paths], bool)
    known = ~np.isnan(width) & ~np.isnan(height)
    todo = np.flatnonzero(has_mask & known)
    rows = encode_masks([masks / mask_path(paths[k]) for k in todo],
                        [(int(height[k]), int(width[k])) for k in todo], classes)
    lost = np.flatnonzero(has_mask & ~known)
    path_array = pa.array(paths, pa.string())
    images = pa.table({"path": path_array, "split": pa.array([split] * len(paths), pa.string()),
                       "source_id": pa.nulls(len(paths), pa.string())})
    for column in probe.column_names:
        images = images.append_column(column, probe[column])
    labels = rows.drop_columns(["row"]).add_column(0, "path", path_array.take(pa.array(todo[rows["row"].to_numpy()])))
    notes = pa.table({"path": pa.array([paths[k] for k in lost], pa.string()),
                      "message": pa.array([f"mask {mask_path(paths[k])} not imported: the image size is unknown"
                                           for k in lost], pa.string())})
    return DatasetBatch(name=name or folder.resolve().name, root=root, format="semantic",
                        source=str(source.resolve()), task="semantic", images=images, labels=labels, notes=notes,
                        classes=classes_table(classes))
