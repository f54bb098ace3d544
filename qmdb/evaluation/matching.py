"""COCO's greedy matching of detections to ground truths, for many images at once.

pycocotools' `evaluateImg` walks, per image and class, the detections best score
first and gives each the free ground truth of highest IoU at or above the
threshold; a non-ignored ground truth always wins over an ignored one (crowd, or
outside the area range), ties go to the later ground truth, and crowd regions
can absorb any number of detections. The walk is sequential in the detections,
so here it runs *rank by rank*: step r takes the r-th detection of every
(image, class) group at once, for all IoU thresholds and area ranges together,
as array operations. Only pairs with IoU at or above the lowest threshold can
match, so each detection carries just those candidates; the Python loop is
over ranks (at most max_det steps), never over boxes.

>>> import numpy as np
>>> gt = Boxes(image=np.array([1, 1]), cls=np.array([0, 0]), box=np.array([[0., 0, 10, 10], [20., 0, 10, 10]]),
...            order=np.array([1, 2]), area=np.array([100., 100.]), crowd=np.array([False, False]))
>>> dt = Boxes(image=np.array([1, 1]), cls=np.array([0, 0]), box=np.array([[1., 0, 10, 10], [0., 0, 10, 10]]),
...            order=np.array([1, 2]), score=np.array([0.9, 0.8]))
>>> m = match(gt, dt)
>>> m.dt_match[0].tolist(), m.gt_match[0].tolist()   # area 'all', IoU 0.5
([0, -1], [0, -1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .iou import box_iou
from .params import AREA_RANGES, IOU_THRESHOLDS


@dataclass
class Boxes:
    """Columns of ground truths (`area`, `crowd`) or detections (`score`); `order` breaks ties as COCO's list order."""

    image: np.ndarray
    cls: np.ndarray
    box: np.ndarray
    order: np.ndarray
    area: np.ndarray | None = None
    crowd: np.ndarray | None = None
    score: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.image)


@dataclass
class Matching:
    """The match of every detection and ground truth.

    `dt_hit`, `dt_ignore` are `[area range, IoU threshold, detection]` (COCOeval's
    dtMatches > 0 and dtIgnore), `gt_ignore` is `[area range, ground truth]`;
    `dt_match`, `dt_iou`, `gt_match` are `[IoU threshold, item]` for the area range
    'all': the index of the matched item in the other input (-1: none) and the
    IoU. `dt_rank` is a detection's 0-based rank by score in its (image, class);
    `dt_kept` is rank < max_det (COCO evaluates only those).
    """

    dt_hit: np.ndarray
    dt_ignore: np.ndarray
    dt_rank: np.ndarray
    dt_kept: np.ndarray
    gt_ignore: np.ndarray
    dt_match: np.ndarray
    dt_iou: np.ndarray
    gt_match: np.ndarray


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique sorted keys, their first position and their count."""
    uniq, first, count = np.unique(keys, return_index=True, return_counts=True)
    return uniq, first, count


def _pad(width: np.ndarray) -> np.ndarray:
    """Candidates per detection, rounded up to a power of two: few shapes, little padding."""
    return (2 ** np.ceil(np.log2(np.maximum(width, 1)))).astype(np.int64)


def _progress_bar(total: int):
    """tqdm's bar over detections, imported only when one is shown."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="matching", unit="det", leave=False)


