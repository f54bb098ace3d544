"""What the gallery opens on when its URL names no view: the embedding map when the project has one
(rows in `embedding_map`), else the first label-error view that reports something, else the images;
always with the dataset summary (`dataset_summary`) beside it."""

from __future__ import annotations

import duckdb

from .. import views
from ..errors import ViewError

# most telling first: wrong classes, then wrong boxes and masks, then missing and duplicate labels
LABEL_ERROR_VIEWS = ("errors_classification", "errors_class_swaps", "errors_bad_boxes", "errors_mask_empty",
                     "errors_mask_outside_box", "errors_missing_labels", "errors_duplicate_boxes",
                     "errors_out_of_bounds")


def has_map(con: duckdb.DuckDBPyConnection) -> bool:
    """True when a layout is stored in `embedding_map`."""
    exists = con.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'embedding_map' "
                     "AND schema_name = current_schema()").fetchall()[0][0]
    return bool(exists) and con.sql("SELECT EXISTS (SELECT 1 FROM embedding_map)").fetchall()[0][0]


def first_label_errors(con: duckdb.DuckDBPyConnection) -> str | None:
    """The first of `LABEL_ERROR_VIEWS` (at its defaults) that returns a row; None when none does."""
    for name in LABEL_ERROR_VIEWS:
        try:
            if views.run(con, name).limit(1).fetchall():
                return name
        except duckdb.InterruptException:
            raise  # the server's time limit: not a view that opens nothing
        except (ViewError, duckdb.Error):
            continue  # a view the project cannot run (e.g. no predictions of its kind) opens nothing
    return None


def opening(con: duckdb.DuckDBPyConnection) -> dict:
    """`{tab: 'map' | 'gallery', view: name or None (None on the gallery tab: the images query),
    summary: {columns, rows}}` (the `dataset_summary` view)."""
    summary = views.run(con, "dataset_summary")
    out = {"summary": {"columns": summary.columns, "rows": [list(r) for r in summary.fetchall()]}}
    if has_map(con):
        return {"tab": "map", "view": None, **out}
    return {"tab": "gallery", "view": first_label_errors(con), **out}
