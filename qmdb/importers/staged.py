"""A streamed dataset import's labels: staged in a temporary table, then written.

`write_dataset` calls `write_labels` inside its one transaction when the format streams its
labels (`DatasetBatch.label_stream`, COCO's reader): each batch the reader yields is appended
to a temporary table as it comes (DuckDB spills it to disk past its memory limit, so the
process holds one batch, not the file) and the paths are resolved to image ids in one join.
When none of the imported images has a label yet (a first import), the labels are inserted in
one statement and recorded as version 1 of each in another (`qmdb.importers.first`): the rows
the chunked diff would write, without its snapshots. Otherwise they are upserted `CHUNK` images
at a time, each chunk recorded as part of the import's one batch of label versions
(`qmdb.history.record.Recorder`) and its stale labels removed. An error anywhere (a bad
annotation in the last batch included) raises inside the transaction, which then rolls
everything back.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from ..history.record import Recorder
from ..schema import add_columns
from ..transaction import registered
from .extras import sql_types
from .first import insert_labels, label_values, record_inserts, unlabelled

CHUNK = 50_000  # images per written chunk
RAW, STAGED, IDS = "_qmdb_labels_raw", "_qmdb_labels", "_qmdb_import_ids"


def write_labels(con: duckdb.DuckDBPyConnection, batch, recorder: Recorder, conform, label_types: dict,
                 relocate) -> tuple[int, int, list[str]]:
    """Stage the streamed labels, then insert them (a first import) or upsert them chunk by chunk;
    returns (labels, stale removed, columns added)."""
    rows = 0
    con.execute(f"DROP TABLE IF EXISTS {RAW}")
    for part in batch.label_stream:
        table = relocate(conform(part, label_types, {}))
        table = table.append_column("_row", pa.array(np.arange(rows, rows + table.num_rows), pa.int64()))
        with registered(con, _qmdb_part=table):
            if rows == 0:
                con.execute(f"CREATE TEMP TABLE {RAW} AS SELECT * FROM _qmdb_part")
            else:
                con.execute(f"INSERT INTO {RAW} SELECT * FROM _qmdb_part")
        rows += table.num_rows
    added = [f"labels.{c}" for c in add_columns(con, "labels", sql_types(con, batch.label_extras))]
    extras = pa.table({"_row": pa.array(np.arange(rows), pa.int64()), **batch.label_extras})
    names = list(batch.label_extras)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {IDS} AS SELECT i.image_id, i.path FROM images i "
                "JOIN _qmdb_images n ON i.dataset = $name AND i.path = n.path", {"name": batch.name})
    columns = [c for c in label_types if c != "path"] + names
    pick = "".join(f', e."{c}"' for c in names)
    join = "JOIN _qmdb_extras e USING (_row)" if names else ""
    first = unlabelled(con, f"SELECT image_id FROM {IDS}")
    with registered(con, _qmdb_extras=extras):
        if first:
            insert_labels(con, columns, f"SELECT i.image_id, l.* EXCLUDE (path){pick} FROM {RAW} l "
                                        f"JOIN {IDS} i USING (path) {join}", "image_id, _row")
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED} AS SELECT i.image_id, l.* EXCLUDE (path, _row){pick} "
                        f"FROM {RAW} l JOIN {IDS} i USING (path) {join} ORDER BY i.image_id, l._row")
    con.execute(f"DROP TABLE {RAW}")
    if first:
        recorder.batch.changes += record_inserts(con, recorder.batch, f"SELECT image_id FROM {IDS}")
        con.execute(f"DROP TABLE {IDS}")
        return rows, 0, added
    ids = con.execute(f"SELECT image_id FROM {IDS} ORDER BY image_id").fetchnumpy()["image_id"]
    removed = 0
    for lo in range(0, len(ids), CHUNK):
        span = {"lo": int(ids[lo]), "hi": int(ids[min(lo + CHUNK, len(ids)) - 1])}
        images = f"SELECT image_id FROM {IDS} WHERE image_id BETWEEN $lo AND $hi"
        with recorder.part(f"SELECT label_id FROM labels WHERE image_id BETWEEN $lo AND $hi AND image_id IN ({images})",
                           span):
            con.execute(_upsert(columns), span)
            stale = (f"FROM labels l WHERE l.image_id BETWEEN $lo AND $hi AND l.image_id IN ({images}) AND NOT EXISTS "
                     f"(SELECT 1 FROM {STAGED} n WHERE n.image_id BETWEEN $lo AND $hi AND n.image_id = l.image_id "
                     "AND n.source_id = l.source_id)")
            count = con.execute(f"SELECT count(*) {stale}", span).fetchall()[0][0]
            if count:
                con.execute(f"DELETE FROM labels WHERE label_id IN (SELECT l.label_id {stale})", span)
            removed += count
    for name in (STAGED, IDS):
        con.execute(f"DROP TABLE {name}")
    return rows, removed, added


def _upsert(columns: list[str]) -> str:
    """The chunk's staged labels into `labels` by (image_id, source_id); area defaults to the box's,
    iscrowd to false (as `store.upsert_labels_sql`)."""
    quoted = [f'"{c}"' for c in columns]
    values = label_values(columns)
    updates = ", ".join(f"{q} = excluded.{q}" for c, q in zip(columns, quoted) if c != "source_id")
    return (f"INSERT INTO labels (image_id, {', '.join(quoted)}) SELECT image_id, {values} FROM {STAGED} "
            f"WHERE image_id BETWEEN $lo AND $hi ON CONFLICT (image_id, source_id) DO UPDATE SET {updates}")
