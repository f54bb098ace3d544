"""Why AP is low: TIDE's error breakdown per model and per slice, equal to the `tidecv` package.

`find_errors(con, model)` gives every prediction (the 100 best-scored of each
image, as TIDE) and every label (crowd regions aside) its TIDE outcome and error
type (`qmdb.evaluation.tide`) and stores them in `eval_errors`, replacing the
model's rows. `error_breakdown(con, model, where=..., by=...)` reads them back
for any image slice (a SQL condition over `images` and `image_metrics`) or for
each value of an expression, and gives TIDE's AP and the dAP of fixing each
error type (`qmdb.evaluation.tide_ap`); TIDE's errors are per image, so a
slice's numbers are those tidecv gives on the slice's images alone.

>>> import qmdb
>>> con = qmdb.connect()
>>> error_breakdown(con, "nothing")
Traceback (most recent call last):
...
qmdb.errors.QmdbError: no model named 'nothing'; known models: none (import predictions first)
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import QmdbError
from ..transaction import transaction
from .detection import load
from .iou import box_iou
from .run import resolve
from .slices import condition_sql
from .tide import ERROR_TYPES, Errors, classify
from .tide_ap import breakdown

DAP_COLUMNS = {"Cls": "classification", "Loc": "localization", "Both": "both", "Dupe": "duplicate",
               "Bkg": "background", "Miss": "missed", "FalsePos": "false_positives", "FalseNeg": "false_negatives"}


def image_pairs(gt_image: np.ndarray, gt_box: np.ndarray, gt_crowd: np.ndarray, dt_image: np.ndarray,
                dt_box: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (detection, truth) pair of the same image and its box IoU (crowd IoU for a crowd truth)."""
    gs = np.argsort(gt_image, kind="stable")
    images, first, count = np.unique(gt_image[gs], return_index=True, return_counts=True)
    at = np.minimum(np.searchsorted(images, dt_image), max(len(images) - 1, 0))
    n = np.where((len(images) > 0) & (images[at] == dt_image), count[at] if len(images) else 0, 0)
    pd = np.repeat(np.arange(len(dt_image)), n)
    local = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    pg = gs[first[at[pd]] + local] if len(pd) else np.zeros(0, np.int64)
    cols = lambda box, idx: tuple(np.ascontiguousarray(box[:, i], dtype=float)[idx] for i in range(4))  # noqa: E731
    return pd, pg, box_iou(cols(dt_box, pd), cols(gt_box, pg), gt_crowd[pg])


def error_rows(labels: pa.Table, preds: pa.Table, e: Errors) -> pa.Table:
    """The `eval_errors` rows (without model and iou_type) of one classification."""
    col = lambda t, name: t[name].to_numpy(zero_copy_only=False)  # noqa: E731
    lid, lcls, pid = col(labels, "label_id"), col(labels, "class").astype(object), col(preds, "prediction_id")
    score = col(preds, "score").astype(float)
    k = np.flatnonzero(e.dt_kept)
    g = np.flatnonzero(~col(labels, "iscrowd").astype(bool))
    target = np.where(e.dt_match[k] >= 0, e.dt_match[k], e.dt_target[k])
    has = target >= 0
    types = np.array(ERROR_TYPES + (None,), dtype=object)
    outcome = np.where(e.dt_match[k] >= 0, "TP", np.where(e.dt_ignored[k], "ignored", "FP"))
    found = e.gt_match[g] >= 0
    mask = lambda values, valid: pa.array(np.where(valid, values, 0), mask=~valid)  # noqa: E731
    gt_iou = np.full(len(g), np.nan)
    gt_iou[found] = e.dt_iou[e.gt_match[g][found]]
    return pa.table({
        "item_type": ["prediction"] * len(k) + ["label"] * len(g),
        "image_id": np.concatenate([col(preds, "image_id")[k], col(labels, "image_id")[g]]),
        "prediction_id": mask(np.concatenate([pid[k], _at(pid, e.gt_match[g])]), np.r_[np.ones(len(k), bool), found]),
        "label_id": mask(np.concatenate([_at(lid, target), lid[g]]), np.r_[has, np.ones(len(g), bool)]),
        "class": np.concatenate([col(preds, "class").astype(object)[k], lcls[g]]),
        "score": pa.array(np.concatenate([score[k], np.where(found, _at(score, e.gt_match[g]), np.nan)]),
                          from_pandas=True),
        "outcome": np.concatenate([outcome, np.where(found, "TP", "FN")]),
        "error_type": pa.array(np.concatenate([types[e.dt_error[k]], np.where(e.gt_missed[g], "missed", None)]),
                               pa.string()),
        "target_class": pa.array(np.concatenate([np.where(has & (e.dt_error[k] >= 0), _at(lcls, target), None),
                                                 np.full(len(g), None)]), pa.string()),
        "iou": pa.array(np.concatenate([e.dt_iou[k], gt_iou]), from_pandas=True),
        "fixable": np.concatenate([e.dt_fixable[k], np.zeros(len(g), bool)]),
        "image_order": np.concatenate([col(preds, "image_order")[k], col(labels, "image_order")[g]]),
        "det_rank": np.concatenate([e.dt_rank[k] + 1, np.zeros(len(g), np.int64)]).astype(np.int32),
    })


