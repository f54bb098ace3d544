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
from tqdm.auto import tqdm

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


def match(gt: Boxes, dt: Boxes, *, iou_thresholds: np.ndarray = IOU_THRESHOLDS,
          area_ranges: np.ndarray = AREA_RANGES, max_det: int = 100, progress: bool = False) -> Matching:
    """Match detections to ground truths per image and class with COCOeval's rules."""
    T, A = len(iou_thresholds), len(area_ranges)
    thr = np.minimum(np.asarray(iou_thresholds, dtype=float), 1 - 1e-10)
    n_gt, n_dt = len(gt), len(dt)
    images, codes = np.unique(np.concatenate([gt.image, dt.image]), return_inverse=True)
    n_cls = int(max(gt.cls.max(initial=-1), dt.cls.max(initial=-1))) + 1
    gt_key = codes[:n_gt].astype(np.int64) * n_cls + gt.cls
    dt_key = codes[n_gt:].astype(np.int64) * n_cls + dt.cls

    gs = np.lexsort((gt.order, gt_key))
    ds = np.lexsort((dt.order, -dt.score, dt_key))
    g_uniq, g_first, g_count = _groups(gt_key[gs])
    d_uniq, d_first, d_count = _groups(dt_key[ds])

    rank_sorted = np.arange(n_dt) - np.repeat(d_first, d_count)
    dt_rank = np.empty(n_dt, dtype=np.int64)
    dt_rank[ds] = rank_sorted
    dt_kept = dt_rank < max_det

    gt_area = gt.area.astype(float)
    gt_ignore = gt.crowd[None, :] | (gt_area[None, :] < area_ranges[:, :1]) | (gt_area[None, :] > area_ranges[:, 1:])

    dt_hit = np.zeros((A, T, n_dt), dtype=bool)
    dt_ig_match = np.zeros((A, T, n_dt), dtype=bool)
    dt_match = np.full((T, n_dt), -1, dtype=np.int64)
    dt_iou = np.full((T, n_dt), np.nan)
    gt_match = np.full((T, n_gt), -1, dtype=np.int64)

    # Every (detection, ground truth) pair of a shared group, then only the pairs that can match.
    both, gi, di = np.intersect1d(g_uniq, d_uniq, assume_unique=True, return_indices=True)
    G, D = g_count[gi], np.minimum(d_count[di], max_det)
    pairs = G * D
    offset = np.repeat(np.cumsum(pairs) - pairs, pairs)
    group = np.repeat(np.arange(len(both)), pairs)
    local = np.arange(int(pairs.sum())) - offset
    pd = d_first[di][group] + local // G[group]          # index into score-sorted detections
    pg = g_first[gi][group] + local % G[group]           # index into ordered ground truths
    gt_crowd_s, gt_ign_s = gt.crowd[gs], gt_ignore[:, gs]
    # Column by column: gathering 1-D columns is many times faster than gathering rows of a 2-D array.
    dcols = tuple(np.ascontiguousarray(dt.box[:, i], dtype=float)[ds][pd] for i in range(4))
    gcols = tuple(np.ascontiguousarray(gt.box[:, i], dtype=float)[gs][pg] for i in range(4))
    iou = box_iou(dcols, gcols, gt_crowd_s[pg])
    keep = iou >= thr.min()
    pd, pg, iou = pd[keep], pg[keep], iou[keep]
    # Detections with candidates, rank by rank; candidates stay in ground-truth order (COCO's tie rule).
    cand_dt, cand_first, cand_count = _groups(pd)
    step_of = rank_sorted[cand_dt]
    by_step = np.argsort(step_of, kind="stable")
    steps, step_first, step_count = _groups(step_of[by_step])
    matched = np.zeros((A, T, n_gt), dtype=bool)
    bar = tqdm(total=len(cand_dt), desc="matching", unit="det", disable=not progress, leave=False)
    for first, count in zip(step_first, step_count):
        rows = by_step[first:first + count]
        width = cand_count[rows]
        for c in np.unique(_pad(width)):          # pad each step's detections to few candidate widths
            sub = rows[_pad(width) == c]
            col = np.arange(c)
            valid = col[None, :] < cand_count[sub][:, None]
            at = cand_first[sub][:, None] + np.where(valid, col[None, :], 0)
            g, v = pg[at], np.where(valid, iou[at], -1.0)
            cand = (~matched[:, :, g] | gt_crowd_s[g]) & (v >= thr[:, None, None])
            regular = cand & ~gt_ign_s[:, None, g]
            pick = np.where(regular.any(-1, keepdims=True), regular, cand)
            key = np.where(pick, v, -1.0)
            m = c - 1 - np.argmax(key[..., ::-1], axis=-1)                  # last of the best: COCO's tie rule
            best = np.take_along_axis(key, m[..., None], -1)[..., 0]
            a_i, t_i, r_i = np.nonzero(best >= 0)
            gsorted = g[r_i, m[a_i, t_i, r_i]]
            matched[a_i, t_i, gsorted] = True
            dorig = ds[cand_dt[sub][r_i]]
            dt_hit[a_i, t_i, dorig] = True
            dt_ig_match[a_i, t_i, dorig] = gt_ign_s[a_i, gsorted]
            everything = a_i == 0
            t0, d0, g0 = t_i[everything], dorig[everything], gs[gsorted[everything]]
            dt_match[t0, d0] = g0
            dt_iou[t0, d0] = best[0, t0, r_i[everything]]
            gt_match[t0, g0] = d0
        bar.update(count)
    bar.close()

    dt_area = dt.box[:, 2].astype(float) * dt.box[:, 3].astype(float)
    outside = (dt_area[None, :] < area_ranges[:, :1]) | (dt_area[None, :] > area_ranges[:, 1:])
    dt_ignore = dt_ig_match | (~dt_hit & outside[:, None, :]) | ~dt_kept[None, None, :]
    return Matching(dt_hit, dt_ignore, dt_rank, dt_kept, gt_ignore, dt_match, dt_iou, gt_match)
