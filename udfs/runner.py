"""The batch runner: materialize every metric of every image and label, fast and resumably.

1. DuckDB chooses the work: each image (label) row lacking a metric at its
   current version, by comparing `versions` with the registry; labels get
   their class's share of the dataset from a window function.
2. The work is cut into chunks of images; worker processes read and decode
   each image once and run all its image metrics and all its boxes' label
   metrics on that one array.
3. Each finished chunk is written with one Arrow upsert per table and its
   `errors` rows, in one transaction. Killed at any point, the next run
   starts from the chunks that were not committed; nothing is written twice.

The steps are public for the other engine (`qmdb.scale.metrics`, Ray):
`stale_work` (1), `image_rows` / `label_rows` (a worker's result as metric
table rows, built with `metric_column` and `versions_column`) and
`write_chunk` (3).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from loky import ProcessPoolExecutor
from tqdm.auto import tqdm

from ..transaction import transaction
from . import arrow, registry, tables, worker
from .registry import Metric

STAGE = "metrics"
# DuckDB's memory limit during a pass (QMDB_METRICS_MEMORY overrides): unbounded, its buffer pool keeps
# the work list and every row written, 2.4 GiB at 1,000,000 images; under this it spills the work
# list to its temporary files (+10 s at that size) and the main process stays under 1 GiB.
METRICS_MEMORY = "512MiB"


@dataclass
class MetricsReport:
    """What a run did."""

    images: int = 0
    labels: int = 0
    errors: int = 0
    chunks: int = 0
    metrics: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"computed {len(self.metrics)} metric(s) on {self.images} image(s) and {self.labels} label(s) "
                f"in {self.chunks} chunk(s); {self.errors} error row(s)")


@contextmanager
def stale_work(con: duckdb.DuckDBPyConnection, metrics: list[Metric], *, force: bool = False,
               dataset: str | None = None) -> Iterator[int]:
    """The work of a run, chosen by DuckDB, as two temp views for the statements inside; yields how
    many images there are to do, and drops them on the way out.

    `qmdb_todo_images` (image_id, dataset, file, need, fresh, has_labels): each image lacking one of
    the image `metrics` at its current version (all of them with ``force``), or having labels to do;
    `qmdb_todo_labels` (label_id, image_id, class, x, y, w, h, share, need, fresh): every label of an
    image with a label to do, `share` being its class's share of its dataset. `need` lists the metric
    names a row lacks, `fresh` says it has no row in its metric table yet. ``dataset`` keeps only that
    dataset's images.

    >>> import qmdb
    >>> con = qmdb.connect()
    >>> with stale_work(con, registry.metrics()) as todo:
    ...     todo
    0
    """
    image_metrics = [m for m in metrics if m.kind == "image"]
    label_metrics = [m for m in metrics if m.kind == "label"]
    every_label, every_image = tables.names_sql(label_metrics), tables.names_sql(image_metrics)
    try:
        # A row with no metric row yet (or every row, with force) needs every metric: its `need` is
        # stored as NULL and spelled out by the view, so the work list costs bytes per row, not a
        # list of names (1.7 KB per image with its labels: 1.6 GB at a million).
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE qmdb_todo_labels_stored AS
            WITH scored AS (
                SELECT l.label_id, l.image_id, l.class, l.x, l.y, l.w, l.h,
                       count(*) OVER (PARTITION BY i.dataset, l.class)
                           / count(*) OVER (PARTITION BY i.dataset) AS share,
                       {stored_need(label_metrics, 'm', 'label_id', force)} AS need, m.label_id IS NULL AS fresh
                FROM labels l JOIN images i USING (image_id) LEFT JOIN label_metrics m USING (label_id)
            )
            SELECT * FROM scored
            QUALIFY bool_or(len(coalesce(need, {every_label})) > 0) OVER (PARTITION BY image_id)
        """)
        con.execute(f"""
            CREATE OR REPLACE TEMP VIEW qmdb_todo_labels AS
            SELECT * REPLACE (coalesce(need, {every_label}) AS need) FROM qmdb_todo_labels_stored
        """)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE qmdb_todo_images_stored AS
            SELECT * FROM (
                SELECT i.image_id, i.dataset, {tables.FILE_SQL} AS file,
                       {stored_need(image_metrics, 'm', 'image_id', force)} AS need, m.image_id IS NULL AS fresh,
                       i.image_id IN (SELECT image_id FROM qmdb_todo_labels_stored) AS has_labels
                FROM images i JOIN datasets d ON d.name = i.dataset LEFT JOIN image_metrics m USING (image_id)
            ) WHERE len(coalesce(need, {every_image})) > 0 OR has_labels
        """)
        con.execute(f"""
            CREATE OR REPLACE TEMP VIEW qmdb_todo_images AS
            SELECT * REPLACE (coalesce(need, {every_image}) AS need) FROM qmdb_todo_images_stored
        """)
        if dataset is not None:
            con.execute("DELETE FROM qmdb_todo_images_stored WHERE dataset <> ?", [dataset])
        yield con.execute("SELECT count(*) FROM qmdb_todo_images_stored").fetchall()[0][0]
    finally:
        for name in ("images", "labels"):
            con.execute(f"DROP VIEW IF EXISTS qmdb_todo_{name}")
            con.execute(f"DROP TABLE IF EXISTS qmdb_todo_{name}_stored")


def stored_need(metrics: list[Metric], alias: str, key: str, force: bool) -> str:
    """SQL of the `need` a work-list row stores: NULL where it needs every metric (no row yet in its
    metric table, alias `alias` with key column `key`, or ``force``), else the names it lacks."""
    if force:
        return "NULL::VARCHAR[]"
    return f"CASE WHEN {alias}.{key} IS NOT NULL THEN {tables.need_sql(metrics, alias)} END"


def next_chunk(remaining: int, chunk_size: int, workers: int) -> int:
    """How many of the `remaining` images the next chunk takes: `chunk_size` until the end is near,
    then fewer (guided scheduling, down to 8 images), so that the workers finish together. With one
    worker or none there is nobody to wait for, and chunks keep their size.

    >>> sizes, left = [], 300
    >>> while left:
    ...     sizes.append(next_chunk(left, 64, 2))
    ...     left -= sizes[-1]
    >>> sizes
    [64, 59, 45, 33, 25, 19, 14, 11, 8, 8, 8, 6]
    """
    if workers <= 1:
        return min(remaining, chunk_size)
    return min(remaining, chunk_size, max(8, -(-remaining // (2 * workers))))


def _tasks(con: duckdb.DuckDBPyConnection, total: int, chunk_size: int, workers: int, image_metrics: list[Metric],
           label_metrics: list[Metric]) -> Iterator[dict]:
    last = -(1 << 62)
    page = chunk_size * 8
    while True:
        images = con.sql(
            "SELECT image_id, dataset, file, need, fresh FROM qmdb_todo_images WHERE image_id > $1 ORDER BY image_id LIMIT $2",
            params=[last, page]).to_arrow_table()
        if images.num_rows == 0:
            return
        first, last = images["image_id"][0].as_py(), images["image_id"][-1].as_py()
        labels = con.sql(
            "SELECT label_id, image_id, class, x, y, w, h, share, need, fresh FROM qmdb_todo_labels "
            "WHERE image_id BETWEEN $1 AND $2 ORDER BY image_id, label_id", params=[first, last]).to_arrow_table()
        ids = arrow.to_numpy(images["image_id"])  # arrow.to_numpy: pyarrow's own imports pandas
        label_image = arrow.to_numpy(labels["image_id"])
        xywh = np.stack([arrow.to_numpy(labels[c]).astype(np.float64) for c in "xywh"], axis=1) \
            if labels.num_rows else np.zeros((0, 4))
        label_ids, shares = arrow.to_numpy(labels["label_id"]), arrow.to_numpy(labels["share"])
        start = 0
        while start < len(ids):
            stop = min(start + next_chunk(total, chunk_size, workers), len(ids))
            total -= stop - start
            part = images.slice(start, stop - start)
            lo = int(np.searchsorted(label_image, ids[start], side="left"))
            hi = int(np.searchsorted(label_image, ids[stop - 1], side="right"))
            yield {
                "image_id": ids[start:stop],
                "dataset": part["dataset"].to_pylist(),
                "file": part["file"].to_pylist(),
                "need": [tuple(n) for n in part["need"].to_pylist()],
                "fresh": arrow.to_numpy(part["fresh"]),
                "image_metrics": sorted({n for need in part["need"].to_pylist() for n in need}),
                "label_metrics": [m.name for m in label_metrics],
                "labels": {
                    "image_id": label_image[lo:hi],
                    "label_id": label_ids[lo:hi],
                    "xywh": xywh[lo:hi],
                    "class": np.asarray(labels["class"].slice(lo, hi - lo).to_pylist(), dtype=object),
                    "share": shares[lo:hi],
                    "need": [tuple(n) for n in labels["need"].slice(lo, hi - lo).to_pylist()],
                    "fresh": arrow.to_numpy(labels["fresh"].slice(lo, hi - lo)),
                },
            }
            start = stop


def versions_column(needs: list[tuple[str, ...]], metrics: dict[str, Metric]) -> pa.MapArray:
    """The `versions` column of a chunk's rows: for each row, {metric name: current version} of the
    metrics computed on it (`needs`, one tuple of names per row; `metrics` by name)."""
    offsets = np.cumsum([0] + [len(n) for n in needs], dtype=np.int32)
    keys = [name for need in needs for name in need]
    versions = np.fromiter((metrics[k].version for k in keys), np.int32, len(keys))
    return pa.MapArray.from_arrays(arrow.numbers(offsets, pa.int32()), arrow.strings(keys),
                                   arrow.numbers(versions, pa.int32()))


def metric_column(values, sql_type: str) -> pa.Array:
    """One metric's values from a worker (a list with None for missing, or a masked array) as an
    Arrow array of the metric's SQL type.

    >>> metric_column(np.ma.masked_array([1.5, 0.0], mask=[False, True]), "DOUBLE").to_pylist()
    [1.5, None]
    """
    return arrow.column(values, sql_type)


def image_rows(result: dict, metrics: list[Metric], *, every: bool = False) -> pa.Table:
    """A chunk's `image_metrics` rows from its result (`worker.run_chunk`): `image_id`, one column per
    image metric computed in the chunk (with ``every``: per image metric in `metrics`, NULL where
    not computed) and `versions`."""
    by_name = {m.name: m for m in metrics if m.kind == "image"}
    values = result["image_values"]
    n = len(result["image_id"])
    names = list(by_name) if every else list(values)
    return pa.table({
        "image_id": arrow.numbers(np.asarray(result["image_id"], np.int64), pa.int64()),
        **{name: metric_column(values.get(name, [None] * n), by_name[name].type) for name in names},
        "versions": versions_column(result["need"], by_name),
    })


def label_rows(result: dict, metrics: list[Metric]) -> pa.Table:
    """A chunk's `label_metrics` rows from its result (`worker.run_chunk`): `label_id`, one column per
    label metric of the chunk and `versions`."""
    by_name = {m.name: m for m in metrics if m.kind == "label"}
    return pa.table({
        "label_id": arrow.numbers(np.asarray(result["label_id"], np.int64), pa.int64()),
        **{name: metric_column(v, by_name[name].type) for name, v in result["label_values"].items()},
        "versions": versions_column(result["label_need"], by_name),
    })


def write_chunk(con: duckdb.DuckDBPyConnection, images: pa.Table, labels: pa.Table | None = None,
                errors: pa.Table | None = None, *, fresh_images: np.ndarray | None = None,
                fresh_labels: np.ndarray | None = None, clear_errors: bool = True) -> None:
    """Write one chunk in one transaction (`qmdb.transaction.transaction`): nothing of it, or all of it.

    `images` and `labels` (as made by `image_rows` / `label_rows`) are upserted into `image_metrics` /
    `label_metrics` by `tables.upsert`, the rows marked in ``fresh_images`` / ``fresh_labels`` being
    known new (plain inserts). The chunk's images' `errors` rows of this stage are replaced by
    `errors` (dataset, image_id, file, message); ``clear_errors=False`` skips the delete when the
    caller knows there is nothing to delete."""
    clear = clear_errors and images.num_rows > 0
    insert = errors is not None and errors.num_rows > 0
    seen = {"qmdb_chunk_ids": images.select(["image_id"])} if clear else {}
    if insert:
        seen["qmdb_chunk_errors"] = errors
    with transaction(con, **seen):
        if images.num_rows:
            tables.upsert(con, "image", images, fresh=fresh_images)
        if labels is not None and labels.num_rows:
            tables.upsert(con, "label", labels, fresh=fresh_labels)
        if clear:
            con.execute("DELETE FROM errors WHERE stage = ? AND image_id IN (SELECT image_id FROM qmdb_chunk_ids)",
                        [STAGE])
        if insert:
            con.execute("INSERT INTO errors (dataset, image_id, file, stage, message) "
                        "SELECT dataset, image_id, file, ?, message FROM qmdb_chunk_errors", [STAGE])


def _error_rows(result: dict, task: dict) -> pa.Table:
    dataset = dict(zip(task["image_id"].tolist(), task["dataset"]))
    found = result["errors"]
    return pa.table({
        "dataset": arrow.strings([dataset[e[0]] for e in found]),
        "image_id": arrow.numbers(np.array([e[0] for e in found], np.int64), pa.int64()),
        "file": arrow.strings([e[1] for e in found]),
        "message": arrow.strings([e[2] for e in found]),
    })


def _write(con: duckdb.DuckDBPyConnection, result: dict, task: dict, metrics: list[Metric],
           clear_errors: bool) -> tuple[int, int, int]:
    """One chunk's rows: rows new to a table are inserted, others upserted; the images' earlier
    `errors` rows of this stage (``clear_errors``: there are some) are replaced."""
    images = image_rows(result, metrics)
    labels = label_rows(result, metrics)
    errors = _error_rows(result, task)
    boxes = task["labels"]
    fresh_labels = np.isin(result["label_id"], boxes["label_id"][boxes["fresh"]]) if labels.num_rows else None
    write_chunk(con, images, labels, errors, fresh_images=task["fresh"], fresh_labels=fresh_labels,
                clear_errors=clear_errors)
    return images.num_rows, labels.num_rows, errors.num_rows


def _start_pool(workers: int, metrics: list[Metric]) -> ProcessPoolExecutor:
    """Worker processes, started now (a first no-op task makes them spawn) so that they boot while the
    main process prepares the run. loky: fresh interpreters (no fork of a process running DuckDB
    threads) that do not re-run the caller's __main__, and functions defined there travel by value
    (cloudpickle)."""
    pool = ProcessPoolExecutor(workers, initializer=worker.init, initargs=(metrics,))
    pool.submit(int)
    return pool


def compute_metrics(con: duckdb.DuckDBPyConnection, *, only: list[str] | None = None, workers: int | None = None,
                    plugins: list[str | Path] = (), chunk_size: int = 64, force: bool = False,
                    progress: bool = True) -> MetricsReport:
    """Fill `image_metrics` and `label_metrics` for every image and label that lacks a metric at its version.

    ``only`` restricts to some metric names; ``workers`` is the number of processes (default: all
    cores; 0 computes in this process); ``plugins`` are Python files that register custom metrics;
    ``force`` recomputes everything. Safe to interrupt and run again. DuckDB's memory is bounded by
    `METRICS_MEMORY` while it runs; where that is too small (a project in memory cannot spill),
    the pass goes on under DuckDB's own limit, keeping the chunks already written (a forced pass starts over).
    """
    from ..importers.memory import bounded

    report = MetricsReport()
    try:
        with bounded(con, METRICS_MEMORY, "QMDB_METRICS_MEMORY"):
            return _compute(con, report, only, workers, plugins, chunk_size, force, progress)
    except duckdb.OutOfMemoryException:
        return _compute(con, report, only, workers, plugins, chunk_size, force, progress)


def _compute(con: duckdb.DuckDBPyConnection, report: MetricsReport, only: list[str] | None, workers: int | None,
             plugins, chunk_size: int, force: bool, progress: bool) -> MetricsReport:
    plugin_paths = tuple(str(Path(p).resolve()) for p in plugins)
    for plugin in plugin_paths:
        registry.load_plugin(plugin)
    selected = registry.metrics(only=only)
    image_metrics = [m for m in selected if m.kind == "image"]
    label_metrics = [m for m in selected if m.kind == "label"]
    report.metrics = [m.name for m in selected]
    with stale_work(con, selected, force=force) as todo:
        clear_errors = con.execute("SELECT count(*) > 0 FROM errors WHERE stage = ? AND image_id IN "
                                   "(SELECT image_id FROM qmdb_todo_images)", [STAGE]).fetchall()[0][0]
        workers = min((os.cpu_count() or 1) if workers is None else workers, -(-todo // chunk_size))  # no idle worker
        pool = _start_pool(workers, selected) if todo and workers else None
        bar = tqdm(total=todo, unit="img", desc="metrics", disable=not progress or todo == 0, smoothing=0.1)

        def finish(result: dict, task: dict) -> None:
            n_images, n_labels, n_errors = _write(con, result, task, selected, clear_errors)
            report.chunks += 1
            report.images += n_images
            report.labels += n_labels
            report.errors += n_errors
            bar.update(n_images)

        try:
            tables.sync(con, selected)  # while the workers start
            if todo and pool is None:
                worker.init(selected, threads=None)
                for task in _tasks(con, todo, chunk_size, workers, image_metrics, label_metrics):
                    finish(worker.run_chunk(task), task)
            elif todo:
                pending: dict = {}
                for task in _tasks(con, todo, chunk_size, workers, image_metrics, label_metrics):
                    while len(pending) >= 2 * workers:
                        done, _ = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            finish(future.result(), pending.pop(future))
                    pending[pool.submit(worker.run_chunk, task)] = task
                for future in list(pending):
                    finish(future.result(), pending.pop(future))
        finally:
            if pool is not None:
                pool.shutdown(wait=True, kill_workers=sys.exc_info()[0] is not None)
            bar.close()
    from . import functions

    if plugin_paths or not functions.defines(con, selected):
        from ..database import register

        register(con)  # plugin metrics (or ones registered since it opened) become SQL functions on it too
    return report

