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
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from loky import ProcessPoolExecutor
from tqdm.auto import tqdm

from . import registry, tables, worker
from .registry import Metric

STAGE = "metrics"
KILL_AT = "QMDB_METRICS_KILL_AT"  # tests: SIGKILL this process just before committing chunk N


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


def _select_work(con: duckdb.DuckDBPyConnection, image_metrics: list[Metric], label_metrics: list[Metric],
                 force: bool) -> int:
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE qmdb_todo_labels AS
        WITH scored AS (
            SELECT l.label_id, l.image_id, l.class, l.x, l.y, l.w, l.h,
                   count(*) OVER (PARTITION BY i.dataset, l.class) / count(*) OVER (PARTITION BY i.dataset) AS share,
                   {tables.need_sql(label_metrics, 'm', force)} AS need, m.label_id IS NULL AS fresh
            FROM labels l JOIN images i USING (image_id) LEFT JOIN label_metrics m USING (label_id)
        )
        SELECT * FROM scored QUALIFY bool_or(len(need) > 0) OVER (PARTITION BY image_id)
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE qmdb_todo_images AS
        SELECT * FROM (
            SELECT i.image_id, i.dataset, {tables.FILE_SQL} AS file,
                   {tables.need_sql(image_metrics, 'm', force)} AS need, m.image_id IS NULL AS fresh,
                   i.image_id IN (SELECT image_id FROM qmdb_todo_labels) AS has_labels
            FROM images i JOIN datasets d ON d.name = i.dataset LEFT JOIN image_metrics m USING (image_id)
        ) WHERE len(need) > 0 OR has_labels
    """)
    return con.execute("SELECT count(*) FROM qmdb_todo_images").fetchall()[0][0]


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
        ids = images["image_id"].to_numpy()
        label_image = labels["image_id"].to_numpy()
        xywh = np.stack([labels[c].to_numpy(zero_copy_only=False).astype(np.float64) for c in "xywh"], axis=1) \
            if labels.num_rows else np.zeros((0, 4))
        start = 0
        while start < len(ids):
            stop = min(start + next_chunk(total, chunk_size, workers), len(ids))
            total -= stop - start
            part = images.slice(start, stop - start)
            lo = int(np.searchsorted(label_image, ids[start], side="left"))
            hi = int(np.searchsorted(label_image, ids[stop - 1], side="right"))
            yield {
                "image_id": part["image_id"].to_numpy(),
                "dataset": part["dataset"].to_pylist(),
                "file": part["file"].to_pylist(),
                "need": [tuple(n) for n in part["need"].to_pylist()],
                "fresh": part["fresh"].to_numpy(zero_copy_only=False),
                "image_metrics": sorted({n for need in part["need"].to_pylist() for n in need}),
                "label_metrics": [m.name for m in label_metrics],
                "labels": {
                    "image_id": label_image[lo:hi],
                    "label_id": labels["label_id"].to_numpy()[lo:hi],
                    "xywh": xywh[lo:hi],
                    "class": np.asarray(labels["class"].slice(lo, hi - lo).to_pylist(), dtype=object),
                    "share": labels["share"].to_numpy()[lo:hi],
                    "need": [tuple(n) for n in labels["need"].slice(lo, hi - lo).to_pylist()],
                    "fresh": labels["fresh"].slice(lo, hi - lo).to_numpy(zero_copy_only=False),
                },
            }
            start = stop


def _versions(needs: list[tuple[str, ...]], by_name: dict[str, Metric]) -> pa.MapArray:
    offsets = np.cumsum([0] + [len(n) for n in needs], dtype=np.int32)
    keys = [name for need in needs for name in need]
    return pa.MapArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(keys, pa.string()),
                                   pa.array([by_name[k].version for k in keys], pa.int32()))


def _column(values, sql_type: str) -> pa.Array:
    arrow_type = tables.ARROW_TYPES[sql_type]
    if isinstance(values, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(values)
        data = np.ma.getdata(values)
        if sql_type == "VARCHAR":
            return pa.array([None if m else str(v) for v, m in zip(data, mask)], arrow_type)
        return pa.array(np.where(mask, 0, data), mask=mask).cast(arrow_type)
    return pa.array(values, arrow_type, from_pandas=True)


def _write(con: duckdb.DuckDBPyConnection, result: dict, task: dict, image_by_name: dict[str, Metric],
           label_by_name: dict[str, Metric], chunk_number: int, clear_errors: bool) -> tuple[int, int, int]:
    """One chunk's rows in one transaction: rows new to a table are inserted, others upserted; the
    images' earlier `errors` rows of this stage (``clear_errors``: there are some) are replaced."""
    images = pa.table({
        "image_id": pa.array(result["image_id"], pa.int64()),
        **{n: _column(v, image_by_name[n].type) for n, v in result["image_values"].items()},
        "versions": _versions(result["need"], image_by_name),
    })
    n_labels, n_errors = len(result["label_id"]), len(result["errors"])
    con.execute("BEGIN TRANSACTION")
    registered = []
    try:
        if images.num_rows:
            tables.upsert(con, "image", images, fresh=task["fresh"])
        if n_labels:
            labels = task["labels"]
            tables.upsert(con, "label", pa.table({
                "label_id": pa.array(result["label_id"], pa.int64()),
                **{n: _column(v, label_by_name[n].type) for n, v in result["label_values"].items()},
                "versions": _versions(result["label_need"], label_by_name),
            }), fresh=np.isin(result["label_id"], labels["label_id"][labels["fresh"]]))
        if clear_errors:
            con.register("qmdb_chunk_ids", pa.table({"image_id": images["image_id"]}))
            registered.append("qmdb_chunk_ids")
            con.execute("DELETE FROM errors WHERE stage = ? AND image_id IN (SELECT image_id FROM qmdb_chunk_ids)",
                        [STAGE])
        if n_errors:
            task_dataset = dict(zip(task["image_id"].tolist(), task["dataset"]))
            con.register("qmdb_chunk_errors", pa.table({
                "dataset": pa.array([task_dataset[e[0]] for e in result["errors"]], pa.string()),
                "image_id": pa.array([e[0] for e in result["errors"]], pa.int64()),
                "file": pa.array([e[1] for e in result["errors"]], pa.string()),
                "stage": pa.array([STAGE] * n_errors, pa.string()),
                "message": pa.array([e[2] for e in result["errors"]], pa.string()),
            }))
            registered.append("qmdb_chunk_errors")
            con.execute("INSERT INTO errors (dataset, image_id, file, stage, message) SELECT * FROM qmdb_chunk_errors")
        if os.environ.get(KILL_AT) == str(chunk_number):
            os.kill(os.getpid(), signal.SIGKILL)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in registered:
            con.unregister(name)
    return images.num_rows, n_labels, n_errors


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
    ``force`` recomputes everything. Safe to interrupt and run again.
    """
    plugin_paths = tuple(str(Path(p).resolve()) for p in plugins)
    for plugin in plugin_paths:
        registry.load_plugin(plugin)
    selected = registry.metrics(only=only)
    image_metrics = [m for m in selected if m.kind == "image"]
    label_metrics = [m for m in selected if m.kind == "label"]
    todo = _select_work(con, image_metrics, label_metrics, force)
    clear_errors = con.execute("SELECT count(*) > 0 FROM errors WHERE stage = ? AND image_id IN "
                               "(SELECT image_id FROM qmdb_todo_images)", [STAGE]).fetchall()[0][0]
    workers = min((os.cpu_count() or 1) if workers is None else workers, -(-todo // chunk_size))  # no idle worker
    report = MetricsReport(metrics=[m.name for m in selected])
    image_by_name = {m.name: m for m in image_metrics}
    label_by_name = {m.name: m for m in label_metrics}
    pool = _start_pool(workers, selected) if todo and workers else None
    bar = tqdm(total=todo, unit="img", desc="metrics", disable=not progress or todo == 0, smoothing=0.1)

    def finish(result: dict, task: dict) -> None:
        report.chunks += 1
        n_images, n_labels, n_errors = _write(con, result, task, image_by_name, label_by_name, report.chunks,
                                              clear_errors)
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
        con.execute("DROP TABLE IF EXISTS qmdb_todo_images")
        con.execute("DROP TABLE IF EXISTS qmdb_todo_labels")
    from ..database import register
    from ..views import install

    register(con)  # plugin metrics become SQL functions on this connection too
    install(con)
    return report

