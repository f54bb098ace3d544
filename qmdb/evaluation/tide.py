"""TIDE's error types for every prediction and label, with the rules of the `tidecv` package.

TIDE (Bolya et al., 2020) takes, per image, the 100 best-scored predictions (ties
in list order) and matches them greedily, best score first, each to the free
same-class ground truth of highest IoU at or above `pos` (0.5; the first one on
a tie). An unmatched prediction whose crowd IoU with a same-class crowd region
exceeds `pos` is ignored (out of the AP, but still given an error type, as in
tidecv). Every unmatched or ignored prediction then gets the first of:

- ``background`` when the image has no ground truth;
- ``localization``: best same-class IoU in [bg, pos];
- ``classification``: best other-class IoU >= pos;
- ``duplicate``: best IoU with an already matched same-class truth >= pos;
- ``background``: best IoU with any truth <= bg (0.1);
- ``both`` otherwise.

A localization or classification error points at its truth; if that truth is
unmatched, the best-scored such prediction (the first on a tie) is the one
whose fix makes it a true positive (`fixable`), and the truth is not counted
as missed. A truth neither matched nor pointed at is ``missed``.

The Python loop is over ranks within an image (at most `max_dets` steps), never
over boxes.

>>> import numpy as np
>>> r = classify(gt_image=np.array([1, 1]), gt_cls=np.array([0, 1]), gt_order=np.array([1, 2]),
...              gt_crowd=np.array([False, False]), dt_image=np.array([1, 1, 1]), dt_cls=np.array([0, 0, 0]),
...              dt_score=np.array([0.9, 0.8, 0.7]), dt_order=np.array([1, 2, 3]),
...              pair_dt=np.array([0, 1, 2]), pair_gt=np.array([0, 0, 1]), pair_iou=np.array([0.9, 0.8, 0.7]))
>>> [ERROR_TYPES[e] if e >= 0 else None for e in r.dt_error]
[None, 'duplicate', 'classification']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# tidecv's order (`TIDE._error_types`) and short names.
ERROR_TYPES = ("classification", "localization", "both", "duplicate", "background", "missed")
SHORT_NAMES = {"classification": "Cls", "localization": "Loc", "both": "Both", "duplicate": "Dupe",
               "background": "Bkg", "missed": "Miss"}
CLS, LOC, BOTH, DUPE, BKG, MISS = range(6)


@dataclass
class Errors:
    """Per detection (`dt_*`) and ground truth (`gt_*`); -1 means none.

    `dt_kept`: among the image's `max_dets` best; `dt_match`: the matched truth;
    `dt_ignored`: absorbed by a crowd region; `dt_error`: index in ERROR_TYPES;
    `dt_target`: the truth an error points at (localization, classification,
    duplicate); `dt_iou`: the IoU that decided (the match's, or the error's);
    `dt_fixable`: fixing the error makes it a true positive; `dt_rank`: 0-based
    rank by score in its image. `gt_match`: the matched detection;
    `gt_missed`: error type ``missed`` (crowd regions are never missed).
    """

    dt_kept: np.ndarray
    dt_match: np.ndarray
    dt_ignored: np.ndarray
    dt_error: np.ndarray
    dt_target: np.ndarray
    dt_iou: np.ndarray
    dt_fixable: np.ndarray
    dt_rank: np.ndarray
    gt_match: np.ndarray
    gt_missed: np.ndarray


def _rank_in_image(image: np.ndarray, score: np.ndarray, order: np.ndarray) -> np.ndarray:
    """0-based rank by score within the image; ties in list order (Python's stable sort)."""
    s = np.lexsort((order, -score, image))
    _, first, count = np.unique(image[s], return_index=True, return_counts=True)
    rank = np.empty(len(image), dtype=np.int64)
    rank[s] = np.arange(len(image)) - np.repeat(first, count)
    return rank


def _best(n: int, pd: np.ndarray, pg: np.ndarray, iou: np.ndarray, order: np.ndarray,
          keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per detection, the highest IoU over the kept pairs and its truth (numpy's argmax: the first one)."""
    value, arg = np.zeros(n), np.full(n, -1, dtype=np.int64)
    d, g, v = pd[keep], pg[keep], iou[keep]
    s = np.lexsort((order[g], -v, d))
    d, g, v = d[s], g[s], v[s]
    _, first = np.unique(d, return_index=True)
    value[d[first]], arg[d[first]] = v[first], g[first]
    return value, arg


def classify(*, gt_image: np.ndarray, gt_cls: np.ndarray, gt_order: np.ndarray, gt_crowd: np.ndarray,
             dt_image: np.ndarray, dt_cls: np.ndarray, dt_score: np.ndarray, dt_order: np.ndarray,
             pair_dt: np.ndarray, pair_gt: np.ndarray, pair_iou: np.ndarray,
             pos: float = 0.5, bg: float = 0.1, max_dets: int = 100) -> Errors:
    """TIDE's matching and error types from the pairs of the same image.

    The pairs are (detection, truth, IoU) of one image, any class; for a crowd
    truth the IoU is the crowd IoU (intersection over the detection's area).
    Pairs of IoU 0 may be left out.
    """
    n_dt, n_gt = len(dt_image), len(gt_image)
    gt_order = np.asarray(gt_order)
    rank = _rank_in_image(dt_image, dt_score, dt_order) if n_dt else np.zeros(0, np.int64)
    kept = rank < max_dets
    live = kept[pair_dt] & (pair_iou > 0)
    pd, pg, iou = pair_dt[live], pair_gt[live], pair_iou[live]
    same = dt_cls[pd] == gt_cls[pg]
    crowd = gt_crowd[pg]

    # Greedy matching, rank by rank: each image's r-th detection takes its best free same-class truth.
    dt_match, gt_match = np.full(n_dt, -1, np.int64), np.full(n_gt, -1, np.int64)
    cand = np.flatnonzero(same & ~crowd & (iou >= pos))
    cand = cand[np.lexsort((gt_order[pg[cand]], -iou[cand], pd[cand], rank[pd[cand]]))]
    steps, first = np.unique(rank[pd[cand]], return_index=True)
    for lo, hi in zip(first, np.r_[first[1:], len(cand)]):
        c = cand[lo:hi]
        c = c[gt_match[pg[c]] < 0]
        d, at = np.unique(pd[c], return_index=True)
        gt_match[pg[c[at]]] = d
        dt_match[d] = pg[c[at]]
    matched_iou = np.zeros(n_dt)
    hit = (dt_match[pd] == pg) & ~crowd
    matched_iou[pd[hit]] = iou[hit]

    unmatched = kept & (dt_match < 0)
    absorbed = np.zeros(n_dt, bool)
    absorbed[pd[same & crowd & (iou > pos)]] = True
    ignored = unmatched & absorbed

    # Errors of every unmatched (or ignored) detection, in tidecv's order of tests.
    regular = ~crowd
    cls_v, cls_g = _best(n_dt, pd, pg, iou, gt_order, regular & same)
    oth_v, oth_g = _best(n_dt, pd, pg, iou, gt_order, regular & ~same)
    dup_v, dup_g = _best(n_dt, pd, pg, iou, gt_order, regular & same & (gt_match[pg] >= 0))
    any_v, _ = _best(n_dt, pd, pg, iou, gt_order, regular)
    has_gt = np.isin(dt_image, gt_image[~gt_crowd])
    conditions = [~has_gt, (bg <= cls_v) & (cls_v <= pos), oth_v >= pos, dup_v >= pos, any_v <= bg]
    error = np.select(conditions, [BKG, LOC, CLS, DUPE, BKG], BOTH)
    error = np.where(unmatched, error, -1)
    target = np.select([error == LOC, error == CLS, error == DUPE], [cls_g, oth_g, dup_g], -1)
    dt_iou = np.select([~unmatched, error == LOC, error == CLS, error == DUPE], [matched_iou, cls_v, oth_v, dup_v], any_v)

    # A truth pointed at by localization/classification errors while unmatched: the best-scored one fixes it.
    pointing = np.flatnonzero(((error == LOC) | (error == CLS)) & (target >= 0))
    pointing = pointing[gt_match[target[pointing]] < 0]
    pointing = pointing[np.lexsort((rank[pointing], target[pointing]))]
    _, at = np.unique(target[pointing], return_index=True)
    fixable = np.zeros(n_dt, bool)
    fixable[pointing[at]] = True
    usable = np.zeros(n_gt, bool)
    usable[target[pointing]] = True
    missed = ~gt_crowd & (gt_match < 0) & ~usable
    return Errors(kept, dt_match, ignored, error, target, dt_iou, fixable, rank, gt_match, missed)
