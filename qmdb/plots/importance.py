"""Metric importance (the `eval_metric_importance` view): mutual information of each metric with success."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from .. import views
from ._common import MAX_BINS, MAX_TOP, PlotError, bounded, figure, pick_model, save


LEVELS = ("image", "label", "prediction")


def importance_data(con: duckdb.DuckDBPyConnection, model: str | None = None, target: str = "recall",
                    top: int = 15, bins: int = 10, level: str | None = None) -> list[dict]:
    """The view's rows for one model and target ('recall' or 'precision'), best `top` by rank.

    `level` ('image', 'label' or 'prediction') keeps one level's columns, ranked among themselves;
    None ranks every level's. Prediction-level columns have a precision target only.
    """
    bins, top = bounded("importance", "bins", bins, MAX_BINS), bounded("importance", "top", top, MAX_TOP)
    model = pick_model(con, model)
    if target not in ("recall", "precision"):
        raise PlotError(f"importance: target must be recall or precision, not '{target}'")
    if level is not None and level not in LEVELS:
        raise PlotError(f"importance: level must be one of {', '.join(LEVELS)}, not '{level}'")
    if level == "prediction" and target == "recall":
        raise PlotError("importance: prediction-level columns have no recall (a missed label has no prediction "
                        "to read them from); use target precision")
    params = {"model_name": model, "bins": bins} | ({"level": level} if level is not None else {})
    rows = (views.run(con, "eval_metric_importance", **params)
            .filter(f"target = '{target}'").order("rank, metric").limit(top).to_arrow_table().to_pylist())
    if not rows:
        raise PlotError(f"eval_metric_importance has no '{target}' rows for model '{model}'"
                        + (f" at level '{level}'" if level else ""))
    return rows


def plot_importance(con: duckdb.DuckDBPyConnection, path: str | Path | None, model: str | None = None,
                    target: str = "recall", top: int = 15, bins: int = 10, format: str | None = None,
                    level: str | None = None) -> Path | bytes:
    """Horizontal bars of mutual information (bits), most important metric on top, labelled with the
    correlation's sign and the success rate in the metric's lowest and highest bin."""
    rows = importance_data(con, model, target, top, bins, level)
    model = rows[0]["model"]
    fig = figure(7.5, 0.9 + 0.32 * len(rows))
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    information = np.array([r["mutual_information"] for r in rows], dtype=float)
    colours = ["tab:red" if (r["correlation"] or 0) < 0 else "tab:blue" for r in rows]
    ax.barh(y, information, color=colours)
    ax.set_yticks(y, [f"{r['metric']} ({r['scope']})" for r in rows], fontsize=8)
    for yi, r, value in zip(y, rows, information):
        ax.text(value, yi, f"  {target} {r['rate_lowest_bin']:.2f} → {r['rate_highest_bin']:.2f}",
                va="center", fontsize=7)
    ax.set_xlim(0, information.max() * 1.45 if information.max() > 0 else 1)
    ax.set_xlabel(f"mutual information with success (bits)\nblue: {target} rises with the metric, red: falls; "
                  f"text: {target} in the metric's lowest → highest bin", fontsize=9)
    ax.set_title(f"Which metric matters for {target}: {model}")
    return save(fig, path, format)