def _at(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """values[index] where index >= 0 (anything where it is -1)."""
    return values[np.maximum(index, 0)] if len(values) else np.zeros(len(index), dtype=values.dtype)


def classify_boxes(labels: pa.Table, preds: pa.Table, *, pos: float = 0.5, bg: float = 0.1,
                   max_dets: int = 100) -> Errors:
    """TIDE's classification of a dataset's boxed labels and a model's boxed predictions."""
    col = lambda t, name: t[name].to_numpy(zero_copy_only=False)  # noqa: E731
    gt_box = np.stack([col(labels, c) for c in "xywh"], 1).reshape(-1, 4)
    dt_box = np.stack([col(preds, c) for c in "xywh"], 1).reshape(-1, 4)
    crowd = col(labels, "iscrowd").astype(bool)
    pd, pg, iou = image_pairs(col(labels, "image_id"), gt_box, crowd, col(preds, "image_id"), dt_box)
    return classify(gt_image=col(labels, "image_id"), gt_cls=col(labels, "class").astype(object),
                    gt_order=col(labels, "label_id"), gt_crowd=crowd, dt_image=col(preds, "image_id"),
                    dt_cls=col(preds, "class").astype(object), dt_score=col(preds, "score").astype(float),
                    dt_order=col(preds, "prediction_id"), pair_dt=pd, pair_gt=pg, pair_iou=iou,
                    pos=pos, bg=bg, max_dets=max_dets)


def mask_image_pairs(labels: pa.Table, preds: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (detection, truth) pair of the same image and its mask IoU (pycocotools' `maskUtils.iou`,
    crowd IoU for a crowd truth), one call per image; a prediction without a mask is its box."""
    from ..importers.masks import mask_api, to_rles
    from .segm import _pred_rles

    api = mask_api("mask error breakdown")
    g_rle, d_rle = to_rles(labels["mask"].to_pylist()), _pred_rles(preds)
    crowd = labels["iscrowd"].to_numpy(zero_copy_only=False).astype(np.uint8)
    g_img, d_img = labels["image_id"].to_numpy(), preds["image_id"].to_numpy()
    out = [(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))]
    for image in np.intersect1d(g_img, d_img):
        gi, di = np.flatnonzero(g_img == image), np.flatnonzero(d_img == image)
        iou = np.asarray(api.iou([d_rle[k] for k in di], [g_rle[k] for k in gi], crowd[gi].tolist()), float)
        r, q = np.nonzero(iou.reshape(len(di), len(gi)) > 0)
        out.append((di[r], gi[q], iou.reshape(len(di), len(gi))[r, q]))
    return tuple(np.concatenate(part) for part in zip(*out))


def _load(con: duckdb.DuckDBPyConnection, model: str, dataset: str, iou_type: str) -> tuple[pa.Table, pa.Table]:
    """Labels and predictions with `image_order` (COCO's image order): boxes, or masks for `segm`."""
    if iou_type == "bbox":
        return load(con, model, dataset)[:2]
    from .segm import load as load_masks

    labels, preds, _ = load_masks(con, model, dataset, iou_type)
    keys = np.unique(np.concatenate([labels["image_key"].to_numpy(), preds["image_key"].to_numpy()]))
    order = lambda t: pa.array(np.searchsorted(keys, t["image_key"].to_numpy()) + 1)  # noqa: E731
    return labels.append_column("image_order", order(labels)), preds.append_column("image_order", order(preds))


def find_errors(con: duckdb.DuckDBPyConnection, model: str, *, dataset: str | None = None, pos: float = 0.5,
                bg: float = 0.1, iou_type: str = "bbox") -> int:
    """Classify `model`'s boxes (or masks, `iou_type="segm"`) with TIDE's rules and store them in
    `eval_errors`; returns the rows written."""
    if iou_type not in ("bbox", "segm"):
        raise QmdbError(f"the error breakdown takes iou_type 'bbox' or 'segm' (as TIDE), not '{iou_type}'")
    dataset, task = resolve(con, model, dataset)
    if task != "detection":
        raise QmdbError(f"model '{model}' is a {task} model: the error breakdown is for detection models")
    labels, preds = _load(con, model, dataset, iou_type)
    if iou_type == "bbox":
        errors = classify_boxes(labels, preds, pos=pos, bg=bg)
    else:
        col = lambda t, name: t[name].to_numpy(zero_copy_only=False)  # noqa: E731
        pd, pg, iou = mask_image_pairs(labels, preds)
        errors = classify(gt_image=col(labels, "image_id"), gt_cls=col(labels, "class").astype(object),
                          gt_order=col(labels, "label_id"), gt_crowd=col(labels, "iscrowd").astype(bool),
                          dt_image=col(preds, "image_id"), dt_cls=col(preds, "class").astype(object),
                          dt_score=col(preds, "score").astype(float), dt_order=col(preds, "prediction_id"),
                          pair_dt=pd, pair_gt=pg, pair_iou=iou, pos=pos, bg=bg)
    rows = error_rows(labels, preds, errors)
    with transaction(con, _qmdb_error_rows=rows):
        con.execute("DELETE FROM eval_errors WHERE model = ? AND iou_type = ?", [model, iou_type])
        con.execute("INSERT INTO eval_errors SELECT ? AS model, ? AS iou_type, * FROM _qmdb_error_rows",
                    [model, iou_type])
    return rows.num_rows


def _image_context(con: duckdb.DuckDBPyConnection) -> str:
    """`SELECT … FROM images LEFT JOIN image_metrics`: every image-level column a slice may name."""
    tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() "
                                         "WHERE database_name = current_database()").fetchall()}
    seen, select = set(), []
    for alias, table in (("i", "images"), ("im", "image_metrics")):
        if table in tables:
            cols = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                                              "AND database_name = current_database() ORDER BY column_index",
                                              [table]).fetchall()]
            select += [f'{alias}."{c}"' for c in cols if c not in seen]
            seen.update(cols)
    joins = "LEFT JOIN image_metrics im USING (image_id)" if "image_metrics" in tables else ""
    return f"SELECT {', '.join(select)} FROM images i {joins}"


