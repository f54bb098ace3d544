"""The map and the clusters on many vectors: qmdb's calls (end to end through the project file: read the
vectors out of DuckDB, compute, write the table) beside the same library called directly on the array.

    python bench/map.py                                   # 1,000,000 and 100,000 × 512; UMAP on 20,000
    python bench/map.py --sizes 100000 --umap-sizes 20000,100000 --k 20

Vectors: clustered unit vectors (Gaussian blobs around --clusters centres), generated once and cached in
bench/.cache/ (`np.save`, read back by mmap), and a project file per size holding them as one model's image
embeddings. Every row runs in its own process, so its peak resident memory (VmHWM of that process, the
mmap'd vectors' pages and DuckDB's buffers included) is its own. Rows: PCA (qmdb `map.materialize` vs
scikit-learn's `PCA(2)`), k-means (qmdb `clusters.materialize` vs scikit-learn's `KMeans` with the same
settings), UMAP (qmdb `map.materialize` vs umap-learn's `UMAP` with the same settings, each process first
compiling numba's code on 2,000 vectors, outside the timing). The `check` column compares each qmdb result
with its library row: PCA the largest coordinate difference over the layout's largest coordinate, k-means
the share of items with the same cluster.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

import qmdb
from qmdb.embeddings import clusters
from qmdb.embeddings import map as embedding_map

CACHE = Path(__file__).resolve().parent / ".cache"
INSERT_ROWS = 100_000


def clustered(n: int, dim: int, centres: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def vectors_file(n: int, dim: int, centres: int) -> Path:
    path = CACHE / f"vectors-{n}x{dim}-{centres}.npy"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        (CACHE / ".gitignore").write_text("*\n")
        np.save(path.with_suffix(".tmp.npy"), clustered(n, dim, centres))
        path.with_suffix(".tmp.npy").rename(path)
    return path


def project_file(vectors: Path) -> Path:
    """The project holding `vectors` as model `bench`'s image embeddings (built once, inserted in slices)."""
    path = vectors.with_suffix(".duckdb")
    if path.exists():
        return path
    array = np.load(vectors, mmap_mode="r")
    building = path.with_suffix(".building.duckdb")
    building.unlink(missing_ok=True)
    con = qmdb.connect(str(building))
    con.execute("INSERT INTO embedding_models (model, kind, dim) VALUES ('bench', 'builtin', ?)", [array.shape[1]])
    for start in range(0, len(array), INSERT_ROWS):
        part = np.ascontiguousarray(array[start:start + INSERT_ROWS])
        flat = pa.FixedSizeListArray.from_arrays(pa.array(part.ravel()), array.shape[1])
        con.register("v", pa.table({"item_id": np.arange(start + 1, start + len(part) + 1), "vector": flat}))
        con.execute("INSERT INTO embeddings SELECT 'image', item_id, 'bench', vector::FLOAT[] FROM v")
        con.unregister("v")
    con.execute("CHECKPOINT")
    con.close()
    building.rename(path)
    return path


def umap_warm_up(vectors: np.ndarray) -> None:
    embedding_map.umap(np.ascontiguousarray(vectors[:2000]))


def library(step: str, k: int):
    """The library's call on an array (imported here, before the timing)."""
    if step == "pca":
        from sklearn.decomposition import PCA

        return lambda vectors: PCA(2).fit_transform(vectors)
    if step == "kmeans":
        from sklearn.cluster import KMeans

        return lambda vectors: KMeans(n_clusters=k, n_init=1, random_state=0).fit(vectors).labels_
    import umap

    return lambda vectors: umap.UMAP(n_components=2, metric="cosine", n_neighbors=15,
                                     random_state=0).fit_transform(vectors)


def through_qmdb(step: str, con, k: int) -> str:
    """Runs qmdb's call; returns the query that reads its result back (outside the timing)."""
    if step == "kmeans":
        clusters.materialize(con, "bench", k=k, force=True)
        return "SELECT cluster FROM clusters ORDER BY item_id"
    embedding_map.materialize(con, "bench", method=step, force=True)
    return "SELECT x, y FROM embedding_map ORDER BY item_id"


