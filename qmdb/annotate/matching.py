"""One-to-one matching of candidate pairs by a score, greedily from the best pair down (numpy).

Greedy matching by descending score (COCO's and every annotation tool's rule) is
the same as accepting, round after round, every pair that is the best of both
its ends among the pairs still open: each round is a few vectorized passes and
accepts at least the best open pair of every group of competing pairs (one
image's boxes of one class), so rounds are few. Ties break by the order of the
pairs given.

>>> import numpy as np
>>> a, b = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
>>> greedy(a, b, np.array([0.9, 0.8, 0.85, 0.3]))
(array([0, 1]), array([0, 1]))
"""

from __future__ import annotations

import numpy as np


def greedy(a: np.ndarray, b: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (a[i], b[i]) kept by greedy one-to-one matching on `score` (higher first), as two arrays
    ordered by a."""
    a, b, score = np.asarray(a, np.int64), np.asarray(b, np.int64), np.asarray(score, float)
    order = np.lexsort((np.arange(len(score)), -score))
    rank = np.empty(len(score), np.int64)
    rank[order] = np.arange(len(score))            # 0 = best pair; a strict total order
    open_ = np.ones(len(score), bool)
    kept_a, kept_b = [], []
    while open_.any():
        idx = np.flatnonzero(open_)
        best_a = _best(a[idx], rank[idx])
        best_b = _best(b[idx], rank[idx])
        mutual = idx[np.isin(rank[idx], best_a) & np.isin(rank[idx], best_b)]
        kept_a.append(a[mutual])
        kept_b.append(b[mutual])
        open_ &= ~np.isin(a, a[mutual]) & ~np.isin(b, b[mutual])
    ka, kb = (np.concatenate(k) if k else np.array([], np.int64) for k in (kept_a, kept_b))
    sort = np.argsort(ka, kind="stable")
    return ka[sort], kb[sort]


def _best(keys: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """The smallest rank of each distinct key."""
    order = np.lexsort((rank, keys))
    first = np.ones(len(order), bool)
    first[1:] = keys[order][1:] != keys[order][:-1]
    return rank[order][first]


def box_iou_pairs(ax: np.ndarray, bx: np.ndarray) -> np.ndarray:
    """IoU of box a[i] with box b[i], row by row; boxes as (n, 4) x, y, w, h.

    >>> box_iou_pairs(np.array([[0, 0, 2, 2.]]), np.array([[1, 0, 2, 2.]])).round(3).tolist()
    [0.333]
    """
    ax, bx = np.asarray(ax, float).reshape(-1, 4), np.asarray(bx, float).reshape(-1, 4)
    iw = np.clip(np.minimum(ax[:, 0] + ax[:, 2], bx[:, 0] + bx[:, 2]) - np.maximum(ax[:, 0], bx[:, 0]), 0, None)
    ih = np.clip(np.minimum(ax[:, 1] + ax[:, 3], bx[:, 1] + bx[:, 3]) - np.maximum(ax[:, 1], bx[:, 1]), 0, None)
    inter = iw * ih
    union = ax[:, 2] * ax[:, 3] + bx[:, 2] * bx[:, 3] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
