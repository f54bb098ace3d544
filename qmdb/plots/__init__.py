"""Plots of metrics and model performance (matplotlib, `pip install 'qmdb[plot]'`): one module per
kind, each a data function (tested against the views) and a `plot_*(con, ..., path)` that writes
PNG, SVG or PDF by the path's suffix (or returns the bytes when `path` is None).

The kinds `qmdb plot` and the gallery offer are named by the `qmdb_plots` hook (`plots()`, see
`qmdb.plots.registry`); listing them needs no matplotlib, drawing one does.
"""

from __future__ import annotations

import importlib

from .registry import Plot, PlotError, draw, plots

_LAZY = {
    "plot_histogram": "histogram", "histogram_data": "histogram",
    "plot_scatter": "scatter", "scatter_data": "scatter",
    "plot_by_metric": "by_metric", "by_metric_data": "by_metric",
    "plot_importance": "importance", "importance_data": "importance",
    "plot_confusion": "confusion", "confusion_data": "confusion",
    "plot_pr": "pr_curve", "pr_data": "pr_curve",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Plot", "PlotError", "draw", "plots", *_LAZY]
