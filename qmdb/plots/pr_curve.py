"""Precision-recall curves per class, recomputed from `matches` (detections best score first)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from ._common import PlotError, figure, pick_model, save

_SQL = """
WITH m AS (
    SELECT * FROM matches
    WHERE model = $model AND iou_type = 'bbox' AND NOT ignored AND (threshold IS NULL OR abs(threshold - $iou) < 1e-9)
),
npos AS (SELECT class, count(*) AS npos FROM m WHERE item_type = 'label' GROUP BY class),
dets AS (
    SELECT class, score, CAST(outcome = 'TP' AS INTEGER) AS hit,
           row_number() OVER (PARTITION BY class ORDER BY score DESC, image_id, det_rank) AS n
    FROM m WHERE item_type = 'prediction'
),
curve AS (
    SELECT d.class, d.n, d.score, p.npos, sum(d.hit) OVER (PARTITION BY d.class ORDER BY d.n) AS ctp
    FROM dets d JOIN npos p USING (class)
)
SELECT class, any_value(npos) AS labels,
       list(ctp / npos ORDER BY n) AS recall, list(ctp / n ORDER BY n) AS precision, list(score ORDER BY n) AS score
FROM curve GROUP BY class ORDER BY class
"""


def pr_data(con: duckdb.DuckDBPyConnection, model: str | None = None, iou_threshold: float = 0.5) -> dict[str, dict]:
    """Per class: `labels` (non-ignored), and arrays `recall`, `precision`, `score` after each detection
    (best score first), plus `ap` (COCO's 101-point AP from `eval_ap`, area all, 100 detections) when stored."""
    model = pick_model(con, model)
    rows = con.sql(_SQL, params={"model": model, "iou": iou_threshold}).to_arrow_table().to_pylist()
    if not rows:
        raise PlotError(f"no predictions matched for model '{model}' at IoU {iou_threshold:g}")
    ap = dict(con.execute(
        "SELECT class, ap FROM eval_ap WHERE model = ? AND abs(threshold - ?) < 1e-9 AND area_range = 'all' "
        "AND max_dets = 100 AND iou_type = 'bbox'", [model, iou_threshold]).fetchall())
    return {r["class"]: {"labels": r["labels"], "ap": ap.get(r["class"]),
                         **{k: np.asarray(r[k], dtype=float) for k in ("recall", "precision", "score")}}
            for r in rows}


def plot_pr(con: duckdb.DuckDBPyConnection, path: str | Path | None, model: str | None = None,
            iou_threshold: float = 0.5, format: str | None = None) -> Path | bytes:
    """One precision-recall curve per class (raw, not interpolated), AP in the legend."""
    curves = pr_data(con, model, iou_threshold)
    model = pick_model(con, model)
    fig = figure(7, 5)
    ax = fig.add_subplot()
    for name, c in curves.items():
        ap = f", AP {c['ap']:.2f}" if c["ap"] is not None else ""
        ax.plot(np.r_[0, c["recall"]], np.r_[1, c["precision"]], drawstyle="steps-post", linewidth=1.4,
                label=f"{name} (n={c['labels']}{ap})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall (share of labels found, 0..1)")
    ax.set_ylabel("precision (share of predictions correct, 0..1)")
    ax.set_title(f"Precision-recall per class: {model} (IoU ≥ {iou_threshold:g})")
    ax.legend(fontsize=7, ncols=2 if len(curves) > 6 else 1, loc="lower left")
    return save(fig, path, format)
