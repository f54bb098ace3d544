"""Any slice's numbers: `slice(con, where="brightness < 0.2 AND camera = 'B'")`.

The condition is a SQL boolean expression over the *slice context*: every
column of `matches`, then of `image_metrics`, `label_metrics` and
`prediction_metrics` (the predicted box's `pred_*`, when they exist), `images`
(metadata such as `camera`) and `labels` (`annotator`, …), the first table
naming a column winning. A prediction row sees the label it matched,
so label-level conditions restrict predictions to those matched in the slice
(recall is exact; precision and AP are meaningful for image-level conditions).
A label row sees the prediction matched to it, so a prediction-level condition
(``pred_box_area < 1024``) puts a label in the slice of its matched prediction
and an unmatched label in the rest (precision is exact; the slice's recall is
not meaningful; `eval_by_metric` leaves unmatched labels out of a prediction
metric's bins).

The expression is parsed with sqlglot and must be one expression without
subqueries or statements; it is regenerated from the parse tree, never pasted.
Each rate comes with a Wilson interval, AP with an image bootstrap interval,
and the rest of the data (condition false or NULL) is reported beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import QmdbError
from .intervals import class_ap, wilson
from .order import IMAGE_ORDER

# (alias, table, join condition); the first to name a column provides it.
CONTEXT = (
    ("m", "matches", None),
    ("im", "image_metrics", "im.image_id = m.image_id"),
    ("lm", "label_metrics", "lm.label_id = m.label_id"),
    ("pm", "prediction_metrics", "pm.prediction_id = m.prediction_id"),
    ("i", "images", "i.image_id = m.image_id"),
    ("l", "labels", "l.label_id = m.label_id"),
)
_FORBIDDEN = ("Subquery", "Select", "Command", "Create", "Drop", "Insert", "Delete", "Update")  # sqlglot.exp classes


def condition_sql(where: str) -> str:
    """Check a user's WHERE expression and return it as regenerated SQL.

    >>> condition_sql("brightness < 0.2 and camera = 'B'")
    "brightness < 0.2 AND camera = 'B'"
    >>> condition_sql("1 = 1; DROP TABLE labels")
    Traceback (most recent call last):
    ...
    qmdb.errors.QmdbError: slice condition: must be one SQL expression, got '1 = 1; DROP TABLE labels'
    """
    import sqlglot  # here, not at the top: only a slice condition needs the parser
    from sqlglot import exp

    try:
        statements = sqlglot.parse(f"SELECT 1 WHERE {where}", read="duckdb")
    except sqlglot.errors.ParseError as error:
        raise QmdbError(f"slice condition: cannot parse '{where}': {str(error).splitlines()[0]}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select) or not statements[0].args.get("where"):
        raise QmdbError(f"slice condition: must be one SQL expression, got '{where}'")
    tree = statements[0].args["where"].this
    forbidden = tuple(getattr(exp, name) for name in _FORBIDDEN)
    if any(isinstance(node, forbidden) for node in tree.walk()):
        raise QmdbError(f"slice condition: subqueries and statements are not allowed in '{where}'")
    return tree.sql(dialect="duckdb")


def context_sql(con: duckdb.DuckDBPyConnection) -> str:
    """`SELECT … FROM matches JOIN …`: one row per match row with every column a condition may name."""
    tables = {name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
    seen: set[str] = set()
    select, joins = [], []
    for alias, table, on in CONTEXT:
        if table not in tables:
            continue
        columns = [c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND database_name = current_database() "
            "ORDER BY column_index", [table]).fetchall()]
        select += [f'{alias}."{c}"' for c in columns if c not in seen]
        seen.update(columns)
        if on:
            joins.append(f"LEFT JOIN {table} {alias} ON {on}")
    return f"SELECT {', '.join(select)} FROM matches m {' '.join(joins)}"


def _check_evaluated(con: duckdb.DuckDBPyConnection, models: list[str], iou_type: str = "bbox") -> None:
    """A model never evaluated (or unknown) is one error line, naming what to run."""
    evaluated = {m for (m,) in con.execute("SELECT model FROM evaluations WHERE iou_type = ?", [iou_type]).fetchall()}
    known = {m for (m,) in con.execute("SELECT model FROM models").fetchall()}
    for model in models:
        if model not in known:
            raise QmdbError(f"no model named '{model}'; known models: {', '.join(sorted(known)) or 'none'}")
        if model not in evaluated:
            raise QmdbError(f"model '{model}' has no stored matches: run `qmdb evaluate DB --model {model}` "
                            "(without --reuse) first")


def _rows(con, where: str | None, models: list[str], iou_threshold: float, iou_type: str = "bbox") -> pa.Table:
    cond = condition_sql(where) if where else "true"
    sql = (f"SELECT model, item_type, class, image_id, o.image_order, score, det_rank, outcome, "
           f"coalesce(({cond}), false) AS in_slice "
           f"FROM ({context_sql(con)}) ctx JOIN ({IMAGE_ORDER}) o USING (image_id) "
           f"WHERE model IN (SELECT unnest($models)) AND iou_type = $iou_type AND NOT ignored "
           f"AND (threshold IS NULL OR abs(threshold - $thr) < 1e-9)")
    try:
        return con.sql(sql, params={"models": models, "thr": iou_threshold, "iou_type": iou_type}).to_arrow_table()
    except duckdb.Error as error:
        raise QmdbError(f"slice condition '{where}': {str(error).splitlines()[0]}") from None


def _part(t: dict[str, np.ndarray], keep: np.ndarray, min_score: float, rng: np.random.Generator,
          n_boot: int) -> dict[str, float]:
    pred = keep & (t["item_type"] == "prediction")
    lab = keep & (t["item_type"] == "label")
    counted = pred & (t["score"] >= min_score)
    tp = int((counted & (t["outcome"] == "TP")).sum())
    fp = int((counted & (t["outcome"] == "FP")).sum())
    found = int((lab & (t["outcome"] == "TP") & (t["score"] >= min_score)).sum())
    labels = int(lab.sum())
    images, code = np.unique(t["image_id"][keep], return_inverse=True)
    codes = np.zeros(len(keep), dtype=np.int64)
    codes[keep] = code
    boots = (rng.multinomial(len(images), np.full(len(images), 1 / len(images)), size=n_boot) if len(images)
             else np.zeros((n_boot, 0), np.int64))  # an empty part: nothing to resample
    weights = np.vstack([np.ones((1, len(images)), np.int64), boots])
    aps = []
    for cls in np.unique(t["class"][lab]):
        d = np.flatnonzero(pred & (t["class"] == cls))
        d = d[np.lexsort((t["det_rank"][d], t["image_order"][d], -t["score"][d]))]  # COCO's tie rule
        g = np.flatnonzero(lab & (t["class"] == cls))
        aps.append(class_ap(codes[d], t["outcome"][d] == "TP", codes[g], weights))
    ap = np.nanmean(np.vstack(aps), axis=0) if aps else np.full(n_boot + 1, np.nan)
    r_lo, r_hi = wilson(found, labels)
    p_lo, p_hi = wilson(tp, tp + fp)
    boot = ap[1:][~np.isnan(ap[1:])]
    return {
        "images": len(images), "labels": labels, "predictions": tp + fp, "tp": tp, "fp": fp, "fn": labels - found,
        "recall": found / labels if labels else None, "recall_low": float(r_lo), "recall_high": float(r_hi),
        "precision": tp / (tp + fp) if tp + fp else None, "precision_low": float(p_lo), "precision_high": float(p_hi),
        "ap": None if np.isnan(ap[0]) else float(ap[0]),
        "ap_low": float(np.quantile(boot, 0.025)) if boot.size else None,
        "ap_high": float(np.quantile(boot, 0.975)) if boot.size else None,
    }


def slice(con: duckdb.DuckDBPyConnection, where: str | None = None, *, model_name: str | Sequence[str] | None = None,
          iou_threshold: float = 0.5, min_score: float = 0.0, n_boot: int = 200, seed: int = 0,
          iou_type: str = "bbox") -> duckdb.DuckDBPyRelation:
    """Recall, precision and AP of the rows where `where` holds ('slice') and of the others ('rest').

    One row per model and part with support (images, labels, predictions),
    TP/FP/FN at `iou_threshold` counting predictions scoring at least
    `min_score`, Wilson 95% intervals for recall and precision, and AP (COCO's
    101-point, threshold-free, mean over classes) with a 95% image-bootstrap
    interval. Models default to every evaluated model; `iou_type` picks the
    evaluation (``bbox``, ``segm``, ``keypoints``). Returns a relation.
    """
    if model_name is None:
        models = [m for (m,) in con.execute("SELECT model FROM evaluations WHERE iou_type = ? ORDER BY 1",
                                            [iou_type]).fetchall()]
    else:
        models = [model_name] if isinstance(model_name, str) else list(model_name)
    if not models:
        raise QmdbError("no evaluated model: run `qmdb evaluate DB --model NAME` first")
    _check_evaluated(con, models, iou_type)
    table = _rows(con, where, models, iou_threshold, iou_type)
    cols = {name: table[name].to_numpy(zero_copy_only=False) for name in table.column_names}
    if where and not cols["in_slice"].any():
        raise QmdbError(f"slice '{where}' holds none of the evaluated items of {', '.join(map(repr, models))}; "
                        "loosen the condition")
    cols["score"] = np.nan_to_num(cols["score"].astype(float), nan=-np.inf)
    cols["det_rank"] = np.nan_to_num(cols["det_rank"].astype(float), nan=0)
    rng = np.random.default_rng(seed)
    out = []
    for model in models:
        mine = cols["model"] == model
        for part, keep in (("slice", mine & cols["in_slice"]), ("rest", mine & ~cols["in_slice"])):
            out.append({"model": model, "part": part, **_part(cols, keep, min_score, rng, n_boot)})
    return con.from_arrow(pa.Table.from_pylist(out))
