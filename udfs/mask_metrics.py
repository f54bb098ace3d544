"""The built-in mask metrics: shape and fit of a label's mask, from the mask alone (no pixels of the image).

Each is a `@mask_metric` of a `MaskItem` (the decoded 0/1 mask and the box):
area, fill of the box, share outside the box, parts, holes, contour vertices,
circularity. Parts and holes use 8-connected foreground (OpenCV's contour
hierarchy: an inner contour is a hole).

>>> import numpy as np, cv2
>>> ring = np.zeros((40, 40), np.uint8); _ = cv2.circle(ring, (20, 20), 15, 1, -1); _ = cv2.circle(ring, (20, 20), 6, 0, -1)
>>> item = MaskItem(ring, np.array([5., 5., 31., 31.]))
>>> mask_parts(item), mask_holes(item), round(mask_fill(item), 3), mask_outside_box(item)
(1, 1, 0.62, 0.0)
"""

from __future__ import annotations

import cv2
import numpy as np

from .mask_registry import MaskItem, mask_metric


def _contours(mask: np.ndarray) -> tuple[list, np.ndarray]:
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return list(contours), (hierarchy[0] if hierarchy is not None else np.zeros((0, 4), np.int32))


@mask_metric(version=1, unit="px")
def mask_area(item: MaskItem) -> float:
    """Mask area: its pixel count (pycocotools' `area`)."""
    return float(item.mask.sum())


@mask_metric(version=1, unit="0..1 (1 = the mask fills its box)", box=True)
def mask_fill(item: MaskItem) -> float:
    """Mask-to-box fill ratio: mask area over box area w × h."""
    w, h = item.box[2], item.box[3]
    return float(item.mask.sum() / (w * h)) if w * h > 0 else float("nan")


@mask_metric(version=1, unit="0..1 (0 = inside its box)", box=True)
def mask_outside_box(item: MaskItem) -> float:
    """Share of the mask's pixels outside its box (the box rounded outward to whole pixels)."""
    total = float(item.mask.sum())
    if total == 0 or np.isnan(item.box).any():
        return float("nan")
    x, y, w, h = item.box
    x0, y0 = max(int(np.floor(x)), 0), max(int(np.floor(y)), 0)
    x1, y1 = max(int(np.ceil(x + w)), 0), max(int(np.ceil(y + h)), 0)
    return 1.0 - float(item.mask[y0:y1, x0:x1].sum()) / total


@mask_metric(version=1, type="INTEGER", unit="count")
def mask_parts(item: MaskItem) -> int:
    """Fragments: the mask's 8-connected parts (0 for an empty mask)."""
    return int(cv2.connectedComponents(item.mask.astype(np.uint8), connectivity=8)[0] - 1)


@mask_metric(version=1, type="INTEGER", unit="count")
def mask_holes(item: MaskItem) -> int:
    """Holes: background regions enclosed by the mask (inner contours)."""
    _, hierarchy = _contours(item.mask)
    return int(np.count_nonzero(hierarchy[:, 3] >= 0))


@mask_metric(version=1, type="INTEGER", unit="count")
def mask_vertices(item: MaskItem) -> int:
    """Polygon complexity: vertices of the mask's outer and inner contours (OpenCV's simple chain)."""
    contours, _ = _contours(item.mask)
    return int(sum(len(c) for c in contours))


@mask_metric(version=1, unit="0..1 (1 = a disc)")
def mask_circularity(item: MaskItem) -> float:
    """Circularity 4π·area / perimeter², perimeter the length of all contours."""
    contours, _ = _contours(item.mask)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return float(min(1.0, 4 * np.pi * item.mask.sum() / perimeter ** 2)) if perimeter > 0 else float("nan")
