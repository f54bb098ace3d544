"""Reliability diagram of a classifier (the `eval_calibration` view): accuracy against confidence per bin."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
from matplotlib.figure import Figure

from .. import views
from ._common import MAX_BINS, PlotError, bounded, figure, save


def _classifier(con: duckdb.DuckDBPyConnection, model: str | None) -> str:
    """`model` checked to be an evaluated classifier, or the first one (alphabetically)."""
    models = [m for (m,) in con.execute("SELECT DISTINCT model FROM evaluations WHERE task = 'classification' "
                                        "ORDER BY model").fetchall()]
    if not models:
        raise PlotError("no evaluated classifier: the reliability diagram is for classification models "
                        "(run 'qmdb evaluate DB --model NAME' on one)")
    if model is not None and model not in models:
        raise PlotError(f"model '{model}' is not an evaluated classifier; evaluated classifiers: {', '.join(models)}")
    return model or models[0]


def calibration_data(con: duckdb.DuckDBPyConnection, model: str | None = None, n_bins: int = 10) -> dict:
    """The non-empty bins of `eval_calibration`: edges, count, mean confidence, accuracy (+ Wilson), and the ECE."""
    model = _classifier(con, model)
    n_bins = bounded("calibration", "bins", n_bins, MAX_BINS)
    table = views.run(con, "eval_calibration", model_name=model, n_bins=n_bins).to_arrow_table()
    if table.num_rows == 0:
        raise PlotError(f"eval_calibration has no rows for model '{model}'")
    data = {name: table[name].to_numpy() for name in
            ("lower_edge", "upper_edge", "n", "confidence", "accuracy", "accuracy_low", "accuracy_high")}
    return data | {"model": model, "n_bins": n_bins, "ece": float(table["ece"][0].as_py())}


def calibration_figure(con: duckdb.DuckDBPyConnection, model: str | None = None, n_bins: int = 10) -> Figure:
    """Top: accuracy against mean confidence per bin with Wilson 95% bars, the diagonal is perfect
    calibration; bottom: how many predictions each bin holds."""
    d = calibration_data(con, model, n_bins)
    fig = figure(6.0, 6.0)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    top.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfectly calibrated")
    width = d["upper_edge"] - d["lower_edge"]
    top.bar(d["lower_edge"], d["accuracy"], width=width, align="edge", color="C0", alpha=0.25, edgecolor="C0")
    err = np.maximum(np.vstack([d["accuracy"] - d["accuracy_low"], d["accuracy_high"] - d["accuracy"]]), 0)
    top.errorbar(d["confidence"], d["accuracy"], yerr=err, fmt="none", ecolor="C0", elinewidth=1, capsize=2)
    top.plot(d["confidence"], d["accuracy"], marker="o", color="C0", label=d["model"])
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy of the top-1 prediction (0..1)")
    top.set_title(f"Reliability diagram: {d['model']} (ECE {d['ece']:.3f}, {d['n_bins']} bins)")
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(d["lower_edge"], d["n"], width=width, align="edge", color="0.5")
    bottom.set_xlabel("confidence: probability of the top-1 class (0..1)")
    bottom.set_ylabel("predictions")
    return fig


def plot_calibration(con: duckdb.DuckDBPyConnection, path: str | Path | None, model: str | None = None,
                     bins: int = 10, format: str | None = None) -> Path | bytes:
    """The reliability diagram of `model` (default: the first evaluated classifier) in `bins` equal-width bins."""
    return save(calibration_figure(con, model, bins), path, format)
