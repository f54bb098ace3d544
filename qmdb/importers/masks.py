"""Instance masks and keypoints of COCO-style records: checked, then stored as COCO compressed RLE.

A `segmentation` is a list of polygons (rings `[x1, y1, x2, y2, ...]`), an
uncompressed RLE (`{"size": [h, w], "counts": [n0, n1, ...]}`, COCO's crowd
regions) or a compressed RLE (`counts` a string). Every form is stored once,
as pycocotools' `annToRLE` makes it: a `mask` struct `{size: [h, w], counts}`
holding the compressed RLE string (the lingua franca any COCO client
decodes); polygons also stay in `polygon`. The box and area are COCO's:
`maskUtils.toBbox` and `maskUtils.area` of that RLE where the record has none.

pycocotools' mask API does the encoding (the `masks` extra, also in `dev`);
polygons without it are stored as rings with a NULL mask, and an RLE without
it is an error naming the extra.

>>> rows = [[[0, 0, 10, 0, 10, 10, 0, 10]], {"size": [20, 30], "counts": [25, 10, 565]}, None]
>>> enc = encode("a.json", "annotations", rows, [20, 20, 20], [30, 30, 30])
>>> [m and m["counts"] for m in enc.mask], enc.area.tolist(), enc.box[1].tolist()
(['0::00000000000000000`<', 'i0:ea0', None], [100.0, 10.0, nan], [1.0, 5.0, 1.0, 10.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..errors import InputError, MissingExtra

MASK_TYPE = pa.struct([("size", pa.list_(pa.int32())), ("counts", pa.string())])
RINGS_TYPE = pa.list_(pa.list_(pa.float64()))


def mask_api(what: str = "decoding COCO RLE masks"):
    """pycocotools' `mask` module, or a `MissingExtra` naming the `masks` extra."""
    try:
        from pycocotools import mask
    except ImportError:
        raise MissingExtra(what, "masks") from None
    return mask


def has_mask_api() -> bool:
    try:
        import pycocotools.mask  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Encoded:
    """Per record: the stored mask (dict or None), the polygon rings (or None), COCO's box and area
    of the mask (NaN where there is no mask)."""

    mask: list[dict | None]
    polygon: pa.Array
    box: np.ndarray
    area: np.ndarray

    def mask_array(self) -> pa.Array:
        return pa.array(self.mask, MASK_TYPE)


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_polygon(file: object, field: str, segm: list) -> None:
    for j, ring in enumerate(segm):
        if not isinstance(ring, list) or not all(_is_number(v) for v in ring):
            raise InputError(file, f"{field}[{j}]", "expected a polygon [x1, y1, x2, y2, ...] of numbers")
        if len(ring) % 2:
            raise InputError(file, f"{field}[{j}]", f"a polygon needs x, y pairs: got an odd number ({len(ring)}) of coordinates")
        if len(ring) < 6:
            raise InputError(file, f"{field}[{j}]", f"a polygon needs at least 3 points, got {len(ring) // 2} "
                             "(pycocotools cannot rasterize it)")


def _check_rle(file: object, field: str, segm: dict, height: float, width: float) -> None:
    size, counts = segm.get("size"), segm.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v >= 0 for v in size)):
        raise InputError(file, f"{field}.size", f"expected [height, width] of an RLE, got {size!r}")
    if not np.isnan(height) and not np.isnan(width) and (size[0] != height or size[1] != width):
        raise InputError(file, f"{field}.size", f"RLE size {size[0]}x{size[1]} (h x w) disagrees with the "
                         f"{height:g}x{width:g} image")
    if isinstance(counts, list):
        if not all(isinstance(v, int) and v >= 0 for v in counts):
            raise InputError(file, f"{field}.counts", "expected run lengths (integers >= 0)")
        if sum(counts) != size[0] * size[1]:
            raise InputError(file, f"{field}.counts", f"the runs cover {sum(counts)} pixels, the mask has "
                             f"{size[0] * size[1]}")
    elif not isinstance(counts, str):
        raise InputError(file, f"{field}.counts", "expected a list of run lengths or a compressed RLE string")


def encode(file: object, name: str, segs: list, heights, widths, key: str = "segmentation") -> Encoded:
    """Check and encode each record's segmentation (`None`: no mask) on its image's height and width
    (NaN: unknown; a polygon then keeps its rings and gets no mask)."""
    n = len(segs)
    heights, widths = np.asarray(heights, float), np.asarray(widths, float)
    masks: list[dict | None] = [None] * n
    polys: list[list | None] = [None] * n
    box, area = np.full((n, 4), np.nan), np.full(n, np.nan)
    api = None
    for i, segm in enumerate(segs):
        if segm is None or segm == []:
            continue
        field = f"{name}[{i}].{key}"
        if isinstance(segm, list):
            _check_polygon(file, field, segm)
            polys[i] = segm
            if np.isnan(heights[i]) or np.isnan(widths[i]) or not has_mask_api():
                continue
            api = api or mask_api()
            try:  # exactly annToRLE
                rle = api.merge(api.frPyObjects(segm, int(heights[i]), int(widths[i])))
            except Exception as error:
                raise InputError(file, field, f"pycocotools cannot rasterize this polygon: {error}") from None
        elif isinstance(segm, dict):
            _check_rle(file, field, segm, heights[i], widths[i])
            api = api or mask_api()
            h, w = segm["size"]
            if isinstance(segm["counts"], list):
                rle = api.frPyObjects(segm, h, w)
            else:
                rle = {"size": [h, w], "counts": segm["counts"].encode("ascii")}
                try:
                    api.area(rle)
                except Exception:
                    raise InputError(file, f"{field}.counts", "not a valid compressed RLE string") from None
        else:
            raise InputError(file, field, "expected a list of polygons [[x1, y1, x2, y2, ...], ...] or an RLE object")
        masks[i] = {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
        area[i] = float(api.area(rle))
        box[i] = api.toBbox(rle)
    return Encoded(masks, pa.array(polys, RINGS_TYPE), box, area)


def to_rles(masks: list[dict | None]) -> list[dict | None]:
    """Stored masks (as read back from DuckDB) to pycocotools RLE dicts."""
    return [None if m is None else {"size": list(m["size"]), "counts": m["counts"].encode("ascii")} for m in masks]


def keypoints(file: object, name: str, vals: list, expected: np.ndarray, key: str = "keypoints") -> tuple[pa.Array, np.ndarray]:
    """Check flat `[x1, y1, v1, ...]` keypoint lists against the count their category declares
    (`expected[i]`, -1: any multiple of 3); returns them and the number with v > 0 per record."""
    counts = np.zeros(len(vals), dtype=np.int64)
    for i, kp in enumerate(vals):
        if kp is None:
            continue
        field = f"{name}[{i}].{key}"
        if not isinstance(kp, list) or not all(_is_number(v) for v in kp):
            raise InputError(file, field, "expected a flat list [x1, y1, v1, x2, y2, v2, ...] of numbers")
        if len(kp) % 3:
            raise InputError(file, field, f"expected x, y, v triplets: got {len(kp)} numbers")
        if expected[i] >= 0 and len(kp) != 3 * expected[i]:
            raise InputError(file, field, f"{len(kp) // 3} keypoints, the category declares {expected[i]}")
        counts[i] = int(np.count_nonzero(np.asarray(kp[2::3], float) > 0))
    return pa.array([None if v is None else [float(x) for x in v] for v in vals], pa.list_(pa.float64())), counts
