"""Detection models: read boxes from the project, match them COCO's way, write `matches` and `eval_ap`."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .accumulate import Accumulated, accumulate
from .matching import Boxes, Matching, match
from .order import IMAGE_ORDER
from .params import AREA_LABELS, IOU_THRESHOLDS, MAX_DETS

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


def _codes(column: pa.ChunkedArray, classes: list[str]) -> np.ndarray:
    codes = pc.index_in(column.combine_chunks(), value_set=pa.array(classes, pa.string()))
    return codes.to_numpy(zero_copy_only=False).astype(np.int64)


def to_boxes(labels: pa.Table, preds: pa.Table, classes: list[str]) -> tuple[Boxes, Boxes]:
    """Arrow columns to the arrays `match` takes; ids order ties as COCO's list order.

    `Boxes.image` is the image's `image_order` (one-to-one with `image_id`), so that
    tied scores across images are taken in COCO's image id order.
    """
    col = _np
    gt = Boxes(image=col(labels, "image_order"), cls=_codes(labels["class"], classes),
               box=np.stack([col(labels, c) for c in "xywh"], 1), order=col(labels, "label_id"),
               area=col(labels, "area"), crowd=col(labels, "iscrowd").astype(bool))
    dt = Boxes(image=col(preds, "image_order"), cls=_codes(preds["class"], classes),
               box=np.stack([col(preds, c) for c in "xywh"], 1), order=col(preds, "prediction_id"),
               score=col(preds, "score"))
    return gt, dt


def _at(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """values[index] where index >= 0 (anything where it is -1, or when values is empty)."""
    if len(values) == 0:
        return np.zeros(len(index), dtype=values.dtype)
    return values[np.maximum(index, 0)]


def _np(table: pa.Table, name: str) -> np.ndarray:
    """A column as one numpy array (one chunk first: a chunked column's `to_numpy` is many times slower)."""
    return table[name].combine_chunks().to_numpy(zero_copy_only=False)


def _coded(values: np.ndarray, names: list[str] | pa.Array) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(values), names if isinstance(names, pa.Array) else pa.array(names))


_ITEM_TYPES, _OUTCOMES = pa.array(["prediction", "label"]), pa.array(["TP", "FP", "FN"])


def match_rows(model: str, labels: pa.Table, preds: pa.Table, m: Matching) -> pa.Table:
    """One `matches` row per prediction and per label at each IoU threshold (area range 'all').

    Rows go item by item, the thresholds of one item together: the columns that do not
    change with the threshold come in runs DuckDB stores compressed. Strings are
    dictionary-coded (item type, outcome, class): no Python string per row.
    """
    T = len(IOU_THRESHOLDS)
    thresholds = np.round(IOU_THRESHOLDS, 2)
    n_dt, n_gt = preds.num_rows, labels.num_rows
    pid, lid = _np(preds, "prediction_id"), _np(labels, "label_id")
    score = _np(preds, "score")
    d_class, g_class = (t["class"].combine_chunks().cast(pa.string()) for t in (preds, labels))
    classes = pc.unique(pa.concat_arrays([d_class, g_class]))
    d_code = pc.index_in(d_class, value_set=classes).to_numpy(zero_copy_only=False).astype(np.int32)
    g_code = pc.index_in(g_class, value_set=classes).to_numpy(zero_copy_only=False).astype(np.int32)
    each = lambda values: np.repeat(values, T)  # noqa: E731  (one value per item, for each of its thresholds)

    d_match = m.dt_match.T.ravel()                    # [item, threshold]
    d_hit = d_match >= 0
    d_label = np.where(d_hit, _at(lid, d_match), 0)
    g_match = m.gt_match.T.ravel()
    g_hit = g_match >= 0
    g_pred = np.where(g_hit, _at(pid, g_match), 0)
    g_iou = np.where(g_hit, _at(m.dt_iou.ravel(), np.tile(np.arange(T), n_gt) * n_dt + g_match), np.nan)
    n = T * (n_dt + n_gt)
    is_label = np.zeros(n, np.int8)
    is_label[T * n_dt:] = 1
    outcome = np.concatenate([np.where(d_hit, 0, 1), np.where(g_hit, 0, 2)]).astype(np.int8)
    return pa.table({
        "threshold": np.tile(thresholds, n_dt + n_gt),
        "item_type": _coded(is_label, _ITEM_TYPES),
        "image_id": np.concatenate([each(_np(preds, "image_id")), each(_np(labels, "image_id"))]),
        "class": _coded(np.concatenate([each(d_code), each(g_code)]), classes),
        "prediction_id": pa.array(np.concatenate([each(pid), g_pred]),
                                  mask=np.concatenate([np.zeros(T * n_dt, bool), ~g_hit])),
        "label_id": pa.array(np.concatenate([d_label, each(lid)]),
                             mask=np.concatenate([~d_hit, np.zeros(T * n_gt, bool)])),
        "score": pa.array(np.concatenate([each(score), np.where(g_hit, _at(score, g_match), 0)]),
                          mask=np.concatenate([np.zeros(T * n_dt, bool), ~g_hit])),
        "iou": pa.array(np.concatenate([m.dt_iou.T.ravel(), g_iou]), from_pandas=True),
        "outcome": _coded(outcome, _OUTCOMES),
        "ignored": np.concatenate([m.dt_ignore[0].T.ravel(), each(m.gt_ignore[0])]),
        "det_rank": pa.array(np.concatenate([each((m.dt_rank + 1).astype(np.int32)), np.zeros(T * n_gt, np.int32)]),
                             mask=is_label.astype(bool)),
    })


def ap_rows(acc: Accumulated, classes: list[str]) -> pa.Table:
    """One `eval_ap` row per class, IoU threshold, area range and maxDets (AP and recall NULL where COCO has -1)."""
    ap = acc.ap()                                     # [T, K, A, M]
    T, K, A, M = ap.shape
    t, k, a, m = (g.ravel() for g in np.meshgrid(np.arange(T), np.arange(K), np.arange(A), np.arange(M), indexing="ij"))
    recall = acc.recall[t, k, a, m]
    return pa.table({
        "class": pa.array(np.array(classes, dtype=object)[k]) if K else pa.array([], pa.string()),
        "threshold": np.round(IOU_THRESHOLDS, 2)[t],
        "area_range": pa.array(np.array(AREA_LABELS, dtype=object)[a]),
        "max_dets": np.array(MAX_DETS, dtype=np.int32)[m],
        "ap": pa.array(ap[t, k, a, m], from_pandas=True),
        "recall": pa.array(np.where(recall > -1, recall, np.nan), from_pandas=True),
        "gts": acc.gts[k, a],
        "dets": acc.dets[k, a, m],
    })


def evaluate_detection(con: duckdb.DuckDBPyConnection, model: str, dataset: str, *,
                       progress: bool = True) -> tuple[pa.Table, pa.Table, Accumulated, dict]:
    """Match and accumulate; returns the rows for `matches` and `eval_ap`, the curves and the counts."""
    labels, preds, classes = load(con, model, dataset)
    gt, dt = to_boxes(labels, preds, classes)
    m = match(gt, dt, progress=progress)
    acc = accumulate(gt, dt, m, len(classes))
    counts = {"labels": labels.num_rows, "predictions": preds.num_rows}
    return match_rows(model, labels, preds, m), ap_rows(acc, classes), acc, counts
