"""k-NN search: usearch (qmdb's index) vs DuckDB brute force, and embedding throughput vs bare open_clip.

    python bench/knn.py                      # the issue's size: 1,000,000 × 512
    python bench/knn.py --size 100000        # a smaller run

Part 1. Clustered unit vectors (--clusters Gaussian blobs, not uniform noise).
Baseline: DuckDB brute force, `ORDER BY array_cosine_distance(v, q) LIMIT 10` over a
FLOAT[dim] table, one query at a time. qmdb: the usearch HNSW index built with qmdb's
settings (cosine, f32, `CONNECTIVITY`, `EXPANSION_ADD` of qmdb.embeddings.index;
the build is cached under /tmp/qmdb-bench-knn, --rebuild to redo it), one query at
a time, at several beam widths (expansion_search) including the one qmdb uses at
this size (`expansion_search(size)`). Recall@10 against exact numpy top-10.
Targets: recall ≥ 0.98 at ≥ 20× the brute-force queries/s.

Part 2. Embedding throughput, same open_clip architecture with random weights (no
download): qmdb's pipeline (`qmdb.embed`: decode JPEG files + preprocess + forward +
store) vs a bare `model.encode_image` on pre-made tensors. Target ≥ 0.9×.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

CACHE = Path(tempfile.gettempdir()) / "qmdb-bench-knn"


def clustered(n: int, dim: int, clusters: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((clusters, dim), dtype=np.float32)
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        labels = rng.integers(0, clusters, m)
        out[start:start + m] = centers[labels] + 0.6 * rng.standard_normal((m, dim), dtype=np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def exact_top_k(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    best = np.full((len(queries), 0), 0, np.int64)
    best_d = np.full((len(queries), 0), 0, np.float32)
    for start in range(0, len(data), 200_000):
        d = 1 - queries @ data[start:start + 200_000].T
        part = np.argpartition(d, k, axis=1)[:, :k]
        best = np.concatenate([best, part + start], axis=1)
        best_d = np.concatenate([best_d, np.take_along_axis(d, part, axis=1)], axis=1)
        order = np.argsort(best_d, axis=1)[:, :k]
        best, best_d = np.take_along_axis(best, order, axis=1), np.take_along_axis(best_d, order, axis=1)
    return best


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, truth)]))


def build_index(args, data: np.ndarray):
    """qmdb's index over the data, cached under /tmp by size and settings (a 1M build takes minutes)."""
    from usearch.index import Index

    from qmdb.embeddings.index import CONNECTIVITY, EXPANSION_ADD

    CACHE.mkdir(parents=True, exist_ok=True)
    name = f"{args.size}x{args.dim}-c{args.clusters}-m{CONNECTIVITY}-ea{EXPANSION_ADD}"
    path, meta = CACHE / f"{name}.usearch", CACHE / f"{name}.json"
    if path.is_file() and meta.is_file() and not args.rebuild:
        return Index.restore(str(path), view=True), json.loads(meta.read_text())["build_s"], "cached build"
    start = time.perf_counter()
    index = Index(ndim=args.dim, metric="cos", dtype="f32", connectivity=CONNECTIVITY, expansion_add=EXPANSION_ADD)
    index.add(np.arange(args.size, dtype=np.uint64), data, threads=0)
    build_s = time.perf_counter() - start
    index.save(str(path))
    meta.write_text(json.dumps({"build_s": build_s}))
    return index, build_s, "built now"


