"""What an annotation tool's file gives back, one row per shape, in one Arrow schema for every reader.

A reader appends each shape it finds (`Shapes.box`, `.polygon`, `.mask`,
`.tag`) with the image name the file gives, the class, the qmdb `label_id` the
shape carries (if the tool kept it), the annotator the file names and where
in the file the shape sits (`field`, for error messages). `Shapes.table`
resolves image names to image ids, joins the rings of one polygon label back
together (qmdb writes a label's rings as shapes sharing its `label_id`), and
encodes polygons and masks as COCO RLE with their boxes and areas, as the COCO
importer does.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pyarrow as pa

from ..errors import InputError
from ..importers.masks import MASK_TYPE, RINGS_TYPE, encode

KINDS = ("box", "polygon", "mask", "tag")
SCHEMA = pa.schema([
    ("rid", pa.int64()), ("image_id", pa.int64()), ("class", pa.string()), ("kind", pa.string()),
    ("x", pa.float64()), ("y", pa.float64()), ("w", pa.float64()), ("h", pa.float64()),
    ("polygon", RINGS_TYPE), ("mask", MASK_TYPE), ("area", pa.float64()),
    ("label_id", pa.int64()), ("author", pa.string()), ("field", pa.string()),
])


def label_id_of(file: str, field: str, value: object) -> int | None:
    """A carried `label_id` attribute: empty means none (a shape the annotator drew).

    >>> label_id_of("a.xml", "f", " 12 "), label_id_of("a.xml", "f", "")
    (12, None)
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(file, field, f"label_id must be a qmdb label id (an integer), got {value!r}") from None
    if number != int(number):
        raise InputError(file, field, f"label_id must be an integer, got {value!r}")
    return int(number)


def number(file: str, field: str, value: object) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InputError(file, field, f"expected a number, got {value!r}") from None
    if not math.isfinite(out):
        raise InputError(file, field, f"expected a finite number, got {value!r}")
    return out


