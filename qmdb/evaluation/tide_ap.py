"""The AP TIDE would gain by fixing each error type, computed as `tidecv` computes it.

Input: one row per evaluated prediction and per label (the columns of
`eval_errors`). TIDE's AP is COCO's 101-point AP at one IoU (x100), averaged
over every class with a prediction or a label (a class with predictions and no
label counts as 0). Fixing an error type (tidecv's `fix_main_errors`, not
progressive): a fixable classification error becomes a true positive of the
truth's class, a fixable localization error one of its own class, other
predictions of that type leave the curve, and a missed truth leaves the count.
`dAP` is the gain, floored at 0 as tidecv does. The two special figures:
``FalsePos`` (every false positive scored 0, every true positive 1) and
``FalseNeg`` (every missed truth removed), not floored.

Ties in score are broken as tidecv's insertion order: the original curve in
image order and rank; a fixed curve takes the error rows first, then the true
positives.

>>> import numpy as np
>>> rows = {"item_type": np.array(["prediction", "prediction", "label", "label"]),
...         "class": np.array(["a", "a", "a", "a"]), "score": np.array([0.9, 0.8, np.nan, np.nan]),
...         "outcome": np.array(["TP", "FP", "TP", "FN"]), "error_type": np.array([None, "duplicate", None, "missed"]),
...         "target_class": np.array([None, None, None, None]), "fixable": np.array([False, False, False, False]),
...         "image_order": np.array([1, 1, 1, 1]), "det_rank": np.array([1, 2, 0, 0])}
>>> {k: round(v, 2) for k, v in breakdown(rows).items()}
{'ap': 50.5, 'Cls': 0.0, 'Loc': 0.0, 'Both': 0.0, 'Dupe': 0.0, 'Bkg': 0.0, 'Miss': 49.5, 'FalsePos': 0.0, 'FalseNeg': 49.5}
"""

from __future__ import annotations

import numpy as np

from .tide import ERROR_TYPES, SHORT_NAMES

_RECALLS = np.array([x / 100 for x in range(101)])   # tidecv's recall points (not linspace's bits)


def _class_ap(true: np.ndarray, n_gt: int) -> float:
    """tidecv's `APDataObject.get_ap` on points already in curve order: 101-point AP x100; 0 without truth."""
    if n_gt == 0 or len(true) == 0:
        return 0.0
    tp = np.cumsum(true)
    precision = np.maximum.accumulate((tp / np.arange(1, len(tp) + 1))[::-1])[::-1]
    at = np.searchsorted(tp / n_gt, _RECALLS, side="left")
    y = np.where(at < len(tp), precision[np.minimum(at, len(tp) - 1)], 0.0)
    return float(np.cumsum(y)[-1]) / len(y) * 100


def _map(cls: np.ndarray, score: np.ndarray, true: np.ndarray, keys: tuple, n_gt: np.ndarray) -> float:
    """tidecv's `get_mAP`: the mean over the classes with a point or a ground truth (sequential sums).

    `cls` are class codes, `n_gt` the ground truths per code; `keys` break score ties.
    """
    s = np.lexsort(keys[::-1] + (-score, cls))
    cls, true = cls[s], true[s]
    present = np.bincount(cls, minlength=len(n_gt)) > 0
    bounds = np.searchsorted(cls, np.arange(len(n_gt) + 1))
    aps = [_class_ap(true[bounds[k]:bounds[k + 1]], int(n_gt[k])) for k in np.flatnonzero(present | (n_gt > 0))]
    return float(np.cumsum(aps)[-1]) / len(aps) if aps else float("nan")


def breakdown(rows: dict[str, np.ndarray]) -> dict[str, float]:
    """TIDE's AP and the dAP of fixing each error type (tidecv's main and special errors), x100."""
    pred = rows["item_type"] == "prediction"
    lab = rows["item_type"] == "label"
    outcome, error = rows["outcome"], rows["error_type"]
    target = np.where(error == "classification", rows["target_class"], rows["class"]).astype(str)
    names, codes = np.unique(np.concatenate([rows["class"].astype(str), target]), return_inverse=True)
    cls, to_cls = codes[:len(target)], codes[len(target):]
    score = np.nan_to_num(rows["score"].astype(float), nan=0.0)
    order = (rows["image_order"].astype(np.int64), rows["det_rank"].astype(np.int64))
    counted = pred & np.isin(outcome, ["TP", "FP"])
    tp = pred & (outcome == "TP")
    labels = np.bincount(cls[lab], minlength=len(names))

    def curve(keep: np.ndarray, classes: np.ndarray, scores: np.ndarray, true: np.ndarray, keys: tuple,
              n_gt: np.ndarray) -> float:
        return _map(classes[keep], scores[keep], true[keep], tuple(k[keep] for k in keys), n_gt)

    base = curve(counted, cls, score, tp, order, labels)
    fixed_keys = (np.where(tp, 1, 0),) + order      # a fixed curve: error rows first, then the true positives
    out = {"ap": base}
    for name in ERROR_TYPES:
        if name == "missed":
            new = curve(counted, cls, score, tp, fixed_keys,
                        labels - np.bincount(cls[lab & (error == "missed")], minlength=len(names)))
        else:
            this = pred & (error == name)
            fixes = this & rows["fixable"].astype(bool) & (name in ("classification", "localization"))
            moved = np.where(fixes, to_cls, cls)
            new = curve((counted & ~this) | fixes, moved, score, tp | fixes, fixed_keys, labels)
        out[SHORT_NAMES[name]] = max(new - base, 0.0)
    out["FalsePos"] = curve(counted, cls, np.where(tp, 1.0, 0.0), tp, fixed_keys, labels) - base
    out["FalseNeg"] = curve(counted, cls, score, tp, fixed_keys,
                            np.bincount(cls[lab & (outcome == "TP")], minlength=len(names))) - base
    return out