def greedy(*, gt_image: np.ndarray, gt_cls: np.ndarray, gt_order: np.ndarray, gt_area: np.ndarray,
           gt_crowd: np.ndarray, gt_ignore: np.ndarray, dt_image: np.ndarray, dt_cls: np.ndarray,
           dt_order: np.ndarray, dt_score: np.ndarray, dt_area: np.ndarray, pair_dt: np.ndarray,
           pair_gt: np.ndarray, pair_iou: np.ndarray, iou_thresholds: np.ndarray, area_ranges: np.ndarray,
           max_det: int, progress: bool = False) -> Matching:
    """A `Matching` (see `matching.Matching`) from candidate pairs of the same image and class.

    `gt_ignore` is the ground truths' own ignore flag (crowd; for keypoints also no visible point);
    the area ranges add theirs. `*_order` breaks ties as COCO's list order.
    """
    T, A = len(iou_thresholds), len(area_ranges)
    thr = np.minimum(np.asarray(iou_thresholds, dtype=float), 1 - 1e-10)
    n_gt, n_dt = len(gt_image), len(dt_image)
    images, codes = np.unique(np.concatenate([gt_image, dt_image]), return_inverse=True)
    n_cls = int(max(gt_cls.max(initial=-1), dt_cls.max(initial=-1))) + 1
    dt_key = codes[n_gt:].astype(np.int64) * n_cls + dt_cls
    ds = np.lexsort((dt_order, -dt_score, dt_key))
    _, first, count = np.unique(dt_key[ds], return_index=True, return_counts=True)
    dt_rank = np.empty(n_dt, dtype=np.int64)
    dt_rank[ds] = np.arange(n_dt) - np.repeat(first, count)
    dt_kept = dt_rank < max_det

    gt_area = gt_area.astype(float)
    ignored = gt_ignore[None, :] | (gt_area[None, :] < area_ranges[:, :1]) | (gt_area[None, :] > area_ranges[:, 1:])
    gt_rank = np.empty(n_gt, dtype=np.int64)
    gt_rank[np.argsort(gt_order, kind="stable")] = np.arange(n_gt)

    keep = (pair_iou >= thr.min()) & dt_kept[pair_dt]
    pd, pg, iou = pair_dt[keep], pair_gt[keep], pair_iou[keep]
    by = np.lexsort((gt_rank[pg], pd))                    # candidates of a detection in ground-truth list order
    pd, pg, iou = pd[by], pg[by], iou[by]
    cand_dt, cand_first, cand_count = np.unique(pd, return_index=True, return_counts=True)

    dt_hit = np.zeros((A, T, n_dt), dtype=bool)
    dt_ig_match = np.zeros((A, T, n_dt), dtype=bool)
    dt_match = np.full((T, n_dt), -1, dtype=np.int64)
    dt_iou = np.full((T, n_dt), np.nan)
    gt_match = np.full((T, n_gt), -1, dtype=np.int64)
    matched = np.zeros((A, T, n_gt), dtype=bool)
    step = dt_rank[cand_dt]
    by_step = np.argsort(step, kind="stable")
    _, step_first, step_count = np.unique(step[by_step], return_index=True, return_counts=True)
    groups = [(by_step[f:f + n], c) for f, n in zip(step_first, step_count)
              for c in np.unique(_pad(cand_count[by_step[f:f + n]]))]
    bar = _progress_bar(len(cand_dt)) if progress else None
    for rows, c in groups:          # each step's detections, padded to few candidate widths
        rows = rows[_pad(cand_count[rows]) == c]
        width = cand_count[rows]
        col = np.arange(c)
        valid = col[None, :] < width[:, None]
        at = cand_first[rows][:, None] + np.where(valid, col[None, :], 0)
        g, v = pg[at], np.where(valid, iou[at], -1.0)
        cand = (~matched[:, :, g] | gt_crowd[g]) & (v >= thr[:, None, None])       # [A, T, rows, c]
        regular = cand & ~ignored[:, None, g]
        pick = np.where(regular.any(-1, keepdims=True), regular, cand)
        key = np.where(pick, v, -1.0)
        m = c - 1 - np.argmax(key[..., ::-1], axis=-1)                              # the last of the best
        best = np.take_along_axis(key, m[..., None], -1)[..., 0]
        a_i, t_i, r_i = np.nonzero(best >= 0)
        gi = g[r_i, m[a_i, t_i, r_i]]
        di = cand_dt[rows][r_i]
        matched[a_i, t_i, gi] = True
        dt_hit[a_i, t_i, di] = True
        dt_ig_match[a_i, t_i, di] = ignored[a_i, gi]
        everything = a_i == 0
        t0, d0, g0 = t_i[everything], di[everything], gi[everything]
        dt_match[t0, d0] = g0
        dt_iou[t0, d0] = best[0, t0, r_i[everything]]
        gt_match[t0, g0] = d0
        if bar is not None:
            bar.update(len(rows))
    if bar is not None:
        bar.close()

    dt_area = dt_area.astype(float)
    outside = (dt_area[None, :] < area_ranges[:, :1]) | (dt_area[None, :] > area_ranges[:, 1:])
    dt_ignore = dt_ig_match | (~dt_hit & outside[:, None, :]) | ~dt_kept[None, None, :]
    return Matching(dt_hit, dt_ignore, dt_rank, dt_kept, ignored, dt_match, dt_iou, gt_match)


