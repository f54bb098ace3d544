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


def _rows(con: duckdb.DuckDBPyConnection, model: str, where: str | None, image_ids: list[int] | None) -> dict:
    cond = condition_sql(where) if where else "true"
    ids = "true" if image_ids is None else "ctx.image_id IN (SELECT unnest($ids))"
    sql = (f"SELECT threshold, item_type, class, image_id, o.image_order, score, det_rank, outcome "
           f"FROM ({context_sql(con)}) ctx JOIN ({IMAGE_ORDER}) o USING (image_id) "
           f"WHERE model = $model AND NOT ignored AND coalesce(({cond}), false) AND {ids}")
    params = {"model": model} | ({"ids": image_ids} if image_ids is not None else {})
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
            n_boot: int = 200, seed: int = 0) -> Figures:
    """The figures of `model` on the rows where `where` holds (and, if given, on the images `image_ids`)."""
    found = con.execute("SELECT task FROM evaluations WHERE model = ?", [model]).fetchall()
    if not found:
        raise QmdbError(f"model '{model}' has no stored matches: run `qmdb evaluate DB --model {model}` first")
    task = found[0][0]
    t = _rows(con, model, where, image_ids)
    images, codes = np.unique(t["image_id"], return_inverse=True)
    n = len(images)
    rng = np.random.default_rng(seed)
    weights = np.vstack([np.ones((1, n), np.int64),
                         rng.multinomial(n, np.full(n, 1 / n), size=n_boot) if n else np.zeros((n_boot, 0), np.int64)])
    per_image = lambda mask: weights @ np.bincount(codes[mask], minlength=n)  # noqa: E731  [B+1] weighted counts

    at = (t["threshold"] < 0) | (np.abs(t["threshold"] - iou_threshold) < 1e-9)
    pred, lab = t["item_type"] == "prediction", t["item_type"] == "label"
    counted = pred & at & (t["score"] >= min_score)
    tp = per_image(counted & (t["outcome"] == "TP"))
    fp = per_image(counted & (t["outcome"] == "FP"))
    hit = per_image(lab & at & (t["outcome"] == "TP") & (t["score"] >= min_score))
    labels = per_image(lab & at)
    recall, precision = _ratio(hit, labels), _ratio(tp, tp + fp)
    values = {"recall": _figure(recall), "precision": _figure(precision),
              "f1": _figure(_ratio(2 * tp, 2 * tp + fp + (labels - hit)))}
    if task == "classification":
        values["accuracy"] = values["recall"]
    else:
        per_threshold = {}
        for thr in np.round(IOU_THRESHOLDS, 2):
            here = np.abs(t["threshold"] - thr) < 1e-9
            aps = []
            for cls in np.unique(t["class"][lab & here]):
                d = np.flatnonzero(pred & here & (t["class"] == cls))
                d = d[np.lexsort((t["det_rank"][d], t["image_order"][d], -t["score"][d]))]  # COCO's order and ties
                g = np.flatnonzero(lab & here & (t["class"] == cls))
                aps.append(class_ap(codes[d], t["outcome"][d] == "TP", codes[g], weights))
            with np.errstate(all="ignore"):
                per_threshold[thr] = (np.nanmean(np.vstack(aps), axis=0) if aps
                                      else np.full(n_boot + 1, np.nan))
        values["ap"] = _figure(np.mean(np.vstack(list(per_threshold.values())), axis=0))
        values["ap50"] = _figure(per_threshold[0.5])
        values["ap75"] = _figure(per_threshold[0.75])
    return Figures(model, task, n, int(labels[0]), int((tp + fp)[0]), values)