def child(step: str, who: str, vectors_path: Path, k: int, out: Path) -> None:
    """One row, timed in this process; prints seconds and this process's peak RSS as JSON."""
    vectors = np.load(vectors_path, mmap_mode="r")
    if who == "library":
        vectors = np.ascontiguousarray(vectors)
        if step == "umap":
            umap_warm_up(vectors)
        call = library(step, k)
        start = time.perf_counter()
        result = call(vectors)
        seconds = time.perf_counter() - start
        np.save(out, result)
    else:

        library(step, k)
        con = qmdb.connect(str(project_file(vectors_path)))
        if step == "umap":
            umap_warm_up(vectors)
        start = time.perf_counter()
        query = through_qmdb(step, con, k)
        seconds = time.perf_counter() - start
        result = con.sql(query).fetchnumpy()
        np.save(out, np.column_stack(list(result.values())).squeeze())
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb()}))


def peak_mb() -> float:
    """This process's own peak RSS: VmHWM of its memory map (`ru_maxrss` would carry over the parent's
    peak, since subprocess starts a child by vfork + exec)."""
    status = Path("/proc/self/status")
    if status.exists():
        line = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def agreement(step: str, library_out: Path, qmdb_out: Path) -> str:
    if step == "umap" or not (library_out.exists() and qmdb_out.exists()):  # UMAP: no exact reference
        return ""
    ours, theirs = np.load(qmdb_out), np.load(library_out)
    if step == "pca":
        return f"largest Δ / largest coordinate: {np.abs(ours - theirs).max() / np.abs(theirs).max():.1e}"
    return f"same cluster: {(ours == theirs).mean():.2%}"


def run_row(step: str, who: str, vectors_path: Path, k: int, timeout: float) -> dict:
    out = CACHE / f"result-{step}-{who}.npy"
    out.unlink(missing_ok=True)
    command = [sys.executable, __file__, "--child", step, who, str(vectors_path), "--k", str(k)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"seconds": float("nan"), "peak_mb": float("nan"), "note": f"over {timeout:.0f} s"}
    if done.returncode:
        raise SystemExit(f"{step} {who} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


NAMES = {
    ("pca", "library"): "scikit-learn PCA(2) on the array",
    ("pca", "qmdb"): "qmdb map.materialize (read + PCA + write)",
    ("kmeans", "library"): "scikit-learn KMeans(k={k}) on the array",
    ("kmeans", "qmdb"): "qmdb clusters.materialize (read + KMeans + write)",
    ("umap", "library"): "umap-learn UMAP on the array",
    ("umap", "qmdb"): "qmdb map.materialize (read + UMAP + write)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,100000", help="vectors for PCA and k-means, largest first")
    parser.add_argument("--umap-sizes", default="20000", help="vectors for UMAP; empty skips it")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--steps", default="pca,kmeans,umap", help="which of pca, kmeans, umap to run")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one row may take")
    parser.add_argument("--child", nargs=3, metavar=("STEP", "WHO", "VECTORS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, who, path = args.child
        return child(step, who, Path(path), args.k, CACHE / f"result-{step}-{who}.npy")
    steps = args.steps.split(",")
    plan = [(s, int(n)) for s in ("pca", "kmeans") if s in steps for n in args.sizes.split(",") if n]
    plan.sort(key=lambda row: -row[1])
    plan += [("umap", int(n)) for n in args.umap_sizes.split(",") if n and "umap" in steps]
    print(f"\n{args.dim}-d clustered unit vectors ({args.clusters} centres), each row in its own process\n")
    print("| step | vectors | method | seconds | ratio | peak RSS (MiB) | check |")
    print("|---|---|---|---|---|---|---|", flush=True)
    for step, n in plan:
        path = vectors_file(n, args.dim, args.clusters)
        project_file(path)
        rows = {who: run_row(step, who, path, args.k, args.timeout) for who in ("library", "qmdb")}
        check = agreement(step, CACHE / f"result-{step}-library.npy", CACHE / f"result-{step}-qmdb.npy")
        base = rows["library"]["seconds"]
        for who, row in rows.items():
            name = NAMES[step, who].format(k=args.k)
            print(f"| {step} | {n:,} | {name} | {row['seconds']:.2f} | {row['seconds'] / base:.2f}× | "
                  f"{row['peak_mb']:.0f} | {row.get('note', check if who == 'qmdb' else '')} |", flush=True)


if __name__ == "__main__":
    main()
