"""The embedding pass on Ray: the local pipeline's work list out as Parquet, embedders on Ray, results back.

1. `export_manifest`: the local pipeline's own work query (`pipeline.WORK_SQL`:
   images, and with `labels` boxes, that lack a vector for the model, minus
   earlier errors) with each image's `sha256`, as Parquet files.
2. `EmbedBatch`: decodes each image once, crops its boxes and embeds them with
   the local pipeline's `items_to_embed` and the model's `embed_images`. A
   result row is one vector (`item_type`, `item_id`, `vector`) or one error
   (`message`), with its image's id and `sha256`. The model loads once per worker: on CPUs
   `embed_batch` runs as Ray tasks in Ray's already running worker processes,
   each keeping its `EmbedBatch`; on GPUs `EmbedBatch` is an actor pool, one
   actor per GPU (by default Ray ends a GPU task's process after each task,
   while starting an actor costs a process start, seconds per worker: see
   `docs/scale.md`).
3. `load_results`: inserts the vectors (`ON CONFLICT DO NOTHING`) and the error
   rows not already there, one transaction per group of files; rows whose image
   changed since (another `sha256`) are dropped. The usearch index files and
   the `neighbors` table are then brought up to date as by `qmdb embed`.

Images named by URIs (a user manifest, `qmdb.scale.manifest`) are read by
`fetch.readable`, then decoded by the same code as local files.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import cv2
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from ..embeddings.base import Embedder
from ..embeddings.models import get_embedder, record
from ..embeddings.pipeline import WORK_SQL, EmbedReport, finish, items_to_embed, read_row
from ..transaction import transaction
from . import engine, fetch
from . import manifest as user_manifest
from .results import complete_files, groups

RESULT_SCHEMA = pa.schema([
    ("image_id", pa.int64()), ("sha256", pa.string()), ("dataset", pa.string()), ("file", pa.string()),
    ("model", pa.string()), ("item_type", pa.string()), ("item_id", pa.int64()),
    ("vector", pa.list_(pa.float32())), ("message", pa.string()),
])


def export_manifest(con: duckdb.DuckDBPyConnection, folder: str | Path, model: str, *, labels: bool = False,
                    dataset: str | None = None, images_per_file: int = 1024) -> int:
    """Write the images with something to embed for `model` as Parquet files under `folder` (replaced)."""
    folder = Path(folder)
    work = con.sql(WORK_SQL, params={"model": model, "labels": labels, "dataset": dataset}).to_arrow_table()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    con.register("qmdb_scale_work", work)
    try:
        hashes = con.sql("SELECT w.*, i.sha256 FROM qmdb_scale_work w JOIN images i USING (image_id) "
                         "ORDER BY w.image_id").to_arrow_table()
    finally:
        con.unregister("qmdb_scale_work")
    for part, start in enumerate(range(0, hashes.num_rows, images_per_file)):
        pq.write_table(hashes.slice(start, images_per_file), folder / f"part-{part:05d}.parquet")
    return hashes.num_rows


class EmbedBatch:
    """Embeds batches of manifest rows; one instance (Ray actor) per worker keeps the model loaded."""

    def __init__(self, model: str | Embedder = "builtin", weights: str | None = None, device: str | None = None,
                 name: str | None = None):
        self.embedder = model if isinstance(model, Embedder) else get_embedder(model, weights, device=device,
                                                                                  name=name)

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = batch.sort_by("image_id").to_pylist()
        model = self.embedder.name
        files = [row["file"] for row in rows]
        owners, items, pixels, failed = [], [], [], []
        with fetch.readable(files) as paths:
            decoded = [read_row(row, self.embedder.input_size, path) for row, path in zip(rows, paths)]
        for row, image in zip(rows, decoded):  # one decode per image; its own vector and its boxes' crops
            mine, crops, errors = items_to_embed([row], [image], model)
            owners += [row] * len(mine)
            items += mine
            pixels += crops
            failed += [(row, e[3]) for e in errors]
        vectors = self.embedder.embed_images(pixels) if pixels else np.zeros((0, self.embedder.dim), np.float32)
        if vectors.shape != (len(items), self.embedder.dim):
            raise RuntimeError(f"{model} returned vectors of shape {vectors.shape}, "
                               f"expected ({len(items)}, {self.embedder.dim})")
        flat = pa.array(np.ascontiguousarray(vectors, np.float32).reshape(-1))
        offsets = pa.array(np.arange(len(items) + 1, dtype=np.int32) * self.embedder.dim)
        who = owners + [row for row, _ in failed]
        n_errors = len(failed)
        return pa.table({
            "image_id": pa.array([r["image_id"] for r in who], pa.int64()),
            "sha256": pa.array([r["sha256"] for r in who], pa.string()),
            "dataset": pa.array([r["dataset"] for r in who], pa.string()),
            "file": pa.array([r["file"] for r in who], pa.string()),
            "model": pa.array([model] * len(who), pa.string()),
            "item_type": pa.array([t for t, _ in items] + [None] * n_errors, pa.string()),
            "item_id": pa.array([i for _, i in items] + [None] * n_errors, pa.int64()),
            "vector": pa.concat_arrays([pa.ListArray.from_arrays(offsets, flat),
                                        pa.nulls(n_errors, pa.list_(pa.float32()))]),
            "message": pa.array([None] * len(items) + [m for _, m in failed], pa.string()),
        }, schema=RESULT_SCHEMA)


_EMBEDDERS: dict[tuple, EmbedBatch] = {}


def embed_batch(batch: pa.Table, model: str, weights: str | None = None, device: str | None = None,
                name: str | None = None) -> pa.Table:
    """`EmbedBatch` as a Ray task: the embedder is loaded once per worker process and kept there."""
    key = (model, weights, device, name)
    if key not in _EMBEDDERS:
        cv2.setNumThreads(1)  # one task per core: the parallelism is across tasks
        _EMBEDDERS[key] = EmbedBatch(model, weights, device, name)
    return _EMBEDDERS[key](batch)


def run_on_ray(manifest: str | Path, results: str | Path, model: str, *, weights: str | None = None,
               device: str | None = None, name: str | None = None, actors: int = 2, batch_size: int = 256,
               cpus_per_actor: float = 1.0, gpus_per_actor: float = 0, actor_pool: bool | None = None) -> None:
    """The Ray Data pipeline: read the manifest, embed with `actors` embedders at once, write Parquet.

    The embedders are an actor pool with ``actor_pool`` (default: when ``gpus_per_actor``), else Ray
    tasks (see the module doc). They ask for ``cpus_per_actor`` each, while reading the manifest and
    writing results (light: Parquet of paths and vectors) ask for a quarter each; a scheduling share:
    each embedder runs as one busy process."""
    import ray.data

    kwargs = {"model": model, "weights": weights, "device": device, "name": name}
    common = {"batch_size": batch_size, "batch_format": "pyarrow", "num_cpus": cpus_per_actor}
    dataset = engine.read_manifest(manifest)
    if actor_pool or (actor_pool is None and gpus_per_actor):
        dataset = dataset.map_batches(EmbedBatch, fn_constructor_kwargs=kwargs, num_gpus=gpus_per_actor,
                                      compute=ray.data.ActorPoolStrategy(size=actors), **common)
    else:
        dataset = dataset.map_batches(embed_batch, fn_kwargs=kwargs,
                                      compute=ray.data.TaskPoolStrategy(size=actors), **common)
    dataset.write_parquet(str(results), ray_remote_args={"num_cpus": engine.IO_CPUS})


def load_results(con: duckdb.DuckDBPyConnection, folder: str | Path, model: str, *,
                 progress: bool = True) -> EmbedReport:
    """Bring a results folder into `embeddings` and `errors` (idempotent)."""
    report = EmbedReport(model)
    files, _broken = complete_files(Path(folder))
    bar = tqdm(total=len(files), unit="file", desc=f"load {model}", disable=not progress or not files)
    for group in groups(files):
        with transaction(con):
            con.execute("""
                CREATE OR REPLACE TEMP TABLE qmdb_scale_rows AS
                SELECT r.* FROM read_parquet(?) r
                JOIN images i ON i.image_id = r.image_id AND i.sha256 IS NOT DISTINCT FROM r.sha256
                WHERE r.model = ?
            """, [group, model])
            written = con.execute("""
                INSERT INTO embeddings (item_type, item_id, model, vector)
                SELECT item_type, item_id, model, vector FROM qmdb_scale_rows WHERE vector IS NOT NULL
                ORDER BY item_type, item_id ON CONFLICT DO NOTHING RETURNING item_type
            """).fetchall()
            errors = con.execute("""
                INSERT INTO errors (dataset, image_id, file, stage, message)
                SELECT DISTINCT dataset, image_id, file, 'embed', message FROM qmdb_scale_rows r
                WHERE message IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM errors e WHERE e.stage = 'embed' AND e.image_id = r.image_id
                    AND e.message = r.message)
                ORDER BY image_id, message RETURNING error_id
            """).fetchall()
            con.execute("DROP TABLE qmdb_scale_rows")
        for (item_type,) in written:
            report.written[item_type] += 1
        report.errors += len(errors)
        bar.update(len(group))
    bar.close()
    return report


def embed_ray(con: duckdb.DuckDBPyConnection, model: str = "builtin", *, weights: str | None = None,
              name: str | None = None, labels: bool = False, dataset: str | None = None,
              device: str | None = None, neighbors: int | None = None, batch_size: int = 256,
              actors: int | None = None, progress: bool = True, address: str | None = None,
              num_cpus: int | None = None, where: str | Path | None = None,
              manifest: str | Path | None = None) -> EmbedReport:
    """`embed` on Ray: same vectors, same errors, same skipping; see the module doc.

    ``actors`` embedders run at once (default: one per CPU of the cluster; with ``device='cuda'``
    each takes a GPU); ``address``, ``num_cpus``, ``where``, ``manifest`` and ``dataset`` as for
    `compute_metrics_ray`.
    """
    if manifest is not None:
        dataset, _ = user_manifest.register(con, manifest, dataset)
    embedder = get_embedder(model, weights, device=device, name=name)
    record(con, embedder)
    root = engine.work_dir(con, "embed", where) / _slug(embedder.name)
    report = EmbedReport(embedder.name)
    for run in engine.pending_runs(root):
        _add(report, load_results(con, run, embedder.name, progress=progress))
        engine.mark_loaded(run)
    ray, started = engine.start(address, num_cpus, progress)
    try:
        cpus = engine.cluster_cpus(ray)
        per_file = max(batch_size, math.ceil(_count_images(con, dataset) / (8 * cpus)))
        todo = export_manifest(con, root / "manifest", embedder.name, labels=labels, dataset=dataset,
                               images_per_file=min(per_file, 64 * batch_size))
        if todo:
            run = engine.new_run_dir(root)
            gpus = 1 if device == "cuda" else 0
            size = min(actors or (max(1, int(ray.cluster_resources().get("GPU", 0))) if gpus else cpus),
                       math.ceil(todo / batch_size))
            share = min(1.0, max(cpus - 2 * engine.IO_CPUS, 0.5) / size)
            run_on_ray(root / "manifest", run, model, weights=weights, device=device, name=name, actors=size,
                       batch_size=batch_size, cpus_per_actor=share, gpus_per_actor=gpus)
            _add(report, load_results(con, run, embedder.name, progress=progress))
            engine.mark_loaded(run)
    finally:
        if started:
            ray.shutdown()
    return finish(con, embedder.name, report, neighbors)


def _slug(model: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in model)


def _count_images(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> int:
    sql = "SELECT count(*) FROM images WHERE ? IS NULL OR dataset = ?"
    return con.execute(sql, [dataset, dataset]).fetchall()[0][0]


def _add(report: EmbedReport, more: EmbedReport) -> None:
    for item_type, n in more.written.items():
        report.written[item_type] += n
    report.errors += more.errors
