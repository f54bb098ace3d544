"""COCO instances and keypoints JSON: images, categories, annotations (boxes, masks, keypoints, iscrowd, annotator).

`file_name` is relative to `root` (default: the folder `info.root` names, as
qmdb's COCO export records it, when that folder exists; else the JSON file's
folder). Image
fields other than id/file_name/width/height and annotation fields other than
the COCO ones become metadata columns of `images` / `labels`. A
`segmentation` (polygons, RLE, crowd RLE) is stored as the COCO compressed RLE
`mask` (polygons also as `polygon` rings; see `qmdb.importers.masks`); `bbox`
and `area` may then be absent, and are COCO's `toBbox` / `area` of the mask.
`keypoints` must have 3 numbers per keypoint its category names
(`categories[].keypoints`, stored with `skeleton` in `classes`);
`num_keypoints` defaults to the count of v > 0.

The file is streamed (`qmdb.importers.jsonstream`): `categories`, then
`images`, then `annotations` are parsed from their own byte ranges, whatever
order the file lists them in, `BATCH` records at a time, each batch checked as
whole columns and turned into Arrow, so memory holds the columns, not the
file's Python objects. Errors name the record's index in the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ..errors import InputError
from . import fastfields as q
from . import fields as f
from . import jsonstream
from .extras import as_column, check_name
from .files import probe_images, read_json, sizes_or_none
from .masks import encode, keypoints
from .store import DatasetBatch

IMAGE_FIELDS = {"id", "file_name", "width", "height"}
IMAGE_IGNORED = frozenset({"license", "coco_url", "flickr_url"})
BATCH = 50_000  # records per parsed batch
SCHEMAS = {  # the types the quick path expects; a block that does not parse so takes the exact path
    "images": pa.schema([("id", pa.float64()), ("file_name", pa.string()), ("width", pa.float64()),
                         ("height", pa.float64())]),
    "annotations": pa.schema([("id", pa.float64()), ("image_id", pa.float64()), ("category_id", pa.float64()),
                              ("bbox", pa.list_(pa.float64())), ("area", pa.float64()), ("iscrowd", pa.float64()),
                              ("annotator", pa.string()), ("num_keypoints", pa.float64())]),
}
ANNOTATION_FIELDS = {"id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd", "annotator",
                     "keypoints", "num_keypoints"}


def _section(file: Path, data: dict, key: str, required: bool = True) -> list[dict]:
    if key not in data:
        if required:
            raise InputError(file, key, "required field is missing")
        return []
    return f.objects(file, data[key], key)


def categories(file: Path, items: list[dict]) -> pa.Table:
    """The classes table of a COCO `categories` list (class_id = the category id)."""
    ids = f.ints(file, "categories", "id", f.values(items, file, "categories", "id"))
    f.unique(file, "categories", "id", ids)
    names = f.strings(file, "categories", "name", f.values(items, file, "categories", "name"), required=True)
    f.unique(file, "categories", "name", np.asarray(names.to_pylist(), dtype=object))
    supers = f.strings(file, "categories", "supercategory", f.values(items, file, "categories", "supercategory", required=False))
    points = f.values(items, file, "categories", "keypoints", required=False)
    for i, names_i in enumerate(points):
        if names_i is not None and not (isinstance(names_i, list) and all(isinstance(v, str) for v in names_i)):
            raise InputError(file, f"categories[{i}].keypoints", "expected a list of keypoint names")
    skeleton = f.values(items, file, "categories", "skeleton", required=False)
    for i, edges in enumerate(skeleton):
        ok = edges is None or (isinstance(edges, list) and all(
            isinstance(e, list) and len(e) == 2 and all(isinstance(v, int) and 1 <= v <= len(points[i] or []) for v in e)
            for e in edges))
        if not ok:
            raise InputError(file, f"categories[{i}].skeleton", "expected [[a, b], ...] pairs of 1-based keypoint indices")
    return pa.table({"class_id": pa.array(ids, pa.int32()), "class": names, "supercategory": supers,
                     "keypoints": pa.array(points, pa.list_(pa.string())),
                     "skeleton": pa.array(skeleton, pa.list_(pa.list_(pa.int32())))})


def default_root(file: Path, data: dict) -> Path:
    """Where `file_name`s start when no root is given: `info.root` (written by qmdb's COCO export)
    when it names an existing folder, else the JSON file's folder."""
    info = data.get("info")
    recorded = info.get("root") if isinstance(info, dict) else None
    if isinstance(recorded, str) and recorded and (file.parent / recorded).is_dir():
        return file.parent / recorded  # an absolute root stays absolute; a relative one starts at the file
    return file.parent


class _Extras:
    """Fields outside `known`, gathered batch by batch: only their values are kept."""

    def __init__(self, known: set[str], ignored: frozenset[str] = frozenset()):
        self.skip = known | ignored
        self.columns: dict[str, list] = {}
        self.rows = 0

    def add(self, items: list[dict]) -> None:
        keys = set().union(*(item.keys() for item in items)) - self.skip if items else set()
        for key in keys - self.columns.keys():
            self.columns[key] = [None] * self.rows
        for key, column in self.columns.items():
            column.extend(item.get(key) for item in items)
        self.rows += len(items)

    def add_columns(self, columns: dict[str, list], n: int) -> None:
        """As `add`, from the columns of a block of `n` records (`fastfields.extras`)."""
        for key in columns.keys() - self.columns.keys():
            self.columns[key] = [None] * self.rows
        for key, column in self.columns.items():
            column.extend(columns[key] if key in columns else [None] * n)
        self.rows += n

    def arrays(self, file: Path, name: str, table: str) -> dict[str, pa.Array]:
        """As `extras.extra_fields` makes them from the whole list."""
        lowered: dict[str, str] = {}
        for key in sorted(self.columns):
            check_name(file, table, key)
            if key.lower() in lowered:
                raise InputError(file, f"{name}[].{key}", f"differs from field '{lowered[key.lower()]}' only in case")
            lowered[key.lower()] = key
        return {key: as_column(self.columns[key]) for key in sorted(self.columns)}


_INDEX = re.compile(r"^(\w+)\[(\d+)\]")


@contextmanager
def _at(offset: int) -> Iterator[None]:
    """Errors of a batch name the record by its index in the whole file."""
    try:
        yield
    except InputError as error:
        if not offset or not error.field or not _INDEX.match(error.field):
            raise
        field = _INDEX.sub(lambda m: f"{m[1]}[{int(m[2]) + offset}]", error.field, count=1)
        raise InputError(error.file, field, error.message) from None


class _Source:
    """The sections of a COCO file: streamed from byte ranges, or (an unusual file) from the parsed whole,
    which then raises the exact error `read_json` and `_section` give."""

    def __init__(self, file: Path):
        self.file = file
        found = jsonstream.layout(file)
        sections = ("categories", "images", "annotations")
        if found is not None:
            spans, scalars, self.ends = found.spans, found.scalars, found.ends
            arrays = all(jsonstream.first_byte(file, spans[k]) == b"[" for k in sections if k in spans)
            missing = "categories" not in spans or "images" not in spans
            if any(k in scalars for k in (*sections, "info")) or not arrays or missing:
                found = None
        if found is None:
            self.data = read_json(file, dict, "a COCO object with images, annotations and categories")
            self.spans = None
            self.info = self.data.get("info")
            return
        self.data, self.spans = None, spans
        try:
            self.info = jsonstream.value(file, spans["info"]) if "info" in spans else None
            for key, span in spans.items():
                if key not in (*sections, "info"):
                    jsonstream.check(file, span)
        except Exception:  # noqa: BLE001 - malformed JSON: the whole-file reader names line and column
            read_json(file, dict, "a COCO object with images, annotations and categories")
            raise

    def batches(self, key: str) -> Iterator[tuple[int, _Block]]:
        """(offset, block) of one section, `BATCH` records at a time; a block's records are checked
        to be a list of objects when read."""
        if self.spans is None:
            records = _section(self.file, self.data, key, required=key != "annotations")
            for start in range(0, len(records), BATCH):
                yield start, _Block(self.file, key, start, records=records[start:start + BATCH])
            return
        if key not in self.spans:
            return
        offset = 0
        for raw in jsonstream.blocks(self.file, self.spans[key], BATCH, self.ends):
            block = _Block(self.file, key, offset, raw=raw)
            yield offset, block
            offset += block.count

    def records(self, key: str) -> list[dict]:
        return [r for _, block in self.batches(key) for r in block.records]


class _Block:
    """One batch of a section: its Arrow table where `pyarrow.json` reads it with the expected
    types (the quick path), its records as `json` reads them (the exact path) otherwise."""

    def __init__(self, file: Path, key: str, offset: int, *, raw: bytes | None = None,
                 records: list[dict] | None = None):
        self.file, self.key, self.offset, self.raw = file, key, offset, raw
        self._records = records
        self._table: pa.Table | None = None
        if raw is not None:
            self._table = _arrow(raw, SCHEMAS.get(key))

    @property
    def table(self) -> pa.Table | None:
        return self._table

    @property
    def count(self) -> int:
        return self._table.num_rows if self._table is not None else len(self.records)

    @property
    def records(self) -> list[dict]:
        if self._records is None:
            try:
                parsed = jsonstream.elements(self.raw)
            except Exception:  # noqa: BLE001 - malformed JSON inside the section: the whole-file reader names it
                read_json(self.file, dict, "a COCO object with images, annotations and categories")
                raise
            with _at(self.offset):
                self._records = f.objects(self.file, parsed, self.key)
        return self._records


def _arrow(raw: bytes, schema: pa.Schema | None) -> pa.Table | None:
    """The block's records as a table of `schema`'s columns (then any others, inferred), or None when
    `pyarrow.json` does not read it so (not a list of objects, another type, a repeated key)."""
    text = jsonstream.arrow_text(raw)
    if len(text) >= 2**31 - 1:  # more than one block of pyarrow's reader holds
        return None
    items = None if schema is None else pa.schema([("items", pa.list_(pa.struct(list(schema))))])
    try:
        read = pj.read_json(pa.BufferReader(text), read_options=pj.ReadOptions(block_size=len(text) + 1),
                            parse_options=pj.ParseOptions(explicit_schema=items, unexpected_field_behavior="infer"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    records = read["items"].combine_chunks().flatten()
    if read.num_rows != 1 or not pa.types.is_struct(records.type) or records.null_count:
        return None
    return pa.Table.from_struct_array(records)


def _root(file: Path, info: object) -> Path:
    return default_root(file, {"info": info})


def read(source: str | Path, *, name: str | None = None, root: str | Path | None = None,
         split: str | None = None, stream: bool = False) -> DatasetBatch:
    """Parse and check a COCO instances file, streaming it; read the headers of the images it names.

    With `stream=True` the labels are not read yet: `labels` is empty and `label_stream` yields
    them one batch at a time, checked as they come (the writer consumes it inside its transaction,
    so an error in a late batch still leaves the database as it was); when it is exhausted,
    `label_extras` holds the annotations' metadata fields. Otherwise `labels` holds them all."""
    file = Path(source)
    src = _Source(file)
    cats = categories(file, src.records("categories"))
    ids, path_parts, widths, heights = [], [], [], []
    image_extras = _Extras(IMAGE_FIELDS, IMAGE_IGNORED)
    for offset, block in src.batches("images"):
        quick = _quick_images(block.table, image_extras.skip)
        if quick is None:
            imgs = block.records
            with _at(offset):
                quick = (f.ints(file, "images", "id", f.values(imgs, file, "images", "id")),
                         f.strings(file, "images", "file_name", f.values(imgs, file, "images", "file_name"),
                                   required=True),
                         f.numbers(file, "images", "width", f.values(imgs, file, "images", "width", required=False)),
                         f.numbers(file, "images", "height", f.values(imgs, file, "images", "height", required=False)))
            image_extras.add(imgs)
        else:
            image_extras.add_columns(quick[4], block.count)
        for part, value in zip((ids, path_parts, widths, heights), quick):
            part.append(value)
    image_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    f.unique(file, "images", "id", image_ids)
    paths = pa.concat_arrays(path_parts) if path_parts else pa.array([], pa.string())
    path_list = paths.to_pylist()
    f.unique(file, "images", "file_name", np.asarray(path_list, dtype=object))
    declared_w = np.concatenate(widths) if widths else np.zeros(0)
    declared_h = np.concatenate(heights) if heights else np.zeros(0)

    root = Path(root) if root is not None else _root(file, src.info)
    probe = probe_images(root, path_list)
    header_w, header_h = sizes_or_none(probe)
    known = ~np.isnan(header_w) & ~np.isnan(declared_w) & ~np.isnan(declared_h)
    mismatch = known & ((header_w != declared_w) | (header_h != declared_h))
    where = np.flatnonzero(mismatch)
    notes = pa.table({
        "path": pa.array([path_list[i] for i in where], pa.string()),
        "message": pa.array([f"images[{i}]: the JSON says {declared_w[i]:g}x{declared_h[i]:g}, the file is "
                             f"{header_w[i]:g}x{header_h[i]:g}" for i in where], pa.string()),
    })
    del path_list
    image_order = np.argsort(image_ids)
    ctx = _Context(file, image_ids, image_ids[image_order], image_order,
                   np.where(np.isnan(header_w), declared_w, header_w), np.where(np.isnan(header_h), declared_h, header_h),
                   paths, cats)
    label_extras: dict[str, pa.Array] = {}
    images = pa.table({
        "path": paths,
        "split": pa.array([split] * len(image_ids), pa.string()),
        "source_id": pc.cast(pa.array(image_ids), pa.string()),
    })
    for column in probe.column_names:
        images = images.append_column(column, probe[column])
    labels = _label_batches(src, ctx, label_extras)
    batch = DatasetBatch(
        name=name or file.stem, root=root, format="coco", source=str(file.resolve()), task="detection",
        images=images, classes=cats, labels=pa.table({}),
        image_extras=image_extras.arrays(file, "images", "images"), label_extras=label_extras, notes=notes,
    )
    if stream:
        batch.label_stream = labels
    else:
        batch.labels = pa.concat_tables(list(labels))
    return batch


@dataclass
class _Context:
    """What checking a batch of annotations needs from the images and categories."""

    file: Path
    image_ids: np.ndarray
    sorted_ids: np.ndarray
    image_order: np.ndarray
    image_w: np.ndarray
    image_h: np.ndarray
    paths: pa.Array
    cats: pa.Table

    def __post_init__(self) -> None:
        self.cat_ids = self.cats["class_id"].to_numpy().astype(np.int64)
        self.cat_order = np.argsort(self.cat_ids)
        self.cat_points = np.array([-1 if d is None else len(d) for d in self.cats["keypoints"].to_pylist()],
                                   dtype=np.int64)


def _label_batches(src: _Source, ctx: _Context, extras_out: dict) -> Iterator[pa.Table]:
    """The labels table, one batch of annotations at a time; then the id check and the extras."""
    file = ctx.file
    ann_ids = []
    label_extras = _Extras(ANNOTATION_FIELDS)
    empty = True
    for offset, block in src.batches("annotations"):
        with _at(offset):
            quick = _quick_labels(block.table, ctx, label_extras.skip)
        if quick is None:
            anns = block.records
            with _at(offset):
                ids = f.ints(file, "annotations", "id", f.values(anns, file, "annotations", "id"))
                table = _labels(file, anns, ctx, ids)
            label_extras.add(anns)
        else:
            ids, table, extra = quick
            label_extras.add_columns(extra, block.count)
        ann_ids.append(ids)
        empty = False
        yield table
    if empty:
        yield _labels(file, [], ctx, np.zeros(0, np.int64))
    f.unique(file, "annotations", "id", np.concatenate(ann_ids) if ann_ids else np.zeros(0, np.int64))
    extras_out.update(label_extras.arrays(file, "annotations", "labels"))


def _labels(file: Path, anns: list[dict], ctx: _Context, ann_ids: np.ndarray) -> pa.Table:
    """The labels table of one batch of annotations (indices in errors are the batch's; `_at` shifts them)."""
    image_ids, cat_ids = ctx.image_ids, ctx.cat_ids
    ann_image = f.ints(file, "annotations", "image_id", f.values(anns, file, "annotations", "image_id"))
    f.members(file, "annotations", "image_id", ann_image, image_ids, "image id")
    ann_cat = f.ints(file, "annotations", "category_id", f.values(anns, file, "annotations", "category_id"))
    f.members(file, "annotations", "category_id", ann_cat, cat_ids, "category id")
    segs = f.values(anns, file, "annotations", "segmentation", required=False)
    given_box = f.values(anns, file, "annotations", "bbox", required=False)
    for i, (b, sg) in enumerate(zip(given_box, segs)):
        if b is None and sg in (None, []):
            raise InputError(file, f"annotations[{i}].bbox", "required field is missing (no segmentation either)")
    box = f.boxes(file, "annotations", "bbox", given_box)
    area = f.numbers(file, "annotations", "area", f.values(anns, file, "annotations", "area", required=False))
    crowd = f.numbers(file, "annotations", "iscrowd", f.values(anns, file, "annotations", "iscrowd", required=False))
    bad_crowd = ~np.isnan(crowd) & ~np.isin(crowd, [0, 1])
    if bad_crowd.any():
        i = int(np.argmax(bad_crowd))
        raise InputError(file, f"annotations[{i}].iscrowd", f"expected 0 or 1, got {anns[i]['iscrowd']!r}")
    annotator = f.strings(file, "annotations", "annotator", f.values(anns, file, "annotations", "annotator", required=False))

    row = ctx.image_order[np.searchsorted(ctx.sorted_ids, ann_image)]  # image index of each annotation
    width, height = ctx.image_w[row], ctx.image_h[row]
    masks = encode(file, "annotations", segs, height, width)
    box = np.where(np.isnan(box), masks.box, box)
    area = np.where(np.isnan(area), masks.area, area)
    f.check_inside(box, width, height, lambda i: (file, f"annotations[{i}].bbox"))

    cat_row = ctx.cat_order[np.searchsorted(cat_ids[ctx.cat_order], ann_cat)]
    points, visible = keypoints(file, "annotations", f.values(anns, file, "annotations", "keypoints", required=False),
                                ctx.cat_points[cat_row])
    num_points = f.numbers(file, "annotations", "num_keypoints",
                           f.values(anns, file, "annotations", "num_keypoints", required=False))
    num_points = np.where(np.isnan(num_points), np.where(points.is_null().to_numpy(zero_copy_only=False), np.nan, visible),
                          num_points)
    return _table(ctx, row, cat_row, box, masks, points, num_points, area, crowd, annotator, ann_ids)


def _table(ctx: _Context, row, cat_row, box, masks, points, num_points, area, crowd, annotator, ann_ids) -> pa.Table:
    return pa.table({
        "path": ctx.paths.take(pa.array(row, pa.int64())),
        "class": ctx.cats["class"].take(pa.array(cat_row, pa.int64())),
        "x": box[:, 0], "y": box[:, 1], "w": box[:, 2], "h": box[:, 3],
        "polygon": masks.polygon,
        "mask": masks.mask_array(),
        "keypoints": points,
        "num_keypoints": pa.array(num_points, pa.float64(), from_pandas=True).cast(pa.int32()),
        "area": pa.array(area, pa.float64(), from_pandas=True),
        "iscrowd": pa.array(crowd == 1, pa.bool_()),
        "annotator": annotator,
        "source_id": pc.cast(pa.array(ann_ids, pa.int64()), pa.string()),
    })


def _quick_labels(table: pa.Table | None, ctx: _Context, skip: set[str]) -> tuple | None:
    """(ids, labels table, extras) of a block the quick path reads (boxes, no masks or keypoints), with
    every check of `_labels` passed; None sends the block to `_labels`, which names what is wrong."""
    if table is None or any(not q.absent(table[c] if c in table.column_names else None)
                            for c in ("segmentation", "keypoints")):
        return None
    col = {c: table[c].combine_chunks() if c in table.column_names else None for c in ANNOTATION_FIELDS}
    n = table.num_rows
    ann_ids, ann_image, ann_cat = q.ints(col["id"]), q.ints(col["image_id"]), q.ints(col["category_id"])
    box, area, crowd = q.boxes(col["bbox"], n), q.numbers(col["area"], n), q.numbers(col["iscrowd"], n)
    num_points, annotator = q.numbers(col["num_keypoints"], n), q.strings(col["annotator"], n)
    extra = q.extras(table, skip)
    if any(v is None for v in (ann_ids, ann_image, ann_cat, box, area, crowd, num_points, annotator, extra)):
        return None
    if (np.isnan(box[:, 0]).any() or not np.isin(ann_image, ctx.image_ids).all()
            or not np.isin(ann_cat, ctx.cat_ids).all() or (~np.isnan(crowd) & ~np.isin(crowd, [0, 1])).any()):
        return None
    row = ctx.image_order[np.searchsorted(ctx.sorted_ids, ann_image)]
    f.check_inside(box, ctx.image_w[row], ctx.image_h[row], lambda i: (ctx.file, f"annotations[{i}].bbox"))
    cat_row = ctx.cat_order[np.searchsorted(ctx.cat_ids[ctx.cat_order], ann_cat)]
    masks = encode(ctx.file, "annotations", [None] * n, ctx.image_h[row], ctx.image_w[row])
    area = np.where(np.isnan(area), masks.area, area)
    points = pa.nulls(n, pa.list_(pa.float64()))
    return ann_ids, _table(ctx, row, cat_row, box, masks, points, num_points, area, crowd, annotator, ann_ids), extra


def _quick_images(table: pa.Table | None, skip: set[str]) -> tuple | None:
    """(ids, file names, widths, heights, extras) of a block every check of the exact path passes; else None."""
    if table is None:
        return None
    col = {c: table[c].combine_chunks() if c in table.column_names else None for c in IMAGE_FIELDS}
    n = table.num_rows
    found = (q.ints(col["id"]), q.strings(col["file_name"], required=True), q.numbers(col["width"], n),
             q.numbers(col["height"], n), q.extras(table, skip))
    return None if any(v is None for v in found) else found
