"""A metric's distribution, one histogram per class or per split, on shared bins."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from ._common import MAX_BINS, PlotError, axis_label, bounded, figure, metric_scope, save

GROUPS = ("split", "class", "none")

_FROM = {  # (scope, by) -> the FROM clause giving `value` and `grp` columns
    ("image", "split"): "image_metrics m JOIN images i USING (image_id)",
    ("image", "class"): "image_metrics m JOIN (SELECT DISTINCT image_id, class FROM labels) l USING (image_id)",
    ("image", "none"): "image_metrics m",
    ("label", "split"): "label_metrics m JOIN labels l USING (label_id) JOIN images i USING (image_id)",
    ("label", "class"): "label_metrics m JOIN labels l USING (label_id)",
    ("label", "none"): "label_metrics m",
}
_GROUP = {"split": "coalesce(i.split, '(no split)')", "class": "l.class", "none": "'all'"}


def histogram_data(con: duckdb.DuckDBPyConnection, metric: str, by: str = "split") -> dict[str, np.ndarray]:
    """The metric's finite values per group (`by`: split, class or none), groups in name order."""
    if by not in GROUPS:
        raise PlotError(f"histogram: by must be one of {', '.join(GROUPS)}, not '{by}'")
    scope = metric_scope(con, metric)
    rows = con.execute(
        f'SELECT {_GROUP[by]} AS grp, list(CAST(m."{metric}" AS DOUBLE)) FROM {_FROM[scope, by]} '
        f'WHERE isfinite(CAST(m."{metric}" AS DOUBLE)) GROUP BY grp ORDER BY grp').fetchall()
    if not rows:
        raise PlotError(f"histogram: metric '{metric}' has no values yet")
    return {str(group): np.asarray(values, dtype=float) for group, values in rows}


def plot_histogram(con: duckdb.DuckDBPyConnection, metric: str, path: str | Path | None,
                   by: str = "split", bins: int = 30, format: str | None = None) -> Path | bytes:
    """Histogram of `metric` per `by` group (overlaid steps on shared bins), written to `path`."""
    bins = bounded("histogram", "bins", bins, MAX_BINS)
    groups = histogram_data(con, metric, by)
    scope = metric_scope(con, metric)
    edges = np.histogram_bin_edges(np.concatenate(list(groups.values())), bins=bins)
    fig = figure()
    ax = fig.add_subplot()
    for name, values in groups.items():
        ax.hist(values, bins=edges, histtype="step", linewidth=1.6, label=f"{name} (n={len(values)})")
    ax.set_xlabel(axis_label(metric, scope))
    ax.set_ylabel(f"{scope}s (count)")
    ax.set_title(f"{metric}: distribution per {by}" if by != "none" else f"{metric}: distribution")
    ax.legend(fontsize=8, ncols=2 if len(groups) > 6 else 1)
    return save(fig, path, format)