class Shapes:
    """The shapes of one file, appended by a reader in file order."""

    def __init__(self, file: str, author: str | None = None):
        self.file = file
        self.author = author            # the file's annotator (task owner, assignee): the fallback of every shape
        self.tags = True                # whether the format carries image-level labels (COCO does not)
        self.cols: dict[str, list] = {c: [] for c in ("image", "class", "kind", "box", "ring", "mask",
                                                       "label_id", "author", "field")}
        self.images: dict[str, tuple[int | None, int | None, int | None, str | None]] = {}

    def image(self, name: str, width: int | None = None, height: int | None = None, image_id: int | None = None,
              author: str | None = None) -> None:
        """An image of the task (also one whose shapes were all deleted: it is in the task's scope)."""
        self.images.setdefault(name, (image_id, width, height, author))

    def _add(self, name: str, cls: str, kind: str, field: str, label_id: int | None, author: str | None,
             box=None, ring=None, mask=None) -> None:
        if not cls:
            raise InputError(self.file, field, "the shape has no label (class)")
        values = {"image": name, "class": str(cls), "kind": kind, "box": box, "ring": ring, "mask": mask,
                  "label_id": label_id, "author": author, "field": field}
        for key, value in values.items():
            self.cols[key].append(value)

    def box(self, name, cls, x, y, w, h, *, field, label_id=None, author=None) -> None:
        if w < 0 or h < 0:
            raise InputError(self.file, field, f"the box has a negative size ({w} x {h})")
        self._add(name, cls, "box", field, label_id, author, box=(x, y, w, h))

    def polygon(self, name, cls, rings: list[list[float]], *, field, label_id=None, author=None) -> None:
        """A polygon label: one ring or several (`[[x1, y1, x2, y2, …], …]`)."""
        for points in rings:
            if len(points) < 6 or len(points) % 2:
                raise InputError(self.file, field, f"a polygon needs 3 or more x, y points, got {len(points)} numbers")
        self._add(name, cls, "polygon", field, label_id, author, ring=[[float(v) for v in r] for r in rings])

    def mask(self, name, cls, rle: dict, *, field, label_id=None, author=None) -> None:
        """`rle`: a COCO RLE dict (`size` [h, w], `counts` a list or a string), checked when encoded."""
        self._add(name, cls, "mask", field, label_id, author, mask=rle)

    def tag(self, name, cls, *, field, label_id=None, author=None) -> None:
        self._add(name, cls, "tag", field, label_id, author)

    def table(self, con) -> tuple[pa.Table, pa.Table]:
        """(the shapes as `SCHEMA`, the task's images as (image_id, author)); image names resolved in `con`'s
        project. A shape's author is its own, else its image's, else the file's."""
        from .images import resolve

        names = list(self.images)
        for name in self.cols["image"]:
            if name not in self.images:
                names.append(name)
                self.images[name] = (None, None, None, None)
        ids = resolve(con, self.file, names, [self.images[n][0] for n in names]) if names else []
        id_of = dict(zip(names, ids))
        sizes = dict(con.execute("SELECT image_id, [height, width] FROM images WHERE list_contains(?, image_id)",
                                 [ids]).fetchall()) if ids else {}
        c = self.cols
        n = len(c["kind"])
        image_id = np.array([id_of[name] for name in c["image"]], np.int64)
        image_author = {name: a if a is not None else self.author for name, (_, _, _, a) in self.images.items()}
        default_author = [image_author[name] for name in c["image"]]
        author = [a if a is not None else d for a, d in zip(c["author"], default_author)]
        rings, masks = self._merge_rings(image_id)
        nan4 = (np.nan,) * 4
        box = np.array([b if b is not None else nan4 for b in c["box"]], float).reshape(n, 4)
        area = box[:, 2] * box[:, 3]
        segs = [r if r is not None else m for r, m in zip(rings, masks)]
        hw = np.array([sizes.get(int(i), [None, None]) for i in image_id], float).reshape(n, 2)
        try:
            enc = encode(self.file, "shapes", segs, hw[:, 0], hw[:, 1])
        except InputError as error:   # name the shape as the file does, not by its row
            row = re.match(r"shapes\[(\d+)\]", error.field or "")
            raise InputError(self.file, c["field"][int(row.group(1))] if row else error.field, error.message) from None
        has_seg = np.array([s is not None for s in segs], bool)
        ring_box = np.array([_bounds(r) if r is not None else (np.nan,) * 4 for r in rings], float).reshape(n, 4)
        is_ring = np.array([r is not None for r in rings], bool)
        box[has_seg] = np.where(is_ring[has_seg, None], ring_box[has_seg], enc.box[has_seg])
        area[has_seg] = enc.area[has_seg]
        area[has_seg & np.isnan(area)] = 0.0
        keep = np.array([k != "dropped" for k in c["kind"]], bool)
        tag = np.array([k == "tag" for k in c["kind"]], bool)
        box[tag], area[tag] = np.nan, np.nan
        table = pa.table({
            "rid": pa.array(np.arange(n), pa.int64()), "image_id": pa.array(image_id, pa.int64()),
            "class": pa.array(c["class"], pa.string()), "kind": pa.array(c["kind"], pa.string()),
            **{k: pa.array(box[:, j], pa.float64(), from_pandas=True) for j, k in enumerate("xywh")},
            "polygon": pa.array(rings, RINGS_TYPE),
            "mask": pa.array(enc.mask, MASK_TYPE), "area": pa.array(area, pa.float64(), from_pandas=True),
            "label_id": pa.array(c["label_id"], pa.int64()), "author": pa.array(author, pa.string()),
            "field": pa.array(c["field"], pa.string()),
        }, schema=SCHEMA)
        scope = {}
        for name, image_id in id_of.items():
            scope.setdefault(image_id, image_author[name])
        return table.filter(pa.array(keep)), pa.table({"image_id": pa.array(list(scope), pa.int64()),
                                                      "author": pa.array(list(scope.values()), pa.string())})

    def _merge_rings(self, image_id: np.ndarray) -> tuple[list, list]:
        """Per shape, its polygon (a list of rings; None for other kinds) and mask: the rings of polygon shapes
        sharing one (image, label_id, class) join the first of them, the others are marked dropped."""
        c = self.cols
        rings: list = [None] * len(c["kind"])
        first: dict[tuple, int] = {}
        for i, (kind, ring, lid, cls) in enumerate(zip(c["kind"], c["ring"], c["label_id"], c["class"])):
            if kind != "polygon":
                continue
            key = (int(image_id[i]), lid, cls) if lid is not None else None
            if key is not None and key in first:
                rings[first[key]].extend(ring)
                c["kind"][i] = "dropped"
            else:
                rings[i] = list(ring)
                if key is not None:
                    first[key] = i
        return rings, list(c["mask"])


def _bounds(rings: list[list[float]]) -> tuple[float, float, float, float]:
    xs = np.concatenate([np.asarray(r[0::2], float) for r in rings])
    ys = np.concatenate([np.asarray(r[1::2], float) for r in rings])
    return xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()
