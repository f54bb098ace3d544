"""Performance by a metric (the `eval_by_metric` view): recall and precision per bin, with Wilson intervals.

An image metric gives recall and precision, a label metric recall, a prediction metric
(`prediction_metrics`, e.g. ``pred_box_area``) precision: see the view's description.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from .. import views
from ._common import MAX_BINS, PlotError, axis_label, bounded, figure, metric_scope, save

LEVELS = ("image", "label", "prediction")


def _known(con: duckdb.DuckDBPyConnection, metric: str, level: str | None) -> None:
    """A clear error for an unknown metric or level (the view's own error names the tables it read)."""
    if level is not None and level not in LEVELS:
        raise PlotError(f"by-metric: level must be one of {', '.join(LEVELS)}, not '{level}'")
    if level is None:
        prediction = [c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND table_name = 'prediction_metrics' AND column_name NOT IN ('prediction_id', 'model', 'computed_at') "
            "ORDER BY column_index").fetchall()]
        if metric not in prediction:
            try:
                metric_scope(con, metric)
            except PlotError as error:
                raise PlotError(f"{error}; prediction_metrics: {', '.join(prediction) or 'none'}") from None


def by_metric_data(con: duckdb.DuckDBPyConnection, metric: str, model: str | None = None, bins: int = 4,
                   iou_threshold: float = 0.5, min_score: float = 0.0, level: str | None = None) -> list[dict]:
    """The `eval_by_metric` rows (one per model and bin) as dicts, in model and bin order.

    `level` ('image', 'label' or 'prediction') says where to read `metric` when a name exists at two
    levels; None reads it where the view finds it first.
    """
    bins = bounded("by-metric", "bins", bins, MAX_BINS)
    _known(con, metric, level)
    params = {"metric_name": metric, "bins": bins, "iou_threshold": iou_threshold, "min_score": min_score}
    if model is not None:
        params["model_name"] = model
    if level is not None:
        params["level"] = level
    try:
        rows = views.run(con, "eval_by_metric", **params).to_arrow_table().to_pylist()
    except (duckdb.Error, views.ViewError) as error:
        raise PlotError(f"by-metric: {str(error).splitlines()[0]}") from None
    if not rows:
        raise PlotError(f"eval_by_metric has no rows for '{metric}'" + (f" and model '{model}'" if model else ""))
    return rows


def _bin_name(row: dict) -> str:
    low, high = row["lower_edge"], row["upper_edge"]
    if low is None:
        return f"< {high:.3g}"
    if high is None:
        return f"≥ {low:.3g}"
    return f"{low:.3g} – {high:.3g}"


def _axis_label(metric: str, scope: str) -> str:
    """The metric and its unit; a prediction metric has the unit of the label metric it measures."""
    if scope != "prediction":
        return axis_label(metric, scope)
    from ..udfs.prediction_boxes import METRICS

    measured = {column: name for name, column in METRICS.items()}.get(metric)
    return metric + axis_label(measured, "label")[len(measured):] if measured else metric


def plot_by_metric(con: duckdb.DuckDBPyConnection, metric: str, path: str | Path | None, model: str | None = None,
                   bins: int = 4, iou_threshold: float = 0.5, min_score: float = 0.0,
                   format: str | None = None, level: str | None = None) -> Path | bytes:
    """Bars of recall (label and image metrics) and precision (image and prediction metrics) per bin of
    `metric`, one group per model."""
    rows = by_metric_data(con, metric, model, bins, iou_threshold, min_score, level)
    models = sorted({r["model"] for r in rows})
    scope = rows[0]["scope"]
    rates = (["recall"] if scope != "prediction" else []) + (["precision"] if scope != "label" else [])
    support = "predictions" if scope == "prediction" else "labels"
    fig = figure(7.5, 4.5)
    ax = fig.add_subplot()
    series = [(m, rate) for m in models for rate in rates]
    width = 0.8 / len(series)
    names: dict[int, str] = {}
    for k, (m, rate) in enumerate(series):
        mine = [r for r in rows if r["model"] == m]
        x = np.array([r["bin"] for r in mine], dtype=float)
        value = np.array([np.nan if r[rate] is None else r[rate] for r in mine], dtype=float)
        low = np.array([np.nan if r[f"{rate}_low"] is None else r[f"{rate}_low"] for r in mine], dtype=float)
        high = np.array([np.nan if r[f"{rate}_high"] is None else r[f"{rate}_high"] for r in mine], dtype=float)
        ax.bar(x + (k - (len(series) - 1) / 2) * width, value, width, label=f"{m}: {rate}",
               yerr=np.vstack([value - low, high - value]), capsize=3)
        names.update({int(r["bin"]): f"{_bin_name(r)}\n(n={r[support]})" for r in mine})
    ax.set_xticks(sorted(names), [names[b] for b in sorted(names)], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(f"{_axis_label(metric, scope)} bin (n = {support} in the bin)")
    ax.set_ylabel("rate (0..1), Wilson 95% interval")
    ax.set_title(f"Performance by {metric} (IoU ≥ {iou_threshold:g}, score ≥ {min_score:g})")
    ax.legend(fontsize=8)
    return save(fig, path, format)
