"""The metric pass on Ray: manifest out as Parquet, the local runner's code in `map_batches`, results back.

1. `export_manifest`: DuckDB picks the work exactly as the local runner does
   (`qmdb.udfs.runner.stale_work`: every image or label lacking a metric at
   its current version) and writes it as Parquet files, one row per image
   with its content hash (`sha256`), the metrics it needs and its boxes.
2. `compute_batch` (what each Ray task runs): a pure function from a batch of
   manifest rows to result rows, calling the local runner's `worker.run_chunk`
   (one decode per image, every metric, broken files as error messages).
   A result row is one image: its metric values, `versions`, its boxes' values
   (`labels`) and its error messages (`errors`).
3. `load_results`: upserts the rows into `image_metrics` / `label_metrics` and
   replaces the image's `errors` rows, one transaction per group of files, with
   the local runner's own `write_chunk`. A row counts only if its image's
   `sha256` is still the one computed on, and only values at the current
   metric version.
   Loading a file twice changes nothing.

Images named by URIs (a user manifest, `qmdb.scale.manifest`) are read by
`fetch.readable` and then by the same local code; one that cannot be read is
an error row naming the URI.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import cv2
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from ..udfs import registry, tables, worker
from ..udfs.registry import Metric
from ..udfs.runner import MetricsReport, image_rows, label_rows, stale_work, write_chunk
from . import engine, fetch
from . import manifest as user_manifest
from .results import complete_files, groups


def export_manifest(con: duckdb.DuckDBPyConnection, folder: str | Path, metrics: list[Metric], *,
                    force: bool = False, images_per_file: int = 1024, dataset: str | None = None) -> int:
    """Write the images that lack a metric (at its version) as Parquet files under `folder`
    (replaced), only `dataset`'s when given; returns how many images."""
    folder = Path(folder)
    with stale_work(con, metrics, force=force, dataset=dataset) as todo:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if todo:
            con.execute(f"""
                COPY (
                    WITH boxes AS (
                        SELECT image_id, list({{'label_id': label_id, 'class': class, 'x': x, 'y': y, 'w': w, 'h': h,
                                                'share': share, 'need': need}} ORDER BY label_id) AS labels
                        FROM qmdb_todo_labels GROUP BY image_id
                    )
                    SELECT t.image_id, t.dataset, t.file, i.sha256, t.need, b.labels,
                           (row_number() OVER (ORDER BY t.image_id) - 1) // {int(images_per_file)} AS part
                    FROM qmdb_todo_images t JOIN images i USING (image_id) LEFT JOIN boxes b USING (image_id)
                    ORDER BY t.image_id
                ) TO ? (FORMAT parquet, PARTITION_BY (part), OVERWRITE_OR_IGNORE)
            """, [str(folder)])
    return todo


def _task(batch: pa.Table, metrics: list[Metric]) -> dict:
    """A manifest batch as the local runner's chunk (the `task` that `worker.run_chunk` takes)."""
    counts = pc.fill_null(pc.list_value_length(batch["labels"]), 0).to_numpy()
    boxes = pc.list_flatten(batch["labels"]).combine_chunks() if batch.num_rows else pa.array([], pa.null())
    ids = batch["image_id"].to_numpy()
    need = [tuple(n or ()) for n in batch["need"].to_pylist()]
    n_boxes = int(counts.sum())

    def field(name: str) -> pa.Array:
        return boxes.field(name)

    return {
        "image_id": ids,
        "dataset": batch["dataset"].to_pylist(),
        "file": batch["file"].to_pylist(),
        "need": need,
        "image_metrics": sorted({n for names in need for n in names}),
        "label_metrics": [m.name for m in metrics if m.kind == "label"],
        "labels": {
            "image_id": np.repeat(ids, counts),
            "label_id": field("label_id").to_numpy() if n_boxes else np.zeros(0, np.int64),
            "xywh": np.stack([field(c).to_numpy(zero_copy_only=False).astype(np.float64) for c in "xywh"], axis=1)
            if n_boxes else np.zeros((0, 4)),
            "class": np.asarray(field("class").to_pylist() if n_boxes else [], dtype=object),
            "share": field("share").to_numpy() if n_boxes else np.zeros(0),
            "need": [tuple(n) for n in field("need").to_pylist()] if n_boxes else [],
        },
    }


