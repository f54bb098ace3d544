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


def _class_ap(score: np.ndarray, true: np.ndarray, keys: tuple, n_gt: int) -> float:
    """tidecv's `APDataObject.get_ap`: 101-point interpolated AP x100; 0 without ground truth."""
    if n_gt == 0 or len(score) == 0:
        return 0.0
    s = np.lexsort(keys[::-1] + (-score,))
    tp = np.cumsum(true[s])
    precision = np.maximum.accumulate((tp / np.arange(1, len(s) + 1))[::-1])[::-1]
    at = np.searchsorted(tp / n_gt, _RECALLS, side="left")
    y = np.where(at < len(s), precision[np.minimum(at, len(s) - 1)], 0.0)
    return float(np.cumsum(y)[-1]) / len(y) * 100


def _map(cls: np.ndarray, score: np.ndarray, true: np.ndarray, keys: tuple, n_gt: dict) -> float:
    """tidecv's `get_mAP`: the mean over the classes with a point or a ground truth (sequential sums)."""
    aps = []
    for name in sorted(set(cls.tolist()) | {k for k, v in n_gt.items() if v}):
        mine = cls == name
        aps.append(_class_ap(score[mine], true[mine], tuple(k[mine] for k in keys), n_gt.get(name, 0)))
    return float(np.cumsum(aps)[-1]) / len(aps) if aps else float("nan")


def breakdown(rows: dict[str, np.ndarray]) -> dict[str, float]:
    """TIDE's AP and the dAP of fixing each error type (tidecv's main and special errors), x100."""
    pred = rows["item_type"] == "prediction"
    lab = rows["item_type"] == "label"
    cls, score = rows["class"].astype(object), np.nan_to_num(rows["score"].astype(float), nan=0.0)
    outcome, error = rows["outcome"], rows["error_type"]
    order = (rows["image_order"].astype(np.int64), rows["det_rank"].astype(np.int64))
    counted = pred & np.isin(outcome, ["TP", "FP"])
    tp = pred & (outcome == "TP")
    erred = pred & (error != None)  # noqa: E711  (an object column: None where no error)

    def count(mask: np.ndarray) -> dict:
        return {k: int(v) for k, v in zip(*np.unique(cls[mask].astype(str), return_counts=True))}

    labels = count(lab)

    base = _map(cls[counted], score[counted], tp[counted], tuple(k[counted] for k in order), labels)
    group = np.where(tp, 1, 0)            # a fixed curve: error rows first, then the true positives
    fixed_keys = (group,) + order
    out = {"ap": base}
    for name in ERROR_TYPES:
        if name == "missed":
            missed = count(lab & (error == "missed"))
            new = _map(cls[counted], score[counted], tp[counted], tuple(k[counted] for k in fixed_keys),
                       {k: v - missed.get(k, 0) for k, v in labels.items()})
        else:
            this = erred & (error == name)
            fixes = this & rows["fixable"].astype(bool) & np.isin(error, ["classification", "localization"])
            keep = (counted & ~this) | fixes
            to_cls = np.where(fixes & (error == "classification"), rows["target_class"].astype(object), cls)
            new = _map(to_cls[keep], score[keep], (tp | fixes)[keep], tuple(k[keep] for k in fixed_keys), labels)
        out[SHORT_NAMES[name]] = max(new - base, 0.0)
    flat = np.where(tp, 1.0, 0.0)
    out["FalsePos"] = _map(cls[counted], flat[counted], tp[counted], tuple(k[counted] for k in fixed_keys),
                           labels) - base
    found = count(lab & (outcome == "TP"))
    out["FalseNeg"] = _map(cls[counted], score[counted], tp[counted], tuple(k[counted] for k in fixed_keys),
                           {k: found.get(k, 0) for k in labels}) - base
    return out
