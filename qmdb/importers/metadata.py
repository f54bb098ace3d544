"""Per-image metadata (CSV or Parquet): every column but the key becomes a column of `images`.

The key column (`path` by default; `image_id` or `source_id`) matches the
dataset's images; a key that matches no image, a repeated key, or a column
named like a core column is an error naming it. Re-importing overwrites the
values of those columns for the listed images.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..schema import add_columns
from .extras import check_name, sql_types
from .predictions.store import dataset_exists
from .report import ImportReport
from .store import registered, transaction
from .tables import no_nulls, read_table, text_column

KEYS = {"path": "i.path", "image_id": "CAST(i.image_id AS VARCHAR)", "source_id": "i.source_id"}


def import_table(con: duckdb.DuckDBPyConnection, source: str | Path, *, dataset: str, key: str = "path") -> ImportReport:
    """Add the table's columns to `images` and fill them for the dataset's images, in one transaction."""
    file = Path(source)
    if key not in KEYS:
        raise InputError(file, key, f"the key must be one of {', '.join(KEYS)}")
    table = read_table(file)
    if key not in table.column_names:
        raise InputError(file, key, f"the key column is missing (columns: {', '.join(table.column_names)})")
    no_nulls(file, table, key)
    columns = [c for c in table.column_names if c != key]
    if not columns:
        raise InputError(file, None, "no metadata columns besides the key")
    for column in columns:
        check_name(file, "images", column)
    keys = text_column(file, table, key)
    if pc.count_distinct(keys).as_py() != len(keys):
        counts = pc.value_counts(keys)
        value = next(v["values"] for v in counts.to_pylist() if v["counts"] > 1)
        raise InputError(file, key, f"'{value}' is listed more than once")
    data = pa.table({"_key": keys, "_row": pa.array(range(len(keys))), **{c: table[c] for c in columns}})
    report = ImportReport("metadata", dataset, images=len(keys))
    with transaction(con), registered(con, _qmdb_metadata=data):
        dataset_exists(con, dataset, file)
        unknown = con.execute(f"SELECT min(_row) FROM _qmdb_metadata m WHERE NOT EXISTS (SELECT 1 FROM images i "
                              f"WHERE i.dataset = $d AND {KEYS[key]} = m._key)", {"d": dataset}).fetchall()[0][0]
        if unknown is not None:
            raise InputError(file, f"rows[{unknown}].{key}",
                             f"no image with {key} '{keys[unknown].as_py()}' in dataset '{dataset}'")
        report.columns_added = add_columns(con, "images", sql_types(con, {c: table[c] for c in columns}))
        sets = ", ".join(f'"{c}" = m."{c}"' for c in columns)
        try:
            con.execute(f"UPDATE images i SET {sets} FROM _qmdb_metadata m WHERE i.dataset = $d AND {KEYS[key]} = m._key",
                        {"d": dataset})
        except duckdb.ConversionException as error:
            raise InputError(file, None, f"a column does not fit the existing images column: {str(error).splitlines()[0]}") from None
    return report
