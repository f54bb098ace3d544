"""The map and the clusters on many vectors: qmdb's calls (end to end through the project file: load the
vectors from DuckDB, compute, write the table) beside the same library called directly on the array.

    python bench/map.py                          # 100,000 × 512 for PCA and k-means, UMAP on 20,000
    python bench/map.py --size 1000000 --umap-size 100000

Vectors: clustered unit vectors (Gaussian blobs around --clusters centres), inserted as one model's
image embeddings of an in-memory project. Rows: PCA (qmdb's numpy `pca` vs scikit-learn's `PCA(2)`),
k-means (qmdb `clusters.materialize` vs scikit-learn's `KMeans` with the same settings), UMAP (qmdb
`map.materialize` vs umap-learn's `UMAP` with the same settings; the first call compiles numba code,
so a warm-up on 2,000 vectors runs first). Seconds and the process's peak resident memory growth.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pyarrow as pa

import qmdb
from qmdb.embeddings import clusters, derived
from qmdb.embeddings import map as embedding_map


def clustered(n: int, dim: int, centres: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def project(vectors: np.ndarray):
    con = qmdb.connect()
    flat = pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), vectors.shape[1])
    con.register("v", pa.table({"item_id": np.arange(1, len(vectors) + 1), "vector": flat}))
    con.execute("INSERT INTO embedding_models (model, kind, dim) VALUES ('bench', 'builtin', ?)", [vectors.shape[1]])
    con.execute("INSERT INTO embeddings SELECT 'image', item_id, 'bench', vector::FLOAT[] FROM v")
    con.unregister("v")
    return con


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(function):
    before = peak_mb()
    start = time.perf_counter()
    function()
    return time.perf_counter() - start, peak_mb() - before


class Rows(list):
    """Each row printed as it is added, the ratio against the library-direct row before it."""

    def append(self, row) -> None:
        super().append(row)
        step, n, method, seconds, memory = row
        base = self[len(self) - 1 - (len(self) - 1) % 2][3]
        print(f"| {step} | {n:,} | {method} | {seconds:.2f} | {seconds / base:.2f}× | {memory:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--umap-size", type=int, default=20_000, help="0 skips UMAP")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--steps", default="pca,kmeans,umap", help="which of pca, kmeans, umap to run")
    args = parser.parse_args()
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    vectors = clustered(args.size, args.dim, args.clusters)
    con = project(vectors)
    print(f"\n{args.dim}-d clustered unit vectors ({args.clusters} centres)\n")
    print("| step | vectors | method | seconds | ratio | peak RSS growth (MB) |")
    print("|---|---|---|---|---|---|", flush=True)
    rows = Rows()
    steps = set(args.steps.split(","))
    if "pca" in steps:
        t, m = timed(lambda: PCA(2).fit_transform(vectors))
        rows.append(("PCA", args.size, "scikit-learn PCA(2) on the array", t, m))
        t, m = timed(lambda: embedding_map.materialize(con, "bench", method="pca", force=True))
        rows.append(("PCA", args.size, "qmdb map.materialize (load + numpy PCA + write)", t, m))
    if "kmeans" in steps:
        t, m = timed(lambda: KMeans(n_clusters=args.k, n_init=1, random_state=0).fit(vectors))
        rows.append(("k-means", args.size, f"scikit-learn KMeans(k={args.k}) on the array", t, m))
        t, m = timed(lambda: clusters.materialize(con, "bench", k=args.k, force=True))
        rows.append(("k-means", args.size, "qmdb clusters.materialize (load + KMeans + write)", t, m))
    if args.umap_size and "umap" in steps:
        import umap

        embedding_map.umap(vectors[:2000])  # numba compiles here, outside the timings
        small = vectors[:args.umap_size]
        t, m = timed(lambda: umap.UMAP(n_components=2, metric="cosine", n_neighbors=15, random_state=0).fit_transform(small))
        rows.append(("UMAP", args.umap_size, "umap-learn UMAP on the array", t, m))
        con.execute("DELETE FROM embeddings WHERE item_id > ?", [args.umap_size])
        t, m = timed(lambda: embedding_map.materialize(con, "bench", method="umap", force=True))
        rows.append(("UMAP", args.umap_size, "qmdb map.materialize (load + UMAP + write)", t, m))
    assert derived.vectors_state(con, "bench", "image")[0] > 0


if __name__ == "__main__":
    main()
