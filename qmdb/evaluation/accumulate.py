"""COCOeval's `accumulate` and `summarize` on a `Matching`, vectorized over thresholds.

Precision is the 101-point interpolated precision of COCO (the precision
envelope read at the first detection whose recall reaches each recall
threshold), -1 where a class has no non-ignored ground truth; the summary
averages skip those, exactly as pycocotools does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matching import Boxes, Matching
from .params import AREA_LABELS, IOU_THRESHOLDS, MAX_DETS, RECALL_THRESHOLDS, SUMMARY


@dataclass
class Accumulated:
    """`precision[T, R, K, A, M]` and `recall[T, K, A, M]` as COCOeval's `eval`, plus `gts[K, A]`, `dets[K, A, M]`."""

    precision: np.ndarray
    recall: np.ndarray
    gts: np.ndarray
    dets: np.ndarray

    def ap(self) -> np.ndarray:
        """Per threshold, class, area and maxDets: the mean of the 101 precisions, NaN where COCO has -1."""
        p = self.precision
        return np.where(p[:, 0] > -1, p.mean(axis=1), np.nan)

    def stats(self) -> dict[str, float]:
        """The twelve numbers of `COCOeval.summarize()`, by name (-1 where nothing was evaluated)."""
        out = {}
        for name, is_ap, iou, area, max_det in SUMMARY:
            a, m = AREA_LABELS.index(area), MAX_DETS.index(max_det)
            s = self.precision[..., a, m] if is_ap else self.recall[..., a, m]
            if iou is not None:
                s = s[np.flatnonzero(IOU_THRESHOLDS == iou)]
            valid = s[s > -1]
            out[name] = float(np.mean(valid)) if valid.size else -1.0
        return out


def accumulate(gt: Boxes, dt: Boxes, matching: Matching, n_classes: int, *,
               max_dets: tuple[int, ...] = MAX_DETS, recall_thresholds: np.ndarray = RECALL_THRESHOLDS) -> Accumulated:
    """Precision/recall curves per class, area range and maxDets from the matches."""
    A, T = matching.dt_hit.shape[:2]
    R, K, M = len(recall_thresholds), n_classes, len(max_dets)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    gts = np.stack([np.bincount(gt.cls[~matching.gt_ignore[a]], minlength=K) for a in range(A)], axis=1)
    dets = np.zeros((K, A, M), dtype=np.int64)
    kept = np.flatnonzero(matching.dt_kept)
    # COCO's order: class, then score descending (stable), over images in id order, each in its rank order.
    order = kept[np.lexsort((matching.dt_rank[kept], dt.image[kept], -dt.score[kept], dt.cls[kept]))]
    ranks = matching.dt_rank[order]
    hits = [np.take(matching.dt_hit[a], order, axis=1) for a in range(A)]
    ignores = [np.take(matching.dt_ignore[a], order, axis=1) for a in range(A)]
    for m, max_det in enumerate(max_dets):
        within = ranks < max_det
        cls = dt.cls[order[within]]
        bounds = np.searchsorted(cls, np.arange(K + 1))
        for a in range(A):
            hit, ignored = hits[a][:, within], ignores[a][:, within]
            tp_all = np.cumsum(hit & ~ignored, axis=1, dtype=np.int32)
            fp_all = np.cumsum(~hit & ~ignored, axis=1, dtype=np.int32)
            for k in np.flatnonzero(gts[:, a] > 0):
                s, e = bounds[k], bounds[k + 1]
                nd = e - s
                dets[k, a, m] = nd
                if nd == 0:
                    recall[:, k, a, m] = 0
                    precision[:, :, k, a, m] = 0
                    continue
                base_tp = tp_all[:, s - 1:s] if s else 0
                base_fp = fp_all[:, s - 1:s] if s else 0
                tp = (tp_all[:, s:e] - base_tp).astype(float)
                fp = (fp_all[:, s:e] - base_fp).astype(float)
                rc = tp / gts[k, a]
                pr = tp / (fp + tp + np.spacing(1))
                recall[:, k, a, m] = rc[:, -1]
                envelope = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
                q = np.zeros((T, R))
                for t in range(T):
                    inds = np.searchsorted(rc[t], recall_thresholds, side="left")
                    ok = inds < nd
                    q[t, ok] = envelope[t, inds[ok]]
                precision[:, :, k, a, m] = q
    return Accumulated(precision, recall, gts, dets)
