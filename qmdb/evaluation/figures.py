"""One slice's figures with seeded image-bootstrap 95% intervals: what a check compares.

`figures(con, model, where=...)` reads the stored matches of one model in one
slice (the slice context and rules of `qmdb.evaluation.slices`), resamples the
slice's images with replacement `n_boot` times (seeded) and returns each figure
as (value, low, high): the point on the data, the 2.5% and 97.5% quantiles of
the bootstrap. Figures (higher is better):

- `ap`: COCO's AP, the mean over IoU 0.50:0.05:0.95 of the mean over classes
  of the 101-point AP (maxDets 100, area all); `ap50`, `ap75` at one threshold;
- `recall`, `precision`, `f1` at `iou_threshold`, counting predictions scoring
  at least `min_score`; for a classifier, top-1 against the label;
- `accuracy` (classifiers): the share of labeled images whose top-1 is the label.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np

from ..errors import QmdbError
from .intervals import class_ap
from .order import IMAGE_ORDER
from .params import IOU_THRESHOLDS
from .slices import condition_sql, context_sql

FIGURES = ("ap", "ap50", "ap75", "recall", "precision", "f1", "accuracy")
DETECTION_ONLY = ("ap", "ap50", "ap75")
CLASSIFICATION_ONLY = ("accuracy",)


@dataclass
class Figures:
    """A slice's support and its figures, each (value, low, high); a value is None where undefined."""

    model: str
    task: str
    images: int
    labels: int
    predictions: int
    values: dict[str, tuple[float | None, float | None, float | None]] = field(default_factory=dict)


def _rows(con: duckdb.DuckDBPyConnection, model: str, where: str | None, image_ids: list[int] | None,
          iou_type: str = "bbox") -> dict:
    cond = condition_sql(where) if where else "true"
    ids = "true" if image_ids is None else "ctx.image_id IN (SELECT unnest($ids))"
    sql = (f"SELECT threshold, item_type, class, image_id, o.image_order, score, det_rank, outcome "
           f"FROM ({context_sql(con)}) ctx JOIN ({IMAGE_ORDER}) o USING (image_id) "
           f"WHERE model = $model AND iou_type = $iou_type AND NOT ignored AND coalesce(({cond}), false) AND {ids}")
    params = {"model": model, "iou_type": iou_type} | ({"ids": image_ids} if image_ids is not None else {})
    try:
        table = con.sql(sql, params=params).to_arrow_table()
    except duckdb.Error as error:
        raise QmdbError(f"slice condition '{where}': {str(error).splitlines()[0]}") from None
    cols = {name: table[name].to_numpy(zero_copy_only=False) for name in table.column_names}
    cols["threshold"] = np.nan_to_num(cols["threshold"].astype(float), nan=-1.0)
    cols["score"] = np.nan_to_num(cols["score"].astype(float), nan=-np.inf)
    cols["det_rank"] = np.nan_to_num(cols["det_rank"].astype(float), nan=0)
    return cols


def _quantiles(boot: np.ndarray) -> tuple[float | None, float | None]:
    boot = boot[np.isfinite(boot)]
    if not boot.size:
        return None, None
    return float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))


def _figure(samples: np.ndarray) -> tuple[float | None, float | None, float | None]:
    point = samples[0]
    return (None if not np.isfinite(point) else float(point), *_quantiles(samples[1:]))


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def figures(con: duckdb.DuckDBPyConnection, model: str, *, where: str | None = None,
            image_ids: list[int] | None = None, iou_threshold: float = 0.5, min_score: float = 0.0,
            n_boot: int = 200, seed: int = 0, only: str | None = None, iou_type: str = "bbox") -> Figures:
    """The figures of `model` on the rows where `where` holds (and, if given, on the images `image_ids`).

    `only` names the one figure needed (the AP curves are the costly part: `recall` needs none,
    `ap50` one threshold); the others are then left out of `values`. `iou_type` picks the
    evaluation (``bbox``, ``segm``, ``keypoints``).
    """
    found = con.execute("SELECT task FROM evaluations WHERE model = ? AND iou_type = ?", [model, iou_type]).fetchall()
    if not found:
        flag = "" if iou_type == "bbox" else f" --iou-type {iou_type}"
        raise QmdbError(f"model '{model}' has no stored matches: run `qmdb evaluate DB --model {model}{flag}` first")
    task = found[0][0]
    t = _rows(con, model, where, image_ids, iou_type)
    images, codes = np.unique(t["image_id"], return_inverse=True)
    n = len(images)
    rng = np.random.default_rng(seed)
    weights = np.vstack([np.ones((1, n), np.int64),
                         rng.multinomial(n, np.full(n, 1 / n), size=n_boot) if n else np.zeros((n_boot, 0), np.int64)])
    per_image = lambda mask: weights @ np.bincount(codes[mask], minlength=n)  # noqa: E731  [B+1] weighted counts

    at = (t["threshold"] < 0) | (np.abs(t["threshold"] - iou_threshold) < 1e-9)
    pred, lab = t["item_type"] == "prediction", t["item_type"] == "label"
    is_tp = t["outcome"] == "TP"
    classes, cls = np.unique(t["class"].astype(str), return_inverse=True)
    counted = pred & at & (t["score"] >= min_score)
    tp = per_image(counted & is_tp)
    fp = per_image(counted & ~is_tp)
    hit = per_image(lab & at & is_tp & (t["score"] >= min_score))
    labels = per_image(lab & at)
    recall, precision = _ratio(hit, labels), _ratio(tp, tp + fp)
    values = {"recall": _figure(recall), "precision": _figure(precision),
              "f1": _figure(_ratio(2 * tp, 2 * tp + fp + (labels - hit)))}
    if task == "classification":
        values["accuracy"] = values["recall"]
    elif only is None or only in DETECTION_ONLY:
        wanted = {"ap50": (0.5,), "ap75": (0.75,)}.get(only, tuple(np.round(IOU_THRESHOLDS, 2)))
        per_threshold = {}
        for thr in wanted:
            here = np.flatnonzero(np.abs(t["threshold"] - thr) < 1e-9)
            # this threshold's predictions in COCO's order (class, score descending, image order, rank)
            d_all = here[pred[here]]
            d_all = d_all[np.lexsort((t["det_rank"][d_all], t["image_order"][d_all], -t["score"][d_all], cls[d_all]))]
            g_all = here[lab[here]]
            g_all = g_all[np.argsort(cls[g_all], kind="stable")]
            d_bounds = np.searchsorted(cls[d_all], np.arange(len(classes) + 1))
            g_bounds = np.searchsorted(cls[g_all], np.arange(len(classes) + 1))
            aps = []
            for k in np.flatnonzero(np.diff(g_bounds) > 0):                  # classes with labels, as COCO
                d, g = d_all[d_bounds[k]:d_bounds[k + 1]], g_all[g_bounds[k]:g_bounds[k + 1]]
                aps.append(class_ap(codes[d], is_tp[d], codes[g], weights))
            with np.errstate(all="ignore"):
                per_threshold[thr] = (np.nanmean(np.vstack(aps), axis=0) if aps
                                      else np.full(n_boot + 1, np.nan))
        if len(per_threshold) == len(IOU_THRESHOLDS):
            values["ap"] = _figure(np.mean(np.vstack(list(per_threshold.values())), axis=0))
        for name, thr in (("ap50", 0.5), ("ap75", 0.75)):
            if thr in per_threshold:
                values[name] = _figure(per_threshold[thr])
    return Figures(model, task, n, int(labels[0]), int((tp + fp)[0]), values)
