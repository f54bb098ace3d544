"""Detection models: read boxes from the project a range of images at a time, match them COCO's way, write
`matches` and `eval_ap`."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa

from ..udfs.arrow import booleans, dictionary, numbers
from .accumulate import Accumulated
from . import chunked
from .chunked import Kept, accumulate_by_class, image_ranges
from .matching import Boxes, Matching, match
from .order import IMAGE_ORDER
from .params import AREA_RANGES, IOU_THRESHOLDS, MAX_DETS

# `image_order` sorts images as COCOeval does (by the COCO image id for a COCO dataset): its tie rule.
_LABELS = f"""
    SELECT l.label_id, l.image_id, o.image_order, l.class, l.x, l.y, l.w, l.h,
           coalesce(l.area, l.w * l.h) AS area, l.iscrowd
    FROM labels l JOIN images i USING (image_id) JOIN ({IMAGE_ORDER} WHERE i.dataset = $dataset) o USING (image_id)
    WHERE i.dataset = $dataset AND l.w IS NOT NULL
"""
_PREDICTIONS = f"""
    SELECT p.prediction_id, p.image_id, o.image_order, p.class, p.score, p.x, p.y, p.w, p.h
    FROM predictions p JOIN images i USING (image_id) JOIN ({IMAGE_ORDER} WHERE i.dataset = $dataset) o USING (image_id)
    WHERE i.dataset = $dataset AND p.model = $model AND p.w IS NOT NULL
"""


def load(con: duckdb.DuckDBPyConnection, model: str, dataset: str) -> tuple[pa.Table, pa.Table, list[str]]:
    """The dataset's boxed labels and the model's boxed predictions, and the sorted class names."""
    params = {"dataset": dataset, "model": model}
    labels = con.sql(_LABELS, params={"dataset": dataset}).to_arrow_table()
    preds = con.sql(_PREDICTIONS, params=params).to_arrow_table()
    classes = sorted(set(labels["class"].to_pylist()) | set(preds["class"].to_pylist()))
    return labels, preds, classes


def class_names(con: duckdb.DuckDBPyConnection, model: str, dataset: str) -> list[str]:
    """The sorted names of the classes of the dataset's boxed labels and the model's boxed predictions."""
    names = con.execute("SELECT DISTINCT l.class FROM labels l JOIN images i USING (image_id) "
                        "WHERE i.dataset = $dataset AND l.w IS NOT NULL UNION SELECT DISTINCT p.class FROM predictions p "
                        "JOIN images i USING (image_id) WHERE i.dataset = $dataset AND p.model = $model AND p.w IS NOT NULL",
                        {"dataset": dataset, "model": model}).fetchall()
    return sorted(name for (name,) in names)


# Boxes (labels and predictions) per image of the dataset that has any, by image id: the ranges' sizes.
_BOXES_PER_IMAGE = """
    SELECT image_id, sum(n)::BIGINT AS boxes FROM (
        SELECT l.image_id, count(*) AS n FROM labels l JOIN images i USING (image_id)
        WHERE i.dataset = $dataset AND l.w IS NOT NULL GROUP BY 1
        UNION ALL
        SELECT p.image_id, count(*) FROM predictions p JOIN images i USING (image_id)
        WHERE i.dataset = $dataset AND p.model = $model AND p.w IS NOT NULL GROUP BY 1)
    GROUP BY 1 ORDER BY 1
"""
_CODE = "list_position($classes, class)::INTEGER - 1 AS class_code"
_RANGE = " AND i.image_id BETWEEN $first AND $last"
_RANGE_LABELS = f"""
    SELECT l.label_id, l.image_id, l.x, l.y, l.w, l.h, coalesce(l.area, l.w * l.h) AS area, l.iscrowd, {_CODE}
    FROM labels l JOIN images i USING (image_id) WHERE i.dataset = $dataset AND l.w IS NOT NULL {_RANGE}
"""
_RANGE_PREDICTIONS = f"""
    SELECT p.prediction_id, p.image_id, p.score, p.x, p.y, p.w, p.h, {_CODE}
    FROM predictions p JOIN images i USING (image_id)
    WHERE i.dataset = $dataset AND p.model = $model AND p.w IS NOT NULL {_RANGE}
