"""Two metrics against each other, one colour per class or split."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from ._common import PlotError, axis_label, figure, metric_scope, save

GROUPS = ("split", "class", "none")


def scatter_data(con: duckdb.DuckDBPyConnection, x: str, y: str, by: str = "split") -> dict[str, np.ndarray]:
    """Per group, an (n, 2) array of (x, y). Two image metrics pair per image; a label metric pairs
    per label (an image metric then reads the label's image)."""
    if by not in GROUPS:
        raise PlotError(f"scatter: by must be one of {', '.join(GROUPS)}, not '{by}'")
    sx, sy = metric_scope(con, x), metric_scope(con, y)
    if sx == sy == "image":
        source = ("image_metrics mx JOIN image_metrics my USING (image_id) JOIN images i USING (image_id) "
                  "LEFT JOIN (SELECT image_id, min(class) AS class FROM labels GROUP BY image_id) l USING (image_id)")
    else:
        tables = {"image": "image_metrics", "label": "label_metrics"}
        keys = {"image": "image_id", "label": "label_id"}
        source = (f"labels l JOIN images i USING (image_id) JOIN {tables[sx]} mx ON mx.{keys[sx]} = l.{keys[sx]} "
                  f"JOIN {tables[sy]} my ON my.{keys[sy]} = l.{keys[sy]}")
    group = {"split": "coalesce(i.split, '(no split)')", "class": "coalesce(l.class, '(no label)')", "none": "'all'"}[by]
    rows = con.execute(
        f'SELECT {group} AS grp, list([CAST(mx."{x}" AS DOUBLE), CAST(my."{y}" AS DOUBLE)]) FROM {source} '
        f'WHERE isfinite(CAST(mx."{x}" AS DOUBLE)) AND isfinite(CAST(my."{y}" AS DOUBLE)) GROUP BY grp ORDER BY grp'
    ).fetchall()
    if not rows:
        raise PlotError(f"scatter: no item has both '{x}' and '{y}'")
    return {str(g): np.asarray(points, dtype=float).reshape(-1, 2) for g, points in rows}


def plot_scatter(con: duckdb.DuckDBPyConnection, x: str, y: str, path: str | Path | None,
                 by: str = "split", format: str | None = None) -> Path | bytes:
    """Scatter of metric `y` against metric `x`, coloured by `by`, written to `path`."""
    groups = scatter_data(con, x, y, by)
    fig = figure(6.5, 5)
    ax = fig.add_subplot()
    for name, points in groups.items():
        ax.scatter(points[:, 0], points[:, 1], s=9, alpha=0.6, label=f"{name} (n={len(points)})")
    ax.set_xlabel(axis_label(x, metric_scope(con, x)))
    ax.set_ylabel(axis_label(y, metric_scope(con, y)))
    ax.set_title(f"{y} against {x}" + (f", by {by}" if by != "none" else ""))
    ax.legend(fontsize=8, markerscale=2, ncols=2 if len(groups) > 6 else 1)
    return save(fig, path, format)
