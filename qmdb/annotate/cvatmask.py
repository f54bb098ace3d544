"""CVAT's mask encoding: run lengths over the mask's bounding rectangle, row by row, starting with a run of
background (CVAT for images 1.1: `<mask rle="…" left top width height>`), to and from COCO RLE.

>>> import numpy as np
>>> m = np.zeros((4, 5), np.uint8); m[1:3, 2:4] = 1; m[1, 3] = 0
>>> crop = from_binary(m); crop
('0,1,1,2', 2, 1, 2, 2)
>>> bool((to_binary(*crop, 4, 5) == m).all())
True
"""

from __future__ import annotations

import numpy as np


def from_binary(mask: np.ndarray) -> tuple[str, int, int, int, int] | None:
    """(rle, left, top, width, height) of a binary mask, None if it is empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    flat = np.ascontiguousarray(mask[top:bottom, left:right]).ravel() != 0
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate([[0], edges, [flat.size]]))
    if flat[0]:
        runs = np.concatenate([[0], runs])
    return ",".join(map(str, runs.tolist())), int(left), int(top), int(right - left), int(bottom - top)


def to_binary(rle: str, left: int, top: int, width: int, height: int, image_height: int, image_width: int) -> np.ndarray:
    """The full-image binary mask (uint8) of a CVAT mask; ValueError when the runs do not fill the rectangle
    or the rectangle leaves the image."""
    runs = np.array([int(v) for v in rle.split(",")], np.int64)
    if (runs < 0).any() or runs.sum() != width * height:
        raise ValueError(f"the runs add up to {runs.sum()} pixels, the rectangle has {width} x {height}")
    if left < 0 or top < 0 or left + width > image_width or top + height > image_height:
        raise ValueError(f"the rectangle ({left}, {top}, {width} x {height}) leaves the {image_width} x {image_height} image")
    values = np.arange(len(runs)) % 2
    canvas = np.zeros((image_height, image_width), np.uint8)
    canvas[top:top + height, left:left + width] = np.repeat(values, runs).reshape(height, width)
    return canvas


def to_coco(binary: np.ndarray) -> dict:
    """COCO compressed RLE `{size: [h, w], counts: str}` of a binary mask (pycocotools)."""
    from ..importers.masks import mask_api

    rle = mask_api("reading CVAT masks").encode(np.asfortranarray(binary))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
