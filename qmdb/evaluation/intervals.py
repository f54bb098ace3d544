"""Confidence intervals: Wilson for rates, an image bootstrap for COCO-style AP.

>>> low, high = wilson(np.array([8]), np.array([10]))
>>> round(float(low[0]), 4), round(float(high[0]), 4)
(0.4902, 0.9433)
"""

from __future__ import annotations

import numpy as np

from .params import RECALL_THRESHOLDS

Z95 = 1.959963984540054


def wilson(successes: np.ndarray, trials: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of successes/trials (NaN where there are no trials)."""
    x, n = np.asarray(successes, float), np.asarray(trials, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1 + z * z / n
        center = (p + z * z / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return center - half, center + half


def interpolated_ap(tp: np.ndarray, fp: np.ndarray, npos: np.ndarray) -> np.ndarray:
    """COCO's 101-point AP of curves given as cumulative (weighted) TP and FP counts, one curve per row.

    `tp`, `fp` are `[B, n]` cumulative sums in detection order; `npos` is `[B]`.
    Rows with npos == 0 give NaN.
    """
    B, n = tp.shape
    out = np.full(B, np.nan)
    rows = np.flatnonzero(npos > 0)
    if n == 0:
        out[rows] = 0.0
        return out
    if not rows.size:
        return out
    tp, fp, npos = tp[rows], fp[rows], npos[rows].astype(float)
    rc = tp / npos[:, None]
    pr = tp / (fp + tp + np.spacing(1))
    env = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
    # searchsorted(rc[b], RECALL_THRESHOLDS, side="left") for every row at once, exactly: rc[b, j] < R[r]
    # iff r >= m[b, j] = searchsorted(R, rc[b, j], side="right"), so inds[b, r] = #{j: m[b, j] <= r}.
    b, R = len(rows), len(RECALL_THRESHOLDS)
    m = np.searchsorted(RECALL_THRESHOLDS, rc, side="right")                  # [b, n] in 0 .. R
    counts = np.bincount((np.arange(b)[:, None] * (R + 1) + m).ravel(), minlength=b * (R + 1)).reshape(b, R + 1)
    inds = np.cumsum(counts[:, :R], axis=1)
    ok = inds < n
    picked = np.take_along_axis(env, np.minimum(inds, n - 1), axis=1)
    out[rows] = np.where(ok, picked, 0.0).mean(axis=1)
    return out


def class_ap(det_image: np.ndarray, det_tp: np.ndarray, gt_image: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AP of one class under image weights `[B, images]` (row 0 of all ones gives the point estimate).

    Detections must be in COCO's order (score descending); images are 0-based codes.
    """
    w = weights[:, det_image].astype(float)
    tp = np.cumsum(w * det_tp, axis=1)
    fp = np.cumsum(w * ~det_tp, axis=1)
    npos = weights[:, gt_image].sum(axis=1).astype(float)
    return interpolated_ap(tp, fp, npos)