def bench_knn(args) -> list[tuple]:
    from qmdb.embeddings.index import CONNECTIVITY, EXPANSION_ADD, expansion_search

    data = clustered(args.size, args.dim, args.clusters)
    rng = np.random.default_rng(1)
    picks = rng.choice(args.size, args.queries, replace=False)
    queries = data[picks] + 0.05 * rng.standard_normal((args.queries, args.dim), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    truth = exact_top_k(data, queries, args.k)

    con = duckdb.connect()
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(data.reshape(-1)), args.dim)
    con.register("src", pa.table({"id": pa.array(np.arange(args.size)), "v": vectors}))
    con.execute(f"CREATE TABLE vecs AS SELECT id, v::FLOAT[{args.dim}] AS v FROM src")
    con.unregister("src")
    sql = f"SELECT id FROM vecs ORDER BY array_cosine_distance(v, ?::FLOAT[{args.dim}]) LIMIT {args.k}"
    n_brute = min(args.brute_queries, args.queries)
    con.execute(sql, [queries[0].tolist()]).fetchall()  # warm up
    start = time.perf_counter()
    brute = [[r[0] for r in con.execute(sql, [q.tolist()]).fetchall()] for q in queries[:n_brute]]
    brute_qps = n_brute / (time.perf_counter() - start)
    con.close()

    index, build_s, how = build_index(args, data)
    ours = expansion_search(args.size)
    rows = [("DuckDB brute force (array_cosine_distance)", "-", f"{recall(np.array(brute), truth[:n_brute]):.3f}",
             f"{brute_qps:,.1f}", "1.0×", "")]
    for ef in sorted({128, 256, 512, 1024, 2048, ours}):
        index.expansion_search = ef
        start = time.perf_counter()
        found = np.stack([np.asarray(index.search(q, args.k).keys, np.int64) for q in queries])
        qps = len(queries) / (time.perf_counter() - start)
        note = f"qmdb's setting at this size; M={CONNECTIVITY}, ef_add={EXPANSION_ADD}, {how} {build_s:.0f} s" \
            if ef == ours else ""
        rows.append(("usearch HNSW, one query at a time", ef, f"{recall(found, truth):.3f}", f"{qps:,.0f}",
                     f"{qps / brute_qps:,.0f}×", note))
    index.expansion_search = ours
    start = time.perf_counter()
    found = np.asarray(index.search(queries, args.k, threads=0).keys, np.int64)
    batch_qps = len(queries) / (time.perf_counter() - start)
    rows.append(("usearch HNSW, batched queries (all cores)", ours, f"{recall(found, truth):.3f}",
                 f"{batch_qps:,.0f}", f"{batch_qps / brute_qps:,.0f}×", ""))
    return rows


def bench_embed(args) -> list[tuple]:
    import cv2
    import torch
    from sklearn.datasets import load_sample_images

    import qmdb
    from qmdb.embeddings.clip import OpenClipEmbedder

    embedder = OpenClipEmbedder(args.arch, None, device=args.device, batch_size=args.batch)
    photos = load_sample_images().images
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        images = []
        for n in range(args.images):
            photo = photos[n % len(photos)]
            y, x = int(rng.integers(0, 60)), int(rng.integers(0, 100))
            image = np.ascontiguousarray(photo[y:y + 360, x:x + 480])
            cv2.imwrite(str(folder / f"{n:05d}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            images.append(image)
        pixels = embedder.preprocess(images)
        embedder.forward(pixels[:args.batch])  # warm up
        start = time.perf_counter()
        embedder.forward(pixels)
        bare_s = time.perf_counter() - start

        con = qmdb.connect(Path(tmp) / "p.duckdb")
        con.execute("INSERT INTO datasets (name, root, format) VALUES ('b', ?, 'folders')", [str(folder)])
        con.execute("INSERT INTO images (dataset, path) SELECT 'b', printf('%05d.jpg', range) FROM range(?)",
                    [args.images])
        start = time.perf_counter()
        qmdb.embed(con, embedder, chunk_size=args.batch * 2, progress=False)
        pipeline_s = time.perf_counter() - start
        con.close()
    bare, pipe = args.images / bare_s, args.images / pipeline_s
    where = f"{args.arch}, {embedder.device}, torch threads {torch.get_num_threads()}"
    return [
        (f"bare open_clip encode_image on pre-made tensors ({where})", f"{bare:.1f}", "1.00×"),
        ("qmdb.embed: decode JPEG + preprocess + forward + store", f"{pipe:.1f}", f"{pipe / bare:.2f}×"),
    ]


def table(header: tuple, rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000, help="vectors in the index (default 1,000,000)")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=500, help="queries for usearch and the recall")
    parser.add_argument("--brute-queries", type=int, default=50, help="queries run by brute force")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--arch", default="ViT-B-32", help="open_clip architecture for part 2 (random weights)")
    parser.add_argument("--images", type=int, default=128, help="images for part 2")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-embed", action="store_true", help="only part 1")
    parser.add_argument("--rebuild", action="store_true", help="build the index even if a cached one exists")
    args = parser.parse_args()
    print(f"k-NN: {args.size:,} × {args.dim} clustered vectors ({args.clusters} clusters), top-{args.k}\n")
    print(table(("method", "expansion_search", f"recall@{args.k}", "queries/s", "speed-up", "note"), bench_knn(args)))
    if not args.skip_embed:
        print(f"\nembedding throughput: {args.images} images of 480×360\n")
        print(table(("method", "images/s", "ratio"), bench_embed(args)))


if __name__ == "__main__":
    main()
