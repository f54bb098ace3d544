"""The detector's first stage: candidate boxes from a local-contrast map, and the
fixed-size feature vector of each candidate that the second stage classifies."""

from __future__ import annotations

import cv2
import numpy as np

LEVELS = 3                   # image pyramid levels searched: full, half and quarter resolution
WINDOW = 15                  # side of the neighbourhood whose mean is the local background
THRESHOLDS = (1.0, 1.5, 2.5, 4.0, 7.0)   # ink thresholds, in units of the level's robust noise estimate
FLOOR = 4.0                  # gray levels: no threshold below this (a dark scene's digits are faint)
SMOOTHING = 0.8              # sigma of the Gaussian that tames pixel noise before thresholding
FEATURE_SIZE = 12            # candidates are resampled to FEATURE_SIZE² pixels


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes a (n, 4) and b (m, 4), each x, y, w, h.

    >>> iou(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 10, 10], [20, 20, 5, 5]])).round(3)
    array([[0.333, 0.   ]], dtype=float32)
    """
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    inter = np.minimum((a[:, 0] + a[:, 2])[:, None], (b[:, 0] + b[:, 2])[None, :])
    inter -= np.maximum(a[:, 0][:, None], b[:, 0][None, :])
    np.clip(inter, 0, None, out=inter)
    height = np.minimum((a[:, 1] + a[:, 3])[:, None], (b[:, 1] + b[:, 3])[None, :])
    height -= np.maximum(a[:, 1][:, None], b[:, 1][None, :])
    np.clip(height, 0, None, out=height)
    inter *= height
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :]
    union -= inter
    np.maximum(union, 1e-9, out=union)
    return np.divide(inter, union, out=inter)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best first."""
    order = np.argsort(-scores, kind="stable")
    overlaps = iou(boxes[order], boxes[order])
    keep = np.ones(len(order), bool)
    for i in range(len(order)):
        if keep[i]:
            keep[i + 1:] &= overlaps[i, i + 1:] < threshold
    return order[keep]


def _components(gray: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Character-shaped components of one pyramid level at every threshold, in full-resolution pixels."""
    smooth = cv2.GaussianBlur(gray, (0, 0), SMOOTHING)
    diff = smooth - cv2.blur(smooth, (WINDOW, WINDOW))
    noise = 1.4826 * float(np.median(np.abs(diff[::3, ::3])))
    boxes, polarity = [], []
    for threshold in np.maximum(FLOOR, np.array(THRESHOLDS) * noise):
        for sign in (1, -1):
            mask = ((sign * diff) > threshold).astype(np.uint8)
            mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
            _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
            x, y, w, h, area = stats[1:].T
            shaped = ((h >= 8) & (h <= 0.5 * gray.shape[0] * scale) & (w >= 2) & (w <= 1.3 * h) & (w >= 0.12 * h)
                      & (area >= 12) & (area <= 0.85 * w * h))
            boxes.append(np.stack([x, y, w, h], 1)[shaped] * scale)
            polarity.append(np.full(int(shaped.sum()), sign))
    return np.concatenate(boxes), np.concatenate(polarity)


def propose(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate boxes (n, 4: x, y, w, h) and their ink polarity (+1 brighter, -1 darker than around).

    At each level of an image pyramid, pixels that differ from their neighbourhood's
    mean by more than each of a few noise-scaled thresholds form connected components (a
    faint digit appears at the low thresholds, one touching texture separates at the high
    ones); components shaped like a character are kept, and near-identical boxes merged.
    """
    level = gray.astype(np.float32)
    found = []
    for depth in range(LEVELS):
        if depth:
            level = cv2.pyrDown(level)
        found.append(_components(level, 2 ** depth))
    boxes = np.concatenate([b for b, _ in found])
    polarity = np.concatenate([p for _, p in found])
    if len(boxes):
        _, first = np.unique(boxes, axis=0, return_index=True)     # the same component at several thresholds
        boxes, polarity = boxes[np.sort(first)], polarity[np.sort(first)]
        keep = nms(boxes, boxes[:, 3].astype(float), 0.85)
        boxes, polarity = boxes[keep], polarity[keep]
    return boxes.astype(np.int64), polarity


def features(gray: np.ndarray, boxes: np.ndarray, polarity: np.ndarray) -> np.ndarray:
    """Each candidate as FEATURE_SIZE² values in 0..1: a square around it (edges replicated at the
    image border), ink made bright, resampled, then stretched from its 20th percentile to its maximum."""
    size = FEATURE_SIZE
    out = np.zeros((len(boxes), size * size), np.float32)
    if not len(boxes):
        return out
    side = (np.maximum(boxes[:, 2], boxes[:, 3]) * 1.2).astype(int) + 2
    x0 = np.rint(boxes[:, 0] + boxes[:, 2] / 2 - side / 2).astype(int)
    y0 = np.rint(boxes[:, 1] + boxes[:, 3] / 2 - side / 2).astype(int)
    pad = int(side.max())
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    for i in range(len(boxes)):
        patch = padded[y0[i] + pad:y0[i] + pad + side[i], x0[i] + pad:x0[i] + pad + side[i]]
        out[i] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA).ravel()
    out *= polarity[:, None].astype(np.float32)
    low = np.percentile(out, 20, axis=1, keepdims=True)
    high = out.max(axis=1, keepdims=True)
    return np.clip((out - low) / np.maximum(high - low, 1e-3), 0, 1)


def describe(chips: np.ndarray, cells: int = 4, bins: int = 8) -> np.ndarray:
    """Chips (n, FEATURE_SIZE²) plus a histogram of gradient orientations over cells×cells
    cells (HOG-like, L2-normalised): the vector the detector's classifier sees."""
    side = FEATURE_SIZE
    images = chips.reshape(-1, side, side)
    gy, gx = np.gradient(images, axis=(1, 2))
    magnitude = np.hypot(gx, gy)
    orientation = np.minimum(((np.arctan2(gy, gx) % np.pi) / np.pi * bins).astype(int), bins - 1)
    k = side // cells
    hist = np.stack([(magnitude * (orientation == o)).reshape(-1, cells, k, cells, k).sum((2, 4))
                     for o in range(bins)], -1).reshape(len(images), cells * cells * bins)
    hist /= np.linalg.norm(hist, axis=1, keepdims=True) + 1e-6
    return np.hstack([chips, hist]).astype(np.float32)
