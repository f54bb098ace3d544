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


def _segment_base(cumulative: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """The running count before each segment: `cumulative[:, bounds[k] - 1]`, 0 for a segment at the start."""
    before = cumulative[:, np.maximum(bounds[:-1] - 1, 0)]
    return np.where(bounds[:-1] > 0, before, 0)


def _first_reaching(gts: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """`[K, R]`: the fewest true positives x with ``x / gts[k] >= thresholds[r]`` in floating point.

    Recall is tp / gts, monotone in tp, so COCO's `searchsorted(rc, recThrs)` is a search
    for this integer in the (exact) TP counts.
    """
    g = np.maximum(gts, 1).astype(float)[:, None]
    x = np.clip(np.ceil(thresholds[None, :] * g), 0, g)
    for _ in range(2):                       # ceil's rounding is off by at most one either way
        x -= (x > 0) & ((x - 1) / g >= thresholds[None, :])
        x += (x / g < thresholds[None, :]) & (x <= g)
    return x.astype(np.int64)


def ground_truths(gt_cls: np.ndarray, gt_ignore: np.ndarray, n_classes: int) -> np.ndarray:
    """`[K, A]`: the non-ignored ground truths of each class in each area range (`gt_ignore` is `[A, gt]`)."""
    return np.stack([np.bincount(gt_cls[~gt_ignore[a]], minlength=n_classes) for a in range(len(gt_ignore))], axis=1)


def accumulate(gt: Boxes, dt: Boxes, matching: Matching, n_classes: int, *,
               max_dets: tuple[int, ...] = MAX_DETS, recall_thresholds: np.ndarray = RECALL_THRESHOLDS) -> Accumulated:
    """Precision/recall curves per class, area range and maxDets from the matches (`curves` of the
    detections COCO evaluates: rank below max_det)."""
    kept = np.flatnonzero(matching.dt_kept)
    return curves(ground_truths(gt.cls, matching.gt_ignore, n_classes), dt.cls, dt.score, dt.image,
                  matching.dt_rank, matching.dt_hit, matching.dt_ignore, kept,
                  max_dets=max_dets, recall_thresholds=recall_thresholds)


def curves(gts: np.ndarray, cls: np.ndarray, score: np.ndarray, image: np.ndarray, rank: np.ndarray,
           dt_hit: np.ndarray, dt_ignore: np.ndarray, kept: np.ndarray, *,
           max_dets: tuple[int, ...] = MAX_DETS, recall_thresholds: np.ndarray = RECALL_THRESHOLDS) -> Accumulated:
    """Precision/recall curves of classes `0..len(gts) - 1` from the detections `kept` (indices into the
    per-detection arrays; `dt_hit`, `dt_ignore` are `[A, T, detection]`, `gts` is `ground_truths`).

    All classes and thresholds at once: the detections sorted by class, TP/FP
    counts cumulated per class segment, and COCO's per-class, per-threshold
    `searchsorted(rc, recThrs, 'left')` one search of integer keys (segment,
    TP count) for the TP count that first reaches each recall threshold; only
    the precision envelope loops over classes. Every float is the one COCOeval
    computes, and a class's numbers depend only on its own detections, so the
    classes can be accumulated a few at a time (`chunked.accumulate_by_class`).
    """
    A, T = dt_hit.shape[:2]
    R, K, M = len(recall_thresholds), len(gts), len(max_dets)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    dets = np.zeros((K, A, M), dtype=np.int64)
    # COCO's order: class, then score descending (stable), over images in id order, each in its rank order.
    order = kept[np.lexsort((rank[kept], image[kept], -score[kept], cls[kept]))]
    ranks = rank[order]
    hits = [np.take(dt_hit[a], order, axis=1) for a in range(A)]
    ignores = [np.take(dt_ignore[a], order, axis=1) for a in range(A)]
    reach = [_first_reaching(gts[:, a], recall_thresholds) for a in range(A)]
    for m, max_det in enumerate(max_dets):
        within = ranks < max_det
        everything = bool(within.all())
        cls_sorted = cls[order[within]]
        N = len(cls_sorted)
        bounds = np.searchsorted(cls_sorted, np.arange(K + 1))
        nd = np.diff(bounds)
        for a in range(A):
            counted = gts[:, a] > 0
            dets[counted, a, m] = nd[counted]
            recall[:, counted & (nd == 0), a, m] = 0
            precision[:, :, counted & (nd == 0), a, m] = 0
            evaluated = np.flatnonzero(counted & (nd > 0))
            if not len(evaluated):
                continue
            hit, ignored = (hits[a], ignores[a]) if everything else (hits[a][:, within], ignores[a][:, within])
            tp_all = np.cumsum(hit & ~ignored, axis=1, dtype=np.int32)
            n_all = np.cumsum(~ignored, axis=1, dtype=np.int32)            # TP + FP so far
            tp_n = tp_all - np.repeat(_segment_base(tp_all, bounds), nd, axis=1)
            tp = tp_n.astype(float)
            # fp + tp of COCO, summed as integers: the same double
            pr = tp / ((n_all - np.repeat(_segment_base(n_all, bounds), nd, axis=1)) + np.spacing(1))
            ends = bounds[evaluated + 1] - 1
            recall[:, evaluated, a, m] = tp[:, ends] / gts[evaluated, a]
            # (row, class, TP count) as one sorted integer key: one search for every (t, k, r).
            key = (np.arange(T)[:, None] * (K + 1) + np.repeat(np.arange(K), nd)[None, :]) * (N + 2) + tp_n.astype(np.int64)
            want = (np.arange(T)[:, None, None] * (K + 1) + evaluated[None, :, None]) * (N + 2) + reach[a][evaluated][None]
            found = np.searchsorted(key.ravel(), want.ravel(), side="left").reshape(want.shape)
            local = found - np.arange(T)[:, None, None] * N - bounds[evaluated][None, :, None]   # [T, k, R]
            ok = local < nd[evaluated][None, :, None]
            column = np.where(ok, found - np.arange(T)[:, None, None] * N, 0)
            envelope = np.empty_like(pr)
            for k in evaluated:
                s, e = bounds[k], bounds[k + 1]
                envelope[:, s:e] = np.maximum.accumulate(pr[:, s:e][:, ::-1], axis=1)[:, ::-1]
            q = np.where(ok, np.take_along_axis(envelope, column.reshape(T, -1), axis=1).reshape(ok.shape), 0.0)
            precision[:, :, evaluated, a, m] = q.transpose(0, 2, 1)
    return Accumulated(precision, recall, gts, dets)