def match(gt: Boxes, dt: Boxes, *, iou_thresholds: np.ndarray = IOU_THRESHOLDS,
          area_ranges: np.ndarray = AREA_RANGES, max_det: int = 100, progress: bool = False) -> Matching:
    """Match detections to ground truths per image and class with COCOeval's rules: box IoU of every pair of
    a shared (image, class) group, then `greedy` (the matcher masks and keypoints use too)."""
    thr = np.minimum(np.asarray(iou_thresholds, dtype=float), 1 - 1e-10)
    n_gt = len(gt)
    images, codes = np.unique(np.concatenate([gt.image, dt.image]), return_inverse=True)
    n_cls = int(max(gt.cls.max(initial=-1), dt.cls.max(initial=-1))) + 1
    gt_key = codes[:n_gt].astype(np.int64) * n_cls + gt.cls
    dt_key = codes[n_gt:].astype(np.int64) * n_cls + dt.cls

    gs = np.lexsort((gt.order, gt_key))
    ds = np.lexsort((dt.order, -dt.score, dt_key))
    g_uniq, g_first, g_count = _groups(gt_key[gs])
    d_uniq, d_first, d_count = _groups(dt_key[ds])

    # Every (detection, ground truth) pair of a shared group (the best max_det detections), then only the
    # pairs that can match.
    both, gi, di = np.intersect1d(g_uniq, d_uniq, assume_unique=True, return_indices=True)
    G, D = g_count[gi], np.minimum(d_count[di], max_det)
    pairs = G * D
    offset = np.repeat(np.cumsum(pairs) - pairs, pairs)
    group = np.repeat(np.arange(len(both)), pairs)
    local = np.arange(int(pairs.sum())) - offset
    pd = ds[d_first[di][group] + local // G[group]]       # original detection index
    pg = gs[g_first[gi][group] + local % G[group]]        # original ground-truth index
    # Column by column: gathering 1-D columns is many times faster than gathering rows of a 2-D array.
    dcols = tuple(np.ascontiguousarray(dt.box[:, i], dtype=float)[pd] for i in range(4))
    gcols = tuple(np.ascontiguousarray(gt.box[:, i], dtype=float)[pg] for i in range(4))
    iou = box_iou(dcols, gcols, gt.crowd[pg])
    keep = iou >= thr.min()
    return greedy(gt_image=gt.image, gt_cls=gt.cls, gt_order=gt.order, gt_area=gt.area, gt_crowd=gt.crowd,
                  gt_ignore=gt.crowd, dt_image=dt.image, dt_cls=dt.cls, dt_order=dt.order, dt_score=dt.score,
                  dt_area=dt.box[:, 2].astype(float) * dt.box[:, 3].astype(float), pair_dt=pd[keep], pair_gt=pg[keep],
                  pair_iou=iou[keep], iou_thresholds=iou_thresholds, area_ranges=area_ranges, max_det=max_det,
                  progress=progress)