"""


class Ranges:
    """A dataset's images in ranges of about `budget` boxes, read one range at a time as numpy columns
    (the class as `class_code`, its index in `classes`; `image_order` COCO's image order)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, model: str, dataset: str, budget: int | None = None) -> None:
        self.con, self.params = con, {"dataset": dataset, "model": model}
        self.classes = class_names(con, model, dataset)
        order = con.execute(f"SELECT image_id, image_order FROM ({IMAGE_ORDER} WHERE i.dataset = $dataset) ORDER BY 1",
                            {"dataset": dataset}).fetchnumpy()
        self.ids, self.order = np.asarray(order["image_id"]), np.asarray(order["image_order"])
        sizes = con.execute(_BOXES_PER_IMAGE, self.params).fetchnumpy()
        self.budget = budget or chunked.BUDGET
        self.ranges = image_ranges(np.asarray(sizes["image_id"]), np.asarray(sizes["boxes"]), self.budget)

    def read(self, first: int, last: int) -> tuple[dict, dict]:
        """The labels and predictions of the images `first..last` (ids)."""
        params = {"dataset": self.params["dataset"], "classes": self.classes, "first": first, "last": last}
        labels = self.con.execute(_RANGE_LABELS, params).fetchnumpy()
        preds = self.con.execute(_RANGE_PREDICTIONS, params | {"model": self.params["model"]}).fetchnumpy()
        for table in (labels, preds):
            table["image_order"] = self.order[np.searchsorted(self.ids, np.asarray(table["image_id"]))]
        return labels, preds


def _np(table: pa.Table | dict, name: str) -> np.ndarray:
    """A column as one numpy array (one chunk first: a chunked column's `to_numpy` is many times slower)."""
    if isinstance(table, dict):
        return np.asarray(table[name])
    return table[name].combine_chunks().to_numpy(zero_copy_only=False)


def _rows(table: pa.Table | dict) -> int:
    return len(next(iter(table.values()))) if isinstance(table, dict) else table.num_rows


def _codes(table: pa.Table | dict, classes: list[str]) -> np.ndarray:
    """Each row's class as its index in `classes`."""
    if isinstance(table, dict):
        return np.asarray(table["class_code"]).astype(np.int64)
    import pyarrow.compute as pc  # Arrow inputs only: the box path reads numpy and skips its import (~70 ms)

    codes = pc.index_in(table["class"].combine_chunks().cast(pa.string()), value_set=pa.array(classes, pa.string()))
    return codes.to_numpy(zero_copy_only=False).astype(np.int64)


def to_boxes(labels: pa.Table | dict, preds: pa.Table | dict, classes: list[str]) -> tuple[Boxes, Boxes]:
    """Columns (Arrow, or numpy from `load_arrays`) to the arrays `match` takes; ids order ties as COCO's list order.

    `Boxes.image` is the image's `image_order` (one-to-one with `image_id`), so that
    tied scores across images are taken in COCO's image id order.
    """
    col = _np
    gt = Boxes(image=col(labels, "image_order"), cls=_codes(labels, classes),
               box=np.stack([col(labels, c) for c in "xywh"], 1), order=col(labels, "label_id"),
               area=col(labels, "area"), crowd=col(labels, "iscrowd").astype(bool))
    dt = Boxes(image=col(preds, "image_order"), cls=_codes(preds, classes),
               box=np.stack([col(preds, c) for c in "xywh"], 1), order=col(preds, "prediction_id"),
               score=col(preds, "score"))
    return gt, dt


def _at(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """values[index] where index >= 0 (anything where it is -1, or when values is empty)."""
    if len(values) == 0:
        return np.zeros(len(index), dtype=values.dtype)
    return values[np.maximum(index, 0)]


def coded_rows(labels: pa.Table | dict, preds: pa.Table | dict, m: Matching, classes: list[str]) -> dict[str, np.ndarray]:
    """One `matches` row per prediction and per label at each IoU threshold (area range 'all'), as numpy
    columns with codes for the strings: `kind` 0 prediction / 1 label, `outcome` 0 TP / 1 FP / 2 FN,
    `class_code` the index in `classes`; ids, score and rank hold anything where their column is NULL
    (`arrow_rows` decodes them).

    Rows go item by item, the thresholds of one item together: the columns that do not
    change with the threshold come in runs DuckDB stores compressed.
    """
    T = len(IOU_THRESHOLDS)
    thresholds = np.round(IOU_THRESHOLDS, 2)
    n_dt, n_gt = _rows(preds), _rows(labels)
    pid, lid = _np(preds, "prediction_id"), _np(labels, "label_id")
    score = _np(preds, "score").astype(float)
    each = lambda values: np.repeat(values, T)  # noqa: E731  (one value per item, for each of its thresholds)

    d_match = m.dt_match.T.ravel()                    # [item, threshold]
    d_hit = d_match >= 0
    g_match = m.gt_match.T.ravel()
    g_hit = g_match >= 0
    g_iou = np.where(g_hit, _at(m.dt_iou.ravel(), np.tile(np.arange(T), n_gt) * n_dt + g_match), np.nan)
    kind = np.zeros(T * (n_dt + n_gt), np.int8)
    kind[T * n_dt:] = 1
    return {
        "threshold": np.tile(thresholds, n_dt + n_gt),
        "kind": kind,
        "image_id": np.concatenate([each(_np(preds, "image_id")), each(_np(labels, "image_id"))]).astype(np.int64),
        "class_code": np.concatenate([each(_codes(preds, classes)), each(_codes(labels, classes))]).astype(np.int32),
        "prediction_id": np.concatenate([each(pid), _at(pid, g_match)]).astype(np.int64),
        "label_id": np.concatenate([_at(lid, d_match), each(lid)]).astype(np.int64),
        "score": np.concatenate([each(score), _at(score, g_match)]),
        "iou": np.concatenate([m.dt_iou.T.ravel(), g_iou]),
        "outcome": np.concatenate([np.where(d_hit, 0, 1), np.where(g_hit, 0, 2)]).astype(np.int8),
        "ignored": np.concatenate([m.dt_ignore[0].T.ravel(), each(m.gt_ignore[0])]),
        "det_rank": np.concatenate([each((m.dt_rank + 1).astype(np.int32)), np.zeros(T * n_gt, np.int32)]),
    }


def match_rows(model: str, labels: pa.Table, preds: pa.Table, m: Matching) -> pa.Table:
    """`coded_rows` as an Arrow table of the `matches` columns (without model), NULLs and strings decoded."""
    import pyarrow.compute as pc

    d_class, g_class = (t["class"].combine_chunks().cast(pa.string()) for t in (preds, labels))
    classes = pc.unique(pa.concat_arrays([d_class, g_class])).to_pylist()
    return arrow_rows(coded_rows(labels, preds, m, classes), classes)


def arrow_rows(c: dict[str, np.ndarray], classes: list[str]) -> pa.Table:
    """Rows of `coded_rows` as an Arrow table of the `matches` columns (without model), over the same
    buffers: strings as dictionaries over their codes, a column's NULLs as its validity mask."""
    pred, hit = c["kind"] == 0, c["outcome"] == 0
    f64, i64 = pa.float64(), pa.int64()
    arrays = {
        "threshold": numbers(c["threshold"], f64),
        "item_type": dictionary(c["kind"], ["prediction", "label"]),
        "image_id": numbers(c["image_id"], i64),
        "class": dictionary(c["class_code"], classes),
        "prediction_id": numbers(c["prediction_id"], i64, valid=pred | hit),
        "label_id": numbers(c["label_id"], i64, valid=~pred | hit),
        "score": numbers(c["score"], f64, valid=pred | hit),
        "iou": numbers(c["iou"], f64, valid=~np.isnan(c["iou"])),
        "outcome": dictionary(c["outcome"], ["TP", "FP", "FN"]),
        "ignored": booleans(c["ignored"]),
        "det_rank": numbers(c["det_rank"], pa.int32(), valid=pred),
    }
    return pa.Table.from_arrays(list(arrays.values()), names=list(arrays))


# `ap_rows` as the `eval_ap` table's columns (model, class names and IoU type are parameters).
AP_FROM_CODED = """
    SELECT $model, $classes[class_code + 1], threshold, $areas[area + 1], max_dets,
           CASE WHEN NOT isnan(ap) THEN ap END, CASE WHEN recall > -1 THEN recall END, gts, dets, $iou_type
    FROM {table}
"""


def ap_rows(acc: Accumulated) -> dict[str, np.ndarray]:
    """One `eval_ap` row per class, IoU threshold, area range and maxDets, coded as `AP_FROM_CODED` reads them
    (AP and recall NULL where COCO has -1)."""
    ap = acc.ap()                                     # [T, K, A, M]
    T, K, A, M = ap.shape
    t, k, a, m = (g.ravel() for g in np.meshgrid(np.arange(T), np.arange(K), np.arange(A), np.arange(M), indexing="ij"))
    return {"class_code": k.astype(np.int32), "threshold": np.round(IOU_THRESHOLDS, 2)[t], "area": a.astype(np.int32),
            "max_dets": np.array(MAX_DETS, dtype=np.int32)[m], "ap": ap[t, k, a, m], "recall": acc.recall[t, k, a, m],
            "gts": acc.gts[k, a].astype(np.int64), "dets": acc.dets[k, a, m].astype(np.int64)}


def evaluate_detection(con: duckdb.DuckDBPyConnection, model: str, dataset: str, *,
                       insert: Callable[[dict[str, np.ndarray], list[str]], None], progress: bool = True,
                       budget: int | None = None) -> tuple[dict, list[str], Accumulated, dict]:
    """Match range of images by range (`Ranges`, about `budget` boxes each, default `chunked.BUDGET`), handing
    each range's coded `matches` rows to `insert(rows, classes)` (`coded_rows`), then accumulate
    (`accumulate_by_class`);
    returns the coded rows for `eval_ap` (`ap_rows`), the class names, the curves and the counts."""
    ranges = Ranges(con, model, dataset, budget)
    classes = ranges.classes
    kept = Kept(len(classes), len(AREA_RANGES), len(IOU_THRESHOLDS))
    counts = {"labels": 0, "predictions": 0}
    bar = _bar(len(ranges.ranges)) if progress and len(ranges.ranges) > 1 else None
    for first, last in ranges.ranges:
        labels, preds = ranges.read(first, last)
        gt, dt = to_boxes(labels, preds, classes)
        m = match(gt, dt, progress=progress and bar is None)
        kept.add(gt, dt, m)
        insert(coded_rows(labels, preds, m, classes), classes)
        counts["labels"] += len(gt)
        counts["predictions"] += len(dt)
        del labels, preds, gt, dt, m
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    acc = accumulate_by_class(kept, budget=ranges.budget)
    return ap_rows(acc), classes, acc, counts


def _bar(total: int):
    """tqdm's bar over the ranges of images, imported only when one is shown."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="matching", unit="range", leave=False)
