"""The shapes a gallery card draws: each label's and prediction's polygon rings, or its mask's outline,
and its keypoint skeleton.

A polygon (`polygon`, pixel rings as stored) is drawn as it is. A mask (COCO
RLE in `mask`) is decoded with pycocotools and traced with OpenCV's contour
hierarchy (outer contours and holes, drawn with the even-odd rule), each ring
simplified to within `TOLERANCE` pixels (Douglas-Peucker) so a page of large
masks stays small; contour points are pixel centres (+0.5). Without
pycocotools only polygons are drawn. Keypoints (COCO `x, y, v` triplets) are drawn where visible
(v > 0), joined by the class's `skeleton` (1-based keypoint pairs, as COCO writes them).

>>> from pycocotools import mask as api
>>> import numpy as np
>>> square = np.zeros((10, 12), np.uint8); square[2:6, 3:9] = 1
>>> rle = api.encode(np.asfortranarray(square))
>>> mask_rings({"size": list(rle["size"]), "counts": rle["counts"].decode()})
[[3.5, 2.5, 3.5, 5.5, 8.5, 5.5, 8.5, 2.5]]
>>> skeleton([10, 20, 2, 0, 0, 0, 30, 40, 1], [[1, 2], [2, 3], [1, 3]])
([[10.0, 20.0], [30.0, 40.0]], [[0, 1]])
"""

from __future__ import annotations

import cv2
import numpy as np

from ..importers.masks import has_mask_api, mask_api, to_rles

TOLERANCE = 0.75  # px: a ring drawn on a card is within this of the mask's traced outline


def mask_rings(mask: dict) -> list[list[float]]:
    """The outline of a stored mask as flat rings `[x1, y1, x2, y2, ...]` (outer contours and holes)."""
    pixels = mask_api("drawing masks").decode(to_rles([mask])[0])
    contours, _ = cv2.findContours(pixels.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for contour in contours:
        ring = cv2.approxPolyDP(contour, TOLERANCE, True).reshape(-1, 2) + 0.5
        if len(ring) >= 2:
            out.append([float(v) for v in ring.ravel()])
    return out


def skeleton(keypoints: list[float], edges: list[list[int]] | None) -> tuple[list[list[float]], list[list[int]]]:
    """`(points, edges)`: the visible keypoints (v > 0) as `[x, y]`, and the skeleton's edges between
    two visible points as 0-based indices into `points` (edges naming a keypoint the entry lacks are dropped)."""
    triplets = np.asarray(keypoints, dtype=float).reshape(-1, 3)
    visible = triplets[:, 2] > 0
    index = np.cumsum(visible) - 1                      # keypoint k -> its place among the visible ones
    pairs = np.asarray(edges or [], dtype=np.int64).reshape(-1, 2) - 1
    inside = ((pairs >= 0) & (pairs < len(triplets))).all(axis=1)
    pairs = pairs[inside]
    pairs = pairs[visible[pairs].all(axis=1)] if len(pairs) else pairs
    return triplets[visible, :2].tolist(), index[pairs].tolist()


def add_shapes(cards: list[dict]) -> list[dict]:
    """Replace each box entry's `polygon` and `mask` by `rings` (None: a box only), and its `keypoints`
    and `skeleton` by `points` and `edges` (`skeleton`; None without keypoints), in place; each
    distinct mask of the page is traced once."""
    decode = has_mask_api()
    traced: dict[tuple, list] = {}
    for card in cards:
        for entry in card["labels"] + card["predictions"]:
            polygon, mask = entry.pop("polygon", None), entry.pop("mask", None)
            if polygon:
                entry["rings"] = [list(r) for r in polygon]
            elif mask is not None and decode:
                key = (mask["counts"], *mask["size"])
                if key not in traced:
                    traced[key] = mask_rings(mask)
                entry["rings"] = traced[key]
            else:
                entry["rings"] = None
            keypoints, edges = entry.pop("keypoints", None), entry.pop("skeleton", None)
            entry["points"], entry["edges"] = skeleton(keypoints, edges) if keypoints else (None, None)
    return cards
