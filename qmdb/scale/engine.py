"""Starting (or joining) Ray, and the layout of a scale-out run's files.

Ray is the optional extra `qmdb[ray]`: importing it is deferred to the
moment a Ray run starts, and its absence is a one-line error naming the
extra. A run keeps its files under one folder (default: beside the database,
`demo.qmdb/scale/<stage>/`): `manifest/` (the images to do, Parquet) and
`results/<run id>/` (what Ray wrote, Parquet); a results folder that has been
loaded gets a `_LOADED` marker and is never read again.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..database import sidecar_dir
from ..errors import MissingExtra

LOADED = "_LOADED"
IO_CPUS = 0.25  # what a Ray task that reads the manifest or writes results asks for


def ray_module():
    """The `ray` module, or `MissingExtra` saying `pip install 'qmdb[ray]'`."""
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise MissingExtra("--engine ray", "ray") from error
    return ray


def start(address: str | None = None, num_cpus: int | None = None, progress: bool = True):
    """Join the running Ray (this process's, `address`, or $RAY_ADDRESS), else start a local one.

    Returns (ray, started): `started` says this call started it, so the caller shuts it down."""
    ray = ray_module()
    started = False
    if not ray.is_initialized():
        local = address is None and not os.environ.get("RAY_ADDRESS")
        ray.init(address=address, num_cpus=num_cpus if local else None, include_dashboard=False,
                 log_to_driver=progress, configure_logging=False)
        started = True
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = progress
    context.enable_operator_progress_bars = progress
    context.print_on_execution_start = False
    return ray, started


def cluster_cpus(ray) -> int:
    """CPUs in the Ray cluster (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def work_dir(con: duckdb.DuckDBPyConnection, stage: str, where: str | Path | None = None) -> Path:
    """The folder of a stage's manifest and results (`where`, or beside the database)."""
    return Path(where) if where is not None else sidecar_dir(con) / "scale" / stage


def new_run_dir(root: Path) -> Path:
    """A fresh results folder for one Ray run."""
    return root / "results" / uuid.uuid4().hex[:12]


def pending_runs(root: Path) -> list[Path]:
    """Results folders that have not been loaded yet (oldest first)."""
    results = root / "results"
    if not results.is_dir():
        return []
    runs = [p for p in results.iterdir() if p.is_dir() and not (p / LOADED).exists()]
    return sorted(runs, key=lambda p: p.stat().st_mtime)


def mark_loaded(run: Path) -> None:
    (run / LOADED).write_text("loaded\n")


def _read_files(batch: pa.Table) -> pa.Table:
    return pa.concat_tables([pq.read_table(path) for path in batch["item"].to_pylist()])


def read_manifest(folder: str | Path):
    """The manifest's Parquet files as a Ray dataset of one block per file, each read by a worker.

    (Ray Data's `read_parquet` reads small files in one task whatever `override_num_blocks`
    says, which left all but one worker idle.)"""
    import ray.data

    files = sorted(str(path) for path in Path(folder).rglob("*.parquet"))
    return ray.data.from_items(files, override_num_blocks=max(1, len(files))).map_batches(
        _read_files, batch_size=1, batch_format="pyarrow", num_cpus=IO_CPUS)