def _offsets(owner: np.ndarray, ids: np.ndarray) -> pa.Array:
    """List offsets grouping rows owned by (sorted) image ids `owner` under each of `ids` (sorted)."""
    starts = np.searchsorted(owner, ids, side="left")
    return pa.array(np.append(starts, len(owner)).astype(np.int32), pa.int32())


def compute_batch(batch: pa.Table, metrics: list[Metric]) -> pa.Table:
    """Result rows (one per image) for a batch of manifest rows: what each Ray task runs.

    Pure: the same manifest rows give the same result rows, whichever machine runs them."""
    if not worker.holds(metrics):
        cv2.setNumThreads(1)  # one task per core: the parallelism is across tasks
        worker.init(metrics, threads=None)
    batch = batch.sort_by("image_id")
    task = _task(batch, metrics)
    with fetch.readable(task["file"]) as paths:
        result = worker.run_chunk({**task, "file": paths})
    images = image_rows(result, metrics, every=True)
    labels = label_rows(result, metrics)
    label_struct = pa.StructArray.from_arrays([c.combine_chunks() for c in labels.columns], names=labels.column_names)
    label_owner = task["labels"]["image_id"][_picked(task, result)]
    error_owner = np.asarray([e[0] for e in result["errors"]], np.int64)
    return pa.table({
        "image_id": images["image_id"],
        "dataset": pa.array(task["dataset"], pa.string()),
        "file": pa.array(task["file"], pa.string()),
        "sha256": batch["sha256"].combine_chunks().cast(pa.string()),
        **{name: images[name] for name in images.column_names[1:]},  # the metrics, then `versions`
        "labels": pa.ListArray.from_arrays(_offsets(label_owner, task["image_id"]), label_struct),
        "errors": pa.ListArray.from_arrays(_offsets(error_owner, task["image_id"]),
                                           pa.array([e[2] for e in result["errors"]], pa.string())),
    })


def _picked(task: dict, result: dict) -> np.ndarray:
    """Row numbers (in the chunk's boxes) of the label rows the worker returned, in its order."""
    label_ids = task["labels"]["label_id"]
    order = np.argsort(label_ids, kind="stable")
    return order[np.searchsorted(label_ids, result["label_id"], sorter=order)]


def run_on_ray(manifest: str | Path, results: str | Path, metrics: list[Metric], *, chunk_size: int = 64) -> None:
    """The Ray Data pipeline: read the manifest, `compute_batch` per chunk of images (Ray tasks), write
    Parquet. Runs wherever Ray is joined (this machine, or a cluster's driver)."""
    dataset = engine.read_manifest(manifest).map_batches(compute_batch, fn_kwargs={"metrics": metrics},
                                                         batch_size=chunk_size, batch_format="pyarrow", num_cpus=1)
    dataset.write_parquet(str(results), ray_remote_args={"num_cpus": engine.IO_CPUS})


