"""The drift plot of `qmdb compare --plot`: side A's and side B's distributions of the metrics that
moved most (largest KS first), as overlaid density histograms on shared bins, KS and p in each title.
Drawn with the plots' own figure and save rules (`pip install 'qmdb[plot]'`)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np


def draw(con: duckdb.DuckDBPyConnection, ids_sql_a: str, ids_sql_b: str, output: str | Path, *, top: int = 6,
         bins: int = 30) -> Path:
    """Write the plot of the `top` most different metrics of `compare_metrics` to `output`."""
    from ..plots._common import figure, save

    ranked = con.sql(f"SELECT metric, ks, ks_p_value FROM compare_metrics(ids_a := {ids_sql_a}, ids_b := {ids_sql_b}) "
                     f"LIMIT {int(top)}").fetchall()
    columns = max(1, min(3, len(ranked)))
    rows = max(1, -(-len(ranked) // columns))
    fig = figure(4.0 * columns, 3.0 * rows)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, (metric, ks, p_value) in zip(axes, ranked):
        quoted = '"' + metric.replace('"', '""') + '"'
        values = {}
        for side, ids in (("A", ids_sql_a), ("B", ids_sql_b)):
            table = con.sql(f"SELECT CAST({quoted} AS DOUBLE) AS v FROM image_metrics "
                            f"WHERE list_contains({ids}, image_id) AND {quoted} IS NOT NULL").to_arrow_table()
            values[side] = table.column("v").to_numpy()
        both = np.concatenate(list(values.values()))
        edges = np.histogram_bin_edges(both[np.isfinite(both)], bins=bins)
        for side, color in (("A", "#1f77b4"), ("B", "#d62728")):
            ax.hist(values[side], bins=edges, density=True, alpha=0.5, color=color, label=f"{side} ({len(values[side])})")
        ax.set_title(f"{metric}: KS {ks:.3f}, p {p_value:.2g}", fontsize=9)
        ax.legend(fontsize=7)
    for ax in axes[len(ranked):]:
        ax.set_visible(False)
    return save(fig, output)
