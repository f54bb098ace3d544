"""The shapes a gallery card draws: each label's and prediction's polygon rings, or its mask's outline.

A polygon (`polygon`, pixel rings as stored) is drawn as it is. A mask (COCO
RLE in `mask`) is decoded with pycocotools and traced with OpenCV's contour
hierarchy (outer contours and holes, drawn with the even-odd rule), each ring
simplified to within `TOLERANCE` pixels (Douglas-Peucker) so a page of large
masks stays small; contour points are pixel centres (+0.5). Without
pycocotools only polygons are drawn.

>>> from pycocotools import mask as api
>>> import numpy as np
>>> square = np.zeros((10, 12), np.uint8); square[2:6, 3:9] = 1
>>> rle = api.encode(np.asfortranarray(square))
>>> mask_rings({"size": list(rle["size"]), "counts": rle["counts"].decode()})
[[3.5, 2.5, 3.5, 5.5, 8.5, 5.5, 8.5, 2.5]]
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


def add_shapes(cards: list[dict]) -> list[dict]:
    """Replace each box entry's `polygon` and `mask` by `rings` (None: a box only), in place; each
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
    return cards
