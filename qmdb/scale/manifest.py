"""User manifests: a Parquet or CSV file naming the images to compute, as local paths or object-store URIs.

Columns: `uri` or `path` (one of the two: where the image is read from; a URI
such as `s3://bucket/a.jpg` or `file:///data/a.jpg`, an absolute path, or a
path relative to the manifest's folder), and optionally `image_id` (your id of
the image, kept as `images.source_id`: qmdb numbers its images itself) and
`split`. `register` upserts them, in one transaction, as the images of one
dataset whose root is empty (each stored path is where the image is read from),
so Ray's results join to `images` like any others and a re-registered
manifest adds no row. Nothing of the images is read on the driver: the Ray
workers read each one once; one that cannot be read becomes an `errors` row.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..importers.tables import no_nulls, ordinal, read_table, text_column
from ..transaction import transaction

FORMAT = "manifest"
WHERE = ("uri", "path")


def _column(file: Path, table: pa.Table) -> str:
    present = [c for c in WHERE if c in table.column_names]
    if len(present) != 1:
        raise InputError(file, None, "a manifest has one column naming each image, 'uri' or 'path' "
                                     f"(columns: {', '.join(table.column_names)})")
    return present[0]


def _unique(file: Path, column: str, values: pa.Array) -> None:
    repeated = ordinal(np.asarray(values.to_pylist(), dtype=str)) > 0
    if repeated.any():
        raise InputError(file, f"rows[{int(np.argmax(repeated))}].{column}", "names an image a second time")


def read(source: str | Path) -> pa.Table:
    """A manifest as (path, split, source_id, row): paths made absolute, URIs as given; checked."""
    file = Path(source)
    table = read_table(file)
    column = _column(file, table)
    no_nulls(file, table, column)
    names = text_column(file, table, column)
    kept = pc.or_(pc.match_substring(names, "://"), pc.starts_with(names, "/"))
    folder = str(file.resolve().parent).rstrip("/")
    paths = pc.if_else(kept, names, pc.binary_join_element_wise(folder, names, "/"))
    _unique(file, column, paths)
    n = table.num_rows
    if "image_id" in table.column_names:
        no_nulls(file, table, "image_id")
        source_id = text_column(file, table, "image_id")
        _unique(file, "image_id", source_id)
    else:
        source_id = pa.nulls(n, pa.string())
    split = text_column(file, table, "split") if "split" in table.column_names else pa.nulls(n, pa.string())
    return pa.table({"path": paths, "split": split, "source_id": source_id, "row": np.arange(n)})


def register(con: duckdb.DuckDBPyConnection, source: str | Path, dataset: str | None = None) -> tuple[str, int]:
    """Upsert a manifest's images into dataset `dataset` (default: the manifest's file name) in one
    transaction; returns (dataset, images in the manifest)."""
    file = Path(source)
    rows = read(file)
    name = dataset or file.stem
    found = con.execute("SELECT root FROM datasets WHERE name = ?", [name]).fetchall()
    if found and found[0][0] != "":
        raise InputError(file, None, f"dataset '{name}' holds images under {found[0][0]}; a manifest's images "
                                     "go in a dataset of their own: choose another name (--dataset)")
    with transaction(con, qmdb_manifest=rows):
        con.execute("INSERT INTO datasets (name, root, format, source) VALUES (?, '', ?, ?) ON CONFLICT (name) "
                    "DO UPDATE SET source = excluded.source, imported_at = now()",
                    [name, FORMAT, str(file.resolve())])
        con.execute("""
            INSERT INTO images (dataset, path, split, source_id)
            SELECT $name, path, split, source_id FROM qmdb_manifest ORDER BY row
            ON CONFLICT (dataset, path) DO UPDATE SET split = COALESCE(excluded.split, images.split),
                                                      source_id = COALESCE(excluded.source_id, images.source_id)
        """, {"name": name})
    return name, rows.num_rows
