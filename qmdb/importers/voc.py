"""Pascal VOC XML: one file per image with `filename`, `size` and `object`s with a `bndbox`.

`source` is one XML file or a folder of them (e.g. `Annotations/`); `root`
defaults to a sibling `JPEGImages/` when there is one, else the XML folder.
Boxes convert as x = xmin, y = ymin, w = xmax - xmin, h = ymax - ymin (the
numbers as written, no ±1 pixel shift), so a box written back as
xmin = x, xmax = x + w is the same box. Other leaf tags of an object
(`pose`, `truncated`, `difficult`, …) become `labels` columns; other leaf tags
of the annotation (except folder/path/segmented) become `images` columns.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from ..errors import InputError
from . import fields as f
from .extras import check_name, typed_text
from .files import probe_images, read_text, sizes_or_none
from .store import DatasetBatch

CORNERS = ("xmin", "ymin", "xmax", "ymax")
IMAGE_TAGS = {"filename", "size", "object", "source", "owner"}
IMAGE_IGNORED = {"folder", "path", "segmented"}
OBJECT_TAGS = {"name", "bndbox"}


def _number(file: Path, node: ET.Element, tag: str, field: str, required: bool = True) -> float | None:
    child = node.find(tag)
    if child is None or not (child.text or "").strip():
        if required:
            raise InputError(file, f"{field}.{tag}", "required field is missing")
        return None
    try:
        return float(child.text)
    except ValueError:
        raise InputError(file, f"{field}.{tag}", f"expected a number, got {child.text.strip()!r}") from None


def _leaves(node: ET.Element, skip: set[str]) -> dict[str, str]:
    return {c.tag: (c.text or "").strip() for c in node if c.tag not in skip and len(c) == 0}


def parse_file(file: Path) -> tuple[dict, list[dict]]:
    """(image record, object records) of one VOC XML file."""
    try:
        tree = ET.fromstring(read_text(file))
    except ET.ParseError as error:
        line, column = error.position
        raise InputError(file, f"line {line} column {column}", f"invalid XML: {str(error).split(':')[0]}") from None
    filename = tree.findtext("filename")
    if not (filename or "").strip():
        raise InputError(file, "filename", "required field is missing")
    size = tree.find("size")
    image = {"file_name": filename.strip(), "xml": file.name,
             "width": None if size is None else _number(file, size, "width", "size", False),
             "height": None if size is None else _number(file, size, "height", "size", False),
             "extra": _leaves(tree, IMAGE_TAGS | IMAGE_IGNORED)}
    objects = []
    for k, node in enumerate(tree.findall("object")):
        where = f"object[{k}]"
        name = (node.findtext("name") or "").strip()
        if not name:
            raise InputError(file, f"{where}.name", "required field is missing")
        bndbox = node.find("bndbox")
        if bndbox is None:
            raise InputError(file, f"{where}.bndbox", "required field is missing")
        xmin, ymin, xmax, ymax = (_number(file, bndbox, c, f"{where}.bndbox") for c in CORNERS)
        if xmax < xmin or ymax < ymin:
            raise InputError(file, f"{where}.bndbox", f"xmax/ymax ({xmax:g}, {ymax:g}) below xmin/ymin ({xmin:g}, {ymin:g})")
        objects.append({"class": name, "bbox": (xmin, ymin, xmax - xmin, ymax - ymin), "index": k,
                        "extra": _leaves(node, OBJECT_TAGS)})
    return image, objects


def _xml_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise InputError(source, None, "no such file or folder")
    files = sorted(source.rglob("*.xml"))
    if not files:
        raise InputError(source, None, "no .xml files in this folder")
    return files


def _extras(file: Path, records: list[dict], table: str) -> dict[str, pa.Array]:
    keys = sorted(set().union(*(r["extra"] for r in records))) if records else []
    for key in keys:
        check_name(file, table, key)
    return {key: typed_text([r["extra"].get(key) for r in records]) for key in keys}


def read(source: str | Path, *, name: str | None = None, root: str | Path | None = None,
         split: str | None = None) -> DatasetBatch:
    """Parse every VOC XML file of `source` and read the headers of their images."""
    source = Path(source)
    files = _xml_files(source)
    folder = source if source.is_dir() else source.parent
    if root is None:
        root = folder.parent / "JPEGImages" if (folder.parent / "JPEGImages").is_dir() else folder
    root = Path(root)
    images, objects, owner = [], [], []
    for k, file in enumerate(tqdm(files, desc="reading VOC files", unit="file", disable=len(files) < 200, leave=False)):
        image, objs = parse_file(file)
        images.append(image)
        objects.extend(objs)
        owner.extend([k] * len(objs))
    paths = [i["file_name"] for i in images]
    seen: dict[str, int] = {}
    for k, p in enumerate(paths):
        if p in seen:
            raise InputError(files[k], "filename", f"'{p}' is also the image of {files[seen[p]].name}")
        seen[p] = k
    owner = np.asarray(owner, dtype=np.int64)
    probe = probe_images(root, paths)
    header_w, header_h = sizes_or_none(probe)
    declared_w = np.array([np.nan if i["width"] is None else i["width"] for i in images])
    declared_h = np.array([np.nan if i["height"] is None else i["height"] for i in images])
    box = np.array([o["bbox"] for o in objects], dtype=float).reshape(-1, 4)
    width = np.where(np.isnan(header_w), declared_w, header_w)
    height = np.where(np.isnan(header_h), declared_h, header_h)
    f.check_inside(box, width[owner], height[owner], lambda i: (files[owner[i]], f"object[{objects[i]['index']}].bndbox"))
    mismatch = np.flatnonzero(~np.isnan(header_w) & ~np.isnan(declared_w) &
                              ((header_w != declared_w) | (header_h != declared_h)))
    notes = pa.table({"path": pa.array([paths[k] for k in mismatch], pa.string()),
                      "message": pa.array([f"{files[k].name}: size says {declared_w[k]:g}x{declared_h[k]:g}, the file is "
                                           f"{header_w[k]:g}x{header_h[k]:g}" for k in mismatch], pa.string())})
    names = sorted({o["class"] for o in objects})
    table = pa.table({"path": pa.array(paths, pa.string()), "split": pa.array([split] * len(paths), pa.string()),
                      "source_id": pa.array([i["xml"] for i in images], pa.string())})
    for column in probe.column_names:
        table = table.append_column(column, probe[column])
    labels = pa.table({
        "path": pa.array(paths, pa.string()).take(pa.array(owner)),
        "class": pa.array([o["class"] for o in objects], pa.string()),
        "x": box[:, 0], "y": box[:, 1], "w": box[:, 2], "h": box[:, 3],
        "source_id": pa.array([str(o["index"]) for o in objects], pa.string()),
    })
    return DatasetBatch(
        name=name or (folder.parent.name if folder.name == "Annotations" else folder.name), root=root, format="voc",
        source=str(source.resolve()), task="detection", images=table, labels=labels, notes=notes,
        classes=pa.table({"class_id": pa.array(range(len(names)), pa.int32()), "class": pa.array(names, pa.string()),
                          "supercategory": pa.nulls(len(names), pa.string())}),
        image_extras=_extras(source, images, "images"), label_extras=_extras(source, objects, "labels"),
    )
