"""qmdb's own plot kinds (registered by `qmdb.builtins` through the `qmdb_plots` hook)."""

from __future__ import annotations

from .registry import Plot

PLOTS: dict[str, Plot] = {
    "histogram": Plot("qmdb.plots.histogram:plot_histogram", "a metric's distribution per split or class",
                      (("metric", str, "brightness"), ("by", str, "split"), ("bins", int, 30))),
    "scatter": Plot("qmdb.plots.scatter:plot_scatter", "two metrics against each other",
                    (("x", str, "brightness"), ("y", str, "sharpness"), ("by", str, "split"))),
    "by-metric": Plot("qmdb.plots.by_metric:plot_by_metric", "recall and precision per bin of a metric (eval_by_metric)",
                      (("metric", str, "brightness"), ("model", str, None), ("bins", int, 4),
                       ("iou_threshold", float, 0.5), ("min_score", float, 0.0), ("level", str, None))),
    "importance": Plot("qmdb.plots.importance:plot_importance", "which metric matters (eval_metric_importance)",
                       (("model", str, None), ("target", str, "recall"), ("top", int, 15), ("bins", int, 10),
                        ("level", str, None))),
    "confusion": Plot("qmdb.plots.confusion:plot_confusion", "confusion matrix (eval_confusion)",
                      (("model", str, None), ("iou_threshold", float, 0.5), ("min_score", float, 0.5))),
    "pr": Plot("qmdb.plots.pr_curve:plot_pr", "precision-recall curves per class (from matches)",
               (("model", str, None), ("iou_threshold", float, 0.5))),
    "calibration": Plot("qmdb.plots.calibration:plot_calibration",
                        "reliability diagram of a classifier: accuracy against confidence (eval_calibration)",
                        (("model", str, None), ("bins", int, 10))),
    "map": Plot("qmdb.plots.map_plot:plot_map", "the 2-D map of a model's vectors (embedding_map), coloured by a column",
                (("by", str, "class"), ("embedding_model", str, None), ("item_type", str, "image"),
                 ("method", str, "auto"))),
}
