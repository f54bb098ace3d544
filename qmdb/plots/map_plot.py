"""The embedding map as a picture: every item at its (x, y) of `embedding_map`, coloured by a column."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from ._common import PlotError, figure, save

# what a point can be coloured by (image maps): a column per image, declared as SQL
COLOURS = {
    "class": "(SELECT min(class) FROM labels l WHERE l.image_id = p.item_id)",
    "split": "(SELECT split FROM images i WHERE i.image_id = p.item_id)",
    "dataset": "(SELECT dataset FROM images i WHERE i.image_id = p.item_id)",
    "cluster": "(SELECT cluster::VARCHAR FROM clusters c WHERE c.item_id = p.item_id AND c.item_type = 'image' "
               "AND c.model = $model)",
    "none": "'all'",
}


def colour_values(con: duckdb.DuckDBPyConnection, model: str, points, by: str) -> np.ndarray:
    """One value per point: a category (COLOURS) or an image metric's value."""
    con = con.cursor()
    try:
        con.register("qmdb_map_points", points)
        if by in COLOURS:
            sql = f"SELECT coalesce({COLOURS[by]}, '(none)') FROM qmdb_map_points p ORDER BY p.item_id"
            return np.array([r[0] for r in con.execute(sql, {"model": model} if "$model" in sql else {}).fetchall()])
        columns = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'image_metrics' "
                                             "AND database_name = current_database()").fetchall()}
        if by not in columns or by in ("image_id", "versions"):
            raise PlotError(f"map: by must be one of {', '.join(COLOURS)} or an image metric, not '{by}'")
        rows = con.execute(f'SELECT TRY_CAST(m."{by}" AS DOUBLE) FROM qmdb_map_points p '
                           f"LEFT JOIN image_metrics m ON m.image_id = p.item_id ORDER BY p.item_id").fetchall()
        return np.array([np.nan if r[0] is None else r[0] for r in rows], float)
    finally:
        con.close()


def plot_map(con: duckdb.DuckDBPyConnection, path: str | Path | None, format: str | None = None,
             by: str = "class", embedding_model: str | None = None, item_type: str = "image",
             method: str = "auto") -> Path | bytes:
    """The map of a model's vectors (stored, or computed now when missing or stale), coloured by `by`."""
    from ..embeddings import map as embedding_map

    model, points = embedding_map.points(con, embedding_model, item_type, method)
    points = points.sort_by("item_id")
    x, y = points.column("x").to_numpy(), points.column("y").to_numpy()
    colours = colour_values(con, model, points, by) if item_type == "image" else np.array(["all"] * len(x))
    fig = figure(7, 6)
    ax = fig.add_subplot()
    if colours.dtype.kind == "f":
        shown = ax.scatter(x, y, c=colours, s=6, cmap="viridis", alpha=0.8)
        fig.colorbar(shown, ax=ax, label=by)
    else:
        for value in sorted(set(colours.tolist())):
            mine = colours == value
            ax.scatter(x[mine], y[mine], s=6, alpha=0.7, label=f"{value} (n={int(mine.sum())})")
        ax.legend(fontsize=7, markerscale=2, ncols=2 if len(set(colours.tolist())) > 8 else 1)
    ax.set_title(f"{model}: {item_type} map ({points.column('method')[0].as_py()}), by {by}")
    ax.set_xticks([])
    ax.set_yticks([])
    return save(fig, path, format)
