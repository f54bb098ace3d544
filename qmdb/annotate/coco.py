"""COCO instances JSON as an annotation tool exports it (CVAT's "COCO 1.0", datumaro's `coco`), read as shapes.

Images by `file_name`; each annotation's `bbox`, and its `segmentation`
where it has one (polygon rings: one polygon label; an RLE: a mask). The qmdb
label id comes back from the annotation's `attributes.label_id` (CVAT writes a
task's attributes there), or a top-level `label_id`; the annotator from
`attributes.annotator` or `annotator`, else `info.contributor`.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from .returned import Shapes, label_id_of, number


def read(file: str | Path, author: str | None = None) -> Shapes:
    file = str(file)
    try:
        doc = json.loads(Path(file).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(file, f"line {error.lineno}", f"not valid JSON: {error.msg}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list) or not isinstance(doc.get("annotations"), list):
        raise InputError(file, "images", "a COCO file has lists 'images' and 'annotations'")
    info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    shapes = Shapes(file, (str(info.get("contributor")).strip() or None) if info.get("contributor") else author)
    if shapes.author is None:
        shapes.author = author
    shapes.tags = False  # COCO has no image-level labels: those of the task's images are left alone
    categories = {c.get("id"): c.get("name") for c in doc.get("categories") or [] if isinstance(c, dict)}
    names = {}
    for i, image in enumerate(doc["images"]):
        if not isinstance(image, dict) or not image.get("file_name"):
            raise InputError(file, f"images[{i}].file_name", "the image has no file_name")
        names[image.get("id")] = image["file_name"]
        shapes.image(image["file_name"], image.get("width"), image.get("height"))
    for k, ann in enumerate(doc["annotations"]):
        field = f"annotations[{k}]"
        if not isinstance(ann, dict):
            raise InputError(file, field, "expected an object")
        if ann.get("image_id") not in names:
            raise InputError(file, f"{field}.image_id", f"no image with id {ann.get('image_id')!r}")
        if ann.get("category_id") not in categories:
            raise InputError(file, f"{field}.category_id", f"no category with id {ann.get('category_id')!r}")
        name, cls = names[ann["image_id"]], categories[ann["category_id"]]
        attrs = ann.get("attributes") if isinstance(ann.get("attributes"), dict) else {}
        label_id = label_id_of(file, f"{field}.attributes.label_id", attrs.get("label_id", ann.get("label_id")))
        who = attrs.get("annotator") or ann.get("annotator") or None
        segm = ann.get("segmentation")
        if isinstance(segm, list) and segm:
            if not all(isinstance(r, list) for r in segm):
                raise InputError(file, f"{field}.segmentation", "expected a list of polygons [[x1, y1, ...], ...]")
            shapes.polygon(name, cls, segm, field=f"{field}.segmentation", label_id=label_id, author=who)
        elif isinstance(segm, dict):
            _check_rle(file, f"{field}.segmentation", segm)
            shapes.mask(name, cls, segm, field=f"{field}.segmentation", label_id=label_id, author=who)
        else:
            bbox = ann.get("bbox")
            if not isinstance(bbox, list) or len(bbox) != 4:
                raise InputError(file, f"{field}.bbox", f"expected [x, y, w, h], got {bbox!r}")
            x, y, w, h = (number(file, f"{field}.bbox", v) for v in bbox)
            shapes.box(name, cls, x, y, w, h, field=f"{field}.bbox", label_id=label_id, author=who)
    return shapes


def _check_rle(file: str, field: str, segm: dict) -> None:
    """A compressed RLE string must decode (pycocotools takes some garbage without a word, and decodes it to
    nothing only when asked for the pixels)."""
    from ..importers.masks import mask_api

    size, counts = segm.get("size"), segm.get("counts")
    if not isinstance(counts, str) or not isinstance(size, list) or len(size) != 2:
        return  # an uncompressed RLE or a malformed one: the encoder checks those, naming the field
    try:
        mask_api("reading COCO masks").decode({"size": [int(v) for v in size], "counts": counts.encode("ascii")})
    except (ValueError, TypeError, UnicodeEncodeError):
        raise InputError(file, f"{field}.counts", "not a valid compressed RLE string") from None
