"""Plots of metrics and model performance (matplotlib, `pip install 'qmdb[plot]'`): one module per
kind, each a data function (tested against the views) and a `plot_*(con, ..., path)` that writes
PNG, SVG or PDF by the path's suffix (or returns the bytes when `path` is None).

`PLOTS` declares each kind for the CLI (`qmdb plot`) and the gallery page: its function, a title,
and its parameters (name, type, default)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._common import PlotError
from .by_metric import by_metric_data, plot_by_metric
from .confusion import confusion_data, plot_confusion
from .histogram import histogram_data, plot_histogram
from .importance import importance_data, plot_importance
from .pr_curve import plot_pr, pr_data
from .scatter import plot_scatter, scatter_data


@dataclass(frozen=True)
class Plot:
    function: Callable
    title: str
    parameters: tuple[tuple[str, type, object], ...]  # (name, type, default); default None: optional

    def as_dict(self) -> dict:
        return {"title": self.title, "parameters": [
            {"name": n, "type": t.__name__, "default": "NULL" if d is None else str(d), "doc": ""}
            for n, t, d in self.parameters]}


PLOTS: dict[str, Plot] = {
    "histogram": Plot(plot_histogram, "a metric's distribution per split or class",
                      (("metric", str, "brightness"), ("by", str, "split"), ("bins", int, 30))),
    "scatter": Plot(plot_scatter, "two metrics against each other",
                    (("x", str, "brightness"), ("y", str, "sharpness"), ("by", str, "split"))),
    "by-metric": Plot(plot_by_metric, "recall and precision per bin of a metric (eval_by_metric)",
                      (("metric", str, "brightness"), ("model", str, None), ("bins", int, 4),
                       ("iou_threshold", float, 0.5), ("min_score", float, 0.0))),
    "importance": Plot(plot_importance, "which metric matters (eval_metric_importance)",
                       (("model", str, None), ("target", str, "recall"), ("top", int, 15), ("bins", int, 10))),
    "confusion": Plot(plot_confusion, "confusion matrix (eval_confusion)",
                      (("model", str, None), ("iou_threshold", float, 0.5), ("min_score", float, 0.5))),
    "pr": Plot(plot_pr, "precision-recall curves per class (from matches)",
               (("model", str, None), ("iou_threshold", float, 0.5))),
}


def draw(con, kind: str, path=None, format: str | None = None, **given) -> object:
    """Draw plot `kind` with parameters `given` (strings are converted to each parameter's type)."""
    if kind not in PLOTS:
        raise PlotError(f"unknown plot '{kind}'; known: {', '.join(PLOTS)}")
    plot = PLOTS[kind]
    types = {n: t for n, t, _ in plot.parameters}
    unknown = set(given) - set(types)
    if unknown:
        raise PlotError(f"plot {kind}: unknown parameter(s) {', '.join(sorted(unknown))}; it takes {', '.join(types)}")
    values = {n: d for n, _, d in plot.parameters}
    for name, value in given.items():
        try:
            values[name] = None if value is None or value == "" else types[name](value)
        except ValueError:
            raise PlotError(f"plot {kind}: {name} must be a {types[name].__name__}, not '{value}'") from None
    return plot.function(con, path=path, format=format, **values)


__all__ = ["PLOTS", "Plot", "PlotError", "draw", "plot_histogram", "plot_scatter", "plot_by_metric",
           "plot_importance", "plot_confusion", "plot_pr", "histogram_data", "scatter_data", "by_metric_data",
           "importance_data", "confusion_data", "pr_data"]
