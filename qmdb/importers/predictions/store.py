"""Writing one model's predictions on one dataset: a transaction, one upsert, stale rows removed.

Predictions upsert on (model, image_id, source_id), so ids stay stable across
re-imports; the model's predictions on the dataset that the new source no
longer has are removed (an import is the model's whole output on the dataset).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pathlib import PurePosixPath

import duckdb
import pyarrow as pa

from ...errors import InputError
from ..report import ImportReport
from ..masks import MASK_TYPE
from ..store import conform, registered, transaction

PREDICTION_TYPES = {
    "key": pa.string(), "class": pa.string(), "score": pa.float64(), "x": pa.float64(), "y": pa.float64(),
    "w": pa.float64(), "h": pa.float64(), "polygon": pa.list_(pa.list_(pa.float64())),
    "probs": pa.map_(pa.string(), pa.float64()), "source_id": pa.string(),
    "mask": MASK_TYPE, "keypoints": pa.list_(pa.float64()), "area": pa.float64(),
}
KEYS = {"source_id": "i.source_id", "path": "i.path", "image_id": "CAST(i.image_id AS VARCHAR)"}


@dataclass
class PredictionBatch:
    """Predictions keyed by an image column (`key_column`: source_id, path or image_id, as text);
    `where(i)` names row i's (file, field) in an error; `also(con)`, when given, writes what else the
    import derived (semantic pixel issues) inside the same transaction."""

    model: str
    dataset: str
    task: str
    source: str
    format: str
    key_column: str
    rows: pa.Table
    where: Callable[[int], tuple[object, str]]
    also: Callable[[duckdb.DuckDBPyConnection], None] | None = None


def owner_by_path_or_stem(files: list[str], by_path: dict[str, object], stems: list[tuple[str, object]]) -> list:
    """The owner of each prediction file: `by_path[file]`, or failing that the one owner whose image has
    the file's stem (`stems`: (image path, owner) pairs); None when there is none or several."""
    by_stem: dict[str, list] = {}
    for path, owner in stems:
        by_stem.setdefault(PurePosixPath(path).stem, []).append(owner)
    out = []
    for name in files:
        hit = by_path.get(name)
        if hit is None:
            candidates = by_stem.get(PurePosixPath(name).stem, [])
            hit = candidates[0] if len(candidates) == 1 else None
        out.append(hit)
    return out


def dataset_exists(con: duckdb.DuckDBPyConnection, dataset: str, source: object) -> None:
    if not con.execute("SELECT count(*) FROM datasets WHERE name = ?", [dataset]).fetchall()[0][0]:
        raise InputError(source, None, f"no dataset named '{dataset}'; import the dataset first")


def _one_dataset_per_model(con: duckdb.DuckDBPyConnection, batch: PredictionBatch) -> None:
    """A model belongs to one dataset: importing it on another would move it there and orphan its
    predictions, so that is refused (a model without predictions may move)."""
    rows = con.execute(
        "SELECT m.dataset, count(p.prediction_id) FROM models m LEFT JOIN predictions p ON p.model = m.model "
        "WHERE m.model = ? AND m.dataset IS DISTINCT FROM ? GROUP BY m.dataset", [batch.model, batch.dataset]).fetchall()
    if rows and rows[0][1]:
        old, count = rows[0]
        raise InputError(batch.source, None, f"model '{batch.model}' already holds {count} predictions on dataset "
                         f"'{old}', not '{batch.dataset}': a model belongs to one dataset; choose another model "
                         "name for this one")


def write_predictions(con: duckdb.DuckDBPyConnection, batch: PredictionBatch) -> ImportReport:
    """Upsert a model's predictions in one transaction; unknown images are an error naming the row."""
    report = ImportReport(batch.format, batch.model)
    rows = conform(batch.rows, PREDICTION_TYPES, {}).append_column("_row", pa.array(range(batch.rows.num_rows)))
    join = f"i.dataset = $dataset AND {KEYS[batch.key_column]} = p.key"
    with transaction(con), registered(con, _qmdb_predictions=rows):
        dataset_exists(con, batch.dataset, batch.source)
        unknown = con.execute(f"SELECT min(_row) FROM _qmdb_predictions p WHERE NOT EXISTS "
                              f"(SELECT 1 FROM images i WHERE {join})", {"dataset": batch.dataset}).fetchall()[0][0]
        if unknown is not None:
            file, field = batch.where(unknown)
            key = rows["key"][unknown].as_py()
            raise InputError(file, field, f"no image with {batch.key_column} {key} in dataset '{batch.dataset}'")
        _one_dataset_per_model(con, batch)
        con.execute(
            "INSERT INTO models (model, task, dataset, source) VALUES (?, ?, ?, ?) ON CONFLICT (model) DO UPDATE "
            "SET task = excluded.task, dataset = excluded.dataset, source = excluded.source, imported_at = now()",
            [batch.model, batch.task, batch.dataset, batch.source])
        columns = [c for c in PREDICTION_TYPES if c != "key"]
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != "source_id")
        con.execute(
            f"INSERT INTO predictions (model, image_id, {', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)}) "
            f"SELECT $model, i.image_id, {', '.join(f'p.{chr(34)}{c}{chr(34)}' for c in columns)} "
            f"FROM _qmdb_predictions p JOIN images i ON {join} "
            f"ON CONFLICT (model, image_id, source_id) DO UPDATE SET {updates}",
            {"model": batch.model, "dataset": batch.dataset})
        stale = (f"SELECT q.prediction_id FROM predictions q JOIN images i ON i.image_id = q.image_id "
                 f"WHERE q.model = $model AND i.dataset = $dataset AND NOT EXISTS (SELECT 1 FROM _qmdb_predictions p "
                 f"WHERE {join} AND p.source_id = q.source_id)")
        params = {"model": batch.model, "dataset": batch.dataset}
        report.removed = con.execute(f"SELECT count(*) FROM ({stale})", params).fetchall()[0][0]
        if report.removed:
            con.execute(f"DELETE FROM predictions WHERE prediction_id IN ({stale})", params)
        if batch.also is not None:
            batch.also(con)
        report.predictions = rows.num_rows
        report.images = con.execute("SELECT count(DISTINCT key) FROM _qmdb_predictions").fetchall()[0][0]
    return report