def load_results(con: duckdb.DuckDBPyConnection, folder: str | Path, metrics: list[Metric], *,
                 progress: bool = True) -> MetricsReport:
    """Bring a results folder into `image_metrics`, `label_metrics` and `errors` (idempotent)."""
    folder = Path(folder)
    tables.sync(con, metrics)
    report = MetricsReport(metrics=[m.name for m in metrics])
    files, _broken = complete_files(folder)
    image_cols = [m.name for m in metrics if m.kind == "image"]
    label_cols = [m.name for m in metrics if m.kind == "label"]
    current = "MAP {" + ", ".join(f"'{m.name}': {m.version}" for m in metrics) + "}" if metrics else "MAP {}"
    fresh = f"map_from_entries(list_filter(map_entries(versions), lambda e: ({current})[e.key] = e.value))"
    bar = tqdm(total=len(files), unit="file", desc="load metrics", disable=not progress or not files)
    for group in groups(files):
        con.execute("""
            CREATE OR REPLACE TEMP TABLE qmdb_scale_rows AS
            SELECT r.* FROM read_parquet(?, union_by_name = true) r
            JOIN images i ON i.image_id = r.image_id AND i.sha256 IS NOT DISTINCT FROM r.sha256
        """, [group])
        try:
            cols = ", ".join(f'"{c}"' for c in image_cols)
            images = con.sql(f"SELECT image_id, {cols + ', ' if cols else ''}{fresh} AS versions "
                             "FROM qmdb_scale_rows ORDER BY image_id").to_arrow_table()
            cols = ", ".join(f"struct_extract(l, '{c}') AS \"{c}\"" for c in ["label_id", *label_cols, "versions"])
            labels = con.sql(f"""
                WITH u AS (SELECT {cols} FROM (SELECT unnest(labels) AS l FROM qmdb_scale_rows))
                SELECT label_id, {''.join(f'"{c}", ' for c in label_cols)}{fresh} AS versions
                FROM u WHERE label_id IN (SELECT label_id FROM labels) ORDER BY label_id
            """).to_arrow_table()
            errors = con.sql("SELECT dataset, image_id, file, unnest(errors) AS message FROM qmdb_scale_rows "
                             "ORDER BY image_id").to_arrow_table()
        finally:
            con.execute("DROP TABLE IF EXISTS qmdb_scale_rows")
        write_chunk(con, images, labels, errors)
        report.images += images.num_rows
        report.labels += labels.num_rows
        report.errors += errors.num_rows
        report.chunks += 1
        bar.update(len(group))
    bar.close()
    return report


def compute_metrics_ray(con: duckdb.DuckDBPyConnection, *, only: list[str] | None = None,
                        plugins: list[str | Path] = (), chunk_size: int = 64, force: bool = False,
                        progress: bool = True, address: str | None = None, num_cpus: int | None = None,
                        where: str | Path | None = None, manifest: str | Path | None = None,
                        dataset: str | None = None) -> MetricsReport:
    """`compute_metrics` on Ray: same rows, same errors, same skipping; see the module doc.

    ``address`` joins a Ray cluster (default: $RAY_ADDRESS, else a local Ray with ``num_cpus``);
    ``where`` is the folder for the manifest and results (must be shared with the cluster's workers;
    default: beside the database). Results of an interrupted run are loaded first, then only what
    is still missing is computed. ``manifest`` (a Parquet or CSV file with a `uri` or `path` column,
    see `qmdb.scale.manifest`) registers its images in dataset ``dataset`` (default: the file's
    name) first; ``dataset`` restricts the run to that dataset's images.
    """
    if manifest is not None:
        dataset, _ = user_manifest.register(con, manifest, dataset)
    for plugin in plugins:
        registry.load_plugin(plugin)
    selected = registry.metrics(only=only)
    tables.sync(con, selected)
    root = engine.work_dir(con, "metrics", where)
    report = MetricsReport(metrics=[m.name for m in selected])
    for run in engine.pending_runs(root):  # an earlier run's results not yet loaded: keep them
        _add(report, load_results(con, run, selected, progress=progress))
        engine.mark_loaded(run)
    ray, started = engine.start(address, num_cpus, progress)
    try:
        per_file = max(chunk_size, math.ceil(_count_images(con, dataset) / (8 * engine.cluster_cpus(ray))))
        todo = export_manifest(con, root / "manifest", selected, force=force,
                               images_per_file=min(per_file, 64 * chunk_size), dataset=dataset)
        if todo:
            run = engine.new_run_dir(root)
            run_on_ray(root / "manifest", run, selected, chunk_size=chunk_size)
            _add(report, load_results(con, run, selected, progress=progress))
            engine.mark_loaded(run)
    finally:
        if started:
            ray.shutdown()
    from ..database import register

    register(con)  # plugin metrics become SQL functions on this connection too
    return report


def _count_images(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> int:
    sql = "SELECT count(*) FROM images WHERE ? IS NULL OR dataset = ?"
    return con.execute(sql, [dataset, dataset]).fetchall()[0][0]


def _add(report: MetricsReport, more: MetricsReport) -> None:
    report.images += more.images
    report.labels += more.labels
    report.errors += more.errors
    report.chunks += more.chunks