def error_breakdown(con: duckdb.DuckDBPyConnection, model: str, *, where: str | None = None,
                    by: str | None = None, dataset: str | None = None, iou_type: str = "bbox") -> duckdb.DuckDBPyRelation:
    """TIDE's AP and dAP per error type for the model, overall, on a slice and the rest, or per value of `by`.

    One row per part: images, predictions, labels, the count of each error type
    (`n_<type>`), `ap` (x100, as tidecv) and the dAP of fixing each type, plus
    `false_positives` / `false_negatives` (tidecv's special errors). Classifies
    the model's boxes (masks: `iou_type="segm"`) first when `eval_errors` has none of them.
    """
    if not con.execute("SELECT 1 FROM eval_errors WHERE model = ? AND iou_type = ? LIMIT 1",
                       [model, iou_type]).fetchall():
        find_errors(con, model, dataset=dataset, iou_type=iou_type)
    part = (f"CAST(({condition_sql(by)}) AS VARCHAR)" if by else
            f"CASE WHEN coalesce(({condition_sql(where)}), false) THEN 'slice' ELSE 'rest' END" if where else "'all'")
    sql = (f"SELECT e.*, {part} AS part FROM eval_errors e JOIN ({_image_context(con)}) ctx USING (image_id) "
           "WHERE e.model = $model AND e.iou_type = $iou_type")
    try:
        table = con.sql(sql, params={"model": model, "iou_type": iou_type}).to_arrow_table()
    except duckdb.Error as error:
        raise QmdbError(f"error breakdown '{by or where}': {str(error).splitlines()[0]}") from None
    cols = {name: table[name].to_numpy(zero_copy_only=False) for name in table.column_names}
    out = []
    for name in sorted(set(cols["part"].tolist()), key=lambda v: (v is None, v != "slice", str(v))):
        keep = cols["part"] == name
        rows = {k: v[keep] for k, v in cols.items()}
        pred = rows["item_type"] == "prediction"
        counts = {f"n_{t}": int((rows["error_type"] == t).sum()) for t in ERROR_TYPES}
        figures = breakdown(rows)
        out.append({"model": model, "iou_type": iou_type, "part": name, "images": len(np.unique(rows["image_id"])),
                    "predictions": int(pred.sum()), "labels": int((~pred).sum()), **counts,
                    "ap": figures["ap"], **{DAP_COLUMNS[k]: v for k, v in figures.items() if k != "ap"}})
    return con.from_arrow(pa.Table.from_pylist(out))
