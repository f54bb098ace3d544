"""The metric library: image and label quality metrics, as SQL functions and materialized tables.

`image_metric` and `label_metric` register a metric (the built-ins use them
too); `compute_metrics` fills `image_metrics` and `label_metrics`.
"""

from .registry import image_metric, label_metric, load_plugin, metrics


def __getattr__(name: str):
    if name in ("compute_metrics", "MetricsReport"):  # the runner (DuckDB, Arrow) is not needed in workers
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'qmdb.udfs' has no attribute {name!r}")


__all__ = ["image_metric", "label_metric", "load_plugin", "metrics", "compute_metrics", "MetricsReport"]
