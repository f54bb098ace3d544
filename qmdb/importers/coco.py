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
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from . import fields as f
from .extras import extra_fields
from .files import probe_images, read_json, sizes_or_none
from .masks import encode, keypoints
from .store import DatasetBatch

IMAGE_FIELDS = {"id", "file_name", "width", "height"}
IMAGE_IGNORED = frozenset({"license", "coco_url", "flickr_url"})
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


def read(source: str | Path, *, name: str | None = None, root: str | Path | None = None,
         split: str | None = None) -> DatasetBatch:
    """Parse and check a COCO instances file; read the headers of the images it names."""
    file = Path(source)
    data = read_json(file, dict, "a COCO object with images, annotations and categories")
    cats = categories(file, _section(file, data, "categories"))
    imgs = _section(file, data, "images")
    anns = _section(file, data, "annotations", required=False)

    image_ids = f.ints(file, "images", "id", f.values(imgs, file, "images", "id"))
    f.unique(file, "images", "id", image_ids)
    paths = f.strings(file, "images", "file_name", f.values(imgs, file, "images", "file_name"), required=True)
    f.unique(file, "images", "file_name", np.asarray(paths.to_pylist(), dtype=object))
    declared_w = f.numbers(file, "images", "width", f.values(imgs, file, "images", "width", required=False))
    declared_h = f.numbers(file, "images", "height", f.values(imgs, file, "images", "height", required=False))

    ann_ids = f.ints(file, "annotations", "id", f.values(anns, file, "annotations", "id"))
    f.unique(file, "annotations", "id", ann_ids)
    ann_image = f.ints(file, "annotations", "image_id", f.values(anns, file, "annotations", "image_id"))
    f.members(file, "annotations", "image_id", ann_image, image_ids, "image id")
    ann_cat = f.ints(file, "annotations", "category_id", f.values(anns, file, "annotations", "category_id"))
    cat_ids = cats["class_id"].to_numpy().astype(np.int64)
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

    root = Path(root) if root is not None else default_root(file, data)
    path_list = paths.to_pylist()
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

    order = np.argsort(image_ids)
    row = order[np.searchsorted(image_ids[order], ann_image)]  # image index of each annotation
    width = np.where(np.isnan(header_w), declared_w, header_w)[row]
    height = np.where(np.isnan(header_h), declared_h, header_h)[row]
    masks = encode(file, "annotations", segs, height, width)
    box = np.where(np.isnan(box), masks.box, box)
    area = np.where(np.isnan(area), masks.area, area)
    f.check_inside(box, width, height, lambda i: (file, f"annotations[{i}].bbox"))

    cat_order = np.argsort(cat_ids)
    cat_row = cat_order[np.searchsorted(cat_ids[cat_order], ann_cat)]
    declared = cats["keypoints"].to_pylist()
    expected = np.array([-1 if declared[r] is None else len(declared[r]) for r in cat_row], dtype=np.int64)
    points, visible = keypoints(file, "annotations", f.values(anns, file, "annotations", "keypoints", required=False),
                                expected)
    num_points = f.numbers(file, "annotations", "num_keypoints",
                           f.values(anns, file, "annotations", "num_keypoints", required=False))
    num_points = np.where(np.isnan(num_points), np.where(points.is_null().to_numpy(zero_copy_only=False), np.nan, visible),
                          num_points)
    images = pa.table({
        "path": paths,
        "split": pa.array([split] * len(imgs), pa.string()),
        "source_id": pc.cast(pa.array(image_ids), pa.string()),
    })
    for column in probe.column_names:
        images = images.append_column(column, probe[column])
    labels = pa.table({
        "path": paths.take(pa.array(row, pa.int64())),
        "class": cats["class"].take(pa.array(cat_row, pa.int64())),
        "x": box[:, 0], "y": box[:, 1], "w": box[:, 2], "h": box[:, 3],
        "polygon": masks.polygon,
        "mask": masks.mask_array(),
        "keypoints": points,
        "num_keypoints": pa.array(num_points, from_pandas=True).cast(pa.int32()),
        "area": pa.array(area, from_pandas=True),
        "iscrowd": pa.array(crowd == 1),
        "annotator": annotator,
        "source_id": pc.cast(pa.array(ann_ids), pa.string()),
    })
    return DatasetBatch(
        name=name or file.stem, root=root, format="coco", source=str(file.resolve()), task="detection",
        images=images, classes=cats, labels=labels,
        image_extras=extra_fields(imgs, IMAGE_FIELDS, file, "images", "images", IMAGE_IGNORED),
        label_extras=extra_fields(anns, ANNOTATION_FIELDS, file, "annotations", "labels"),
        notes=notes,
    )
