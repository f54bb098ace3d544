"""Evaluation in bounded memory: images matched a range at a time, classes accumulated a few at a time.

COCO matches each (image, class) on its own, so ranges of images are independent:
`image_ranges` cuts the images into ranges of about `budget` boxes (labels plus
predictions). Of a range's matching, accumulation needs only what `curves` reads
of each evaluated detection: its class, score, image order, rank and the
TP/ignore flags per area range and IoU threshold (kept as bits), and the counts
of ground truths. `Kept` collects those, range after range (26 bytes per
detection for COCO's 4 area ranges and 10 thresholds: class int16, score float64,
image int32, rank int16, 2 x 5 bytes of flags); `accumulate_by_class` then runs `curves` on groups of classes of
about `budget` detections: a class's numbers depend only on its own detections,
so every number is the one a single pass gives. A class of more than `budget` detections
is a group of its own, its IoU thresholds scored one at a time.

>>> import numpy as np
>>> image_ranges(np.array([1, 2, 5, 9]), np.array([3, 3, 3, 1]), budget=6)
[(1, 2), (5, 9)]
"""

from __future__ import annotations

import numpy as np

from .accumulate import Accumulated, curves, ground_truths
from .matching import Boxes, Matching
from .params import MAX_DETS, RECALL_THRESHOLDS

BUDGET = 1_000_000  # boxes (labels + predictions) matched at once; detections accumulated at once


def image_ranges(image_id: np.ndarray, boxes: np.ndarray, budget: int = BUDGET) -> list[tuple[int, int]]:
    """Inclusive `(first, last)` image id ranges of about `budget` boxes each (a range holds whole images,
    so one can exceed `budget` by its last image's boxes); `image_id` sorted, `boxes` its count of boxes."""
    if not len(image_id):
        return []
    before = np.cumsum(boxes) - boxes
    part = before // max(budget, 1)
    starts = np.flatnonzero(np.diff(part, prepend=-1))
    ends = np.append(starts[1:], len(part)) - 1
    return [(int(image_id[s]), int(image_id[e])) for s, e in zip(starts, ends)]


class Kept:
    """What accumulation reads of the evaluated detections, collected range by range."""

    def __init__(self, n_classes: int, n_areas: int, n_thresholds: int) -> None:
        self.n_classes, self.shape = n_classes, (n_areas, n_thresholds)
        self.gts = np.zeros((n_classes, n_areas), dtype=np.int64)
        self.cls_type = np.int16 if n_classes <= np.iinfo(np.int16).max else np.int32
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, gt: Boxes, dt: Boxes, m: Matching) -> None:
        """One range's detections of rank below max_det and its ground-truth counts."""
        self.gts += ground_truths(gt.cls, m.gt_ignore, self.n_classes)
        kept = np.flatnonzero(m.dt_kept)
        flags = lambda f: np.packbits(f[:, :, kept].reshape(-1, len(kept)), axis=0)  # noqa: E731  [bits, det]
        self.parts.append((dt.cls[kept].astype(self.cls_type), dt.score[kept].astype(float), _narrow(dt.image[kept]),
                           m.dt_rank[kept].astype(np.int16), flags(m.dt_hit), flags(m.dt_ignore)))

    def columns(self) -> tuple[np.ndarray, ...]:
        """The parts joined: class, score, image, rank, hit bits, ignore bits (bits `[A * T / 8, det]`).
        Joined a column at a time, each column's parts dropped as it is joined (the peak is the parts and
        one joined column, not the parts twice)."""
        if not self.parts:
            bits = -(-self.shape[0] * self.shape[1] // 8)
            return (np.zeros(0, np.int32), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int16),
                    np.zeros((bits, 0), np.uint8), np.zeros((bits, 0), np.uint8))
        by_column = [list(c) for c in zip(*self.parts)]
        self.parts = []
        joined = []
        while by_column:
            pieces = by_column.pop(0)
            joined.append(np.concatenate(pieces, axis=-1))
            del pieces
        return tuple(joined)


def _narrow(image: np.ndarray) -> np.ndarray:
    """Image orders as int32 where they fit (they number the images), else int64."""
    fits = not len(image) or (image.min() >= np.iinfo(np.int32).min and image.max() <= np.iinfo(np.int32).max)
    return image.astype(np.int32 if fits else np.int64)


def _flags(bits: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return np.unpackbits(bits, axis=0, count=shape[0] * shape[1]).view(bool).reshape(*shape, -1)


def accumulate_by_class(kept: Kept, *, budget: int = BUDGET, max_dets: tuple[int, ...] = MAX_DETS,
                        recall_thresholds: np.ndarray = RECALL_THRESHOLDS) -> Accumulated:
    """`curves` of every class, over groups of consecutive classes of about `budget` detections each."""
    cls, score, image, rank, hit, ignore = kept.columns()
    K, (A, T) = kept.n_classes, kept.shape
    R, M = len(recall_thresholds), len(max_dets)
    out = Accumulated(-np.ones((T, R, K, A, M)), -np.ones((T, K, A, M)), kept.gts, np.zeros((K, A, M), np.int64))
    by_class = np.argsort(cls, kind="stable")
    bounds = np.searchsorted(cls[by_class], np.arange(K + 1))
    for first, last in image_ranges(np.arange(K), np.diff(bounds), budget):
        rows = by_class[bounds[first]:bounds[last + 1]]
        hits, ignores = _flags(hit[:, rows], (A, T)), _flags(ignore[:, rows], (A, T))
        # A group over budget (a class with more detections than it): its thresholds one at a time, each
        # threshold's curve reading only its own flags, so the curves' [T, detection] arrays hold one row.
        steps = [slice(t, t + 1) for t in range(T)] if len(rows) > budget else [slice(0, T)]
        for ts in steps:
            part = curves(kept.gts[first:last + 1], cls[rows] - first, score[rows], image[rows], rank[rows],
                          hits[:, ts], ignores[:, ts], np.arange(len(rows)),
                          max_dets=max_dets, recall_thresholds=recall_thresholds)
            out.precision[ts, :, first:last + 1] = part.precision
            out.recall[ts, first:last + 1] = part.recall
            out.dets[first:last + 1] = part.dets
        del hits, ignores
    return out
