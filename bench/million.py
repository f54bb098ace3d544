"""A million images on one machine: each step of issue #24 measured, with its peak memory, beside its target.

    python bench/million.py --size 100000                  # every step, each in its own process
    python bench/million.py --step index --size 200000     # one step alone
    python bench/million.py --step index --size 100000 --baseline   # and the float32 graph it replaced

Data: bench/synth_million.py (seeded, cached under bench/.cache/): a COCO file of
`size` images with ~10 boxes each, the same boxes and ~2 predictions per box as
Parquet, and `size` clustered 512-d unit vectors. No pixels, except for the metrics step.

Steps (peak memory = the step's process's maximum resident set, `ru_maxrss`):

- import: `qmdb.import_dataset(con, 'coco', file)` into a new project; boxes/s.
- index: the index qmdb builds (`qmdb.embeddings.index.build`: int8 graph re-ranked with
  the exact vectors) over the vectors; recall@10 of 300 perturbed queries against exact
  numpy top-10, queries/s one at a time (the fastest of 3 passes), against DuckDB brute force
  (`ORDER BY array_cosine_distance LIMIT 10`, 20 queries) at the same size.
  `--baseline` also builds the previous float32 graph (M=32, build width 256); for import it runs the
  whole-JSON reader of commit 15342c5 (`json.loads`) in its own process, side by side.
- metrics: bench/million_metrics.py, the metric pass on real JPEGs with boxes at 5,000 and 50,000
  images (peak memory of the main process and of the largest worker), and a 20,000-image run
  killed (SIGKILL) half-way and resumed, its rows counted.
- neighbors: `qmdb.embeddings.neighbors.materialize` (k = 10, chunked, resumable) on a
  project holding the vectors.
- eval: labels and predictions loaded from Parquet into a project, then `qmdb.evaluate`.
- views: the heaviest built-in views on the eval project (each `SELECT count(*)`), and a
  label gallery sorted by a column paged with LIMIT 50 OFFSET (p95 over 40 random pages).
  `--baseline` first times the box views and data_issues as of git revision `--baseline-rev`
  beside the current ones, alternating, by wall time, CPU time and peak resident set.
- size: bytes per image of the eval project (images, labels, predictions, matches) and
  of the index files (graph + exact vectors + keys) per vector.

Extrapolation to 1,000,000 (printed beside each measurement): linear in rows for import,
eval, views and brute force; n·log n for index build and neighbours; queries/s of the
graph falls as log n. These are estimates from one size, and the table says so.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))

import synth_million as synth  # noqa: E402

PROJECTS = synth.CACHE / "projects"
MILLION = 1_000_000
STEPS = ("import", "metrics", "index", "neighbors", "eval", "views", "size")
TARGETS = {
    "import": "peak < 4 GiB, ≥ 50,000 boxes/s (1 M images, 10 M boxes)",
    "index": "≤ 600 s, recall@10 ≥ 0.99, ≥ 200× brute force (1 M × 512)",
    "neighbors": "k = 10 for 1 M vectors ≤ 30 min, bounded memory, resumable",
    "eval": "< 10 min, < 8 GiB (1 M images, 10 M labels, 20 M predictions)",
    "views": "each < 10 s; metric-sorted gallery page p95 < 200 ms",
    "size": "stated per image, and for 1 M",
    "metrics": "1 M images (measured on ≥ 50,000 real JPEGs): main and workers each < 1 GiB, resumable",
}


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def nlogn(n: int, to: int = MILLION) -> float:
    return to * math.log(to) / (n * math.log(n))


def fresh(name: str) -> Path:
    PROJECTS.mkdir(parents=True, exist_ok=True)
    path = PROJECTS / f"{name}.duckdb"
    for old in (path, path.with_suffix(".duckdb.wal")):
        old.unlink(missing_ok=True)
    sidecar = path.with_suffix(".qmdb")
    if sidecar.exists():
        import shutil
        shutil.rmtree(sidecar)
    return path


BEFORE_STREAMING = "15342c5"  # the commit whose COCO reader loaded the whole JSON (json.loads)


def _previous_coco():
    """The COCO reader as it was before streaming, loaded from git (for --baseline)."""
    import types

    text = subprocess.run(["git", "-C", str(Path(__file__).parent), "show",
                           f"{BEFORE_STREAMING}:qmdb/importers/coco.py"], capture_output=True, text=True, check=True).stdout
    module = types.ModuleType("qmdb.importers.coco_before")
    module.__package__ = "qmdb.importers"
    exec(compile(text, "coco_before.py", "exec"), module.__dict__)  # noqa: S102 - the project's own code
    return module


def _import_once(args, previous: bool) -> tuple[float, int]:
    import qmdb
    from qmdb.importers.store import write_dataset

    source = synth.coco_json(args.size, args.seed)
    con = qmdb.connect(fresh(f"import-{args.size}{'-before' if previous else ''}"))
    start = time.perf_counter()
    if previous:
        write_dataset(con, _previous_coco().read(source, name="synth"))
    else:
        qmdb.import_dataset(con, "coco", source, name="synth")
    seconds = time.perf_counter() - start
    boxes = con.execute("SELECT count(*) FROM labels").fetchall()[0][0]
    con.close()
    return seconds, boxes


def step_import(args) -> dict:
    source = synth.coco_json(args.size, args.seed)
    seconds, boxes = _import_once(args, args.previous)
    rate = boxes / seconds
    result = {"measured": f"{args.size:,} images, {boxes:,} boxes, {source.stat().st_size / 2**20:,.0f} MiB JSON: "
                          f"{seconds:,.1f} s, {rate:,.0f} boxes/s",
              "million": f"~{10 * MILLION / rate:,.0f} s at this rate",
              "seconds": seconds, "rate": rate}
    if args.baseline and not args.previous:  # the whole-JSON reader, in its own process (its own peak memory)
        cmd = [sys.executable, __file__, "--step", "import", "--size", str(args.size), "--seed", str(args.seed),
               "--previous", "--json"]
        done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
        line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
        if line:
            old = json.loads(line[-1][7:])
            result["baseline"] = (f"before (json.loads): {old['seconds']:,.1f} s, {old['rate']:,.0f} boxes/s, peak "
                                  f"{old['peak_gib']:.2f} GiB; streaming is {rate / old['rate']:.2f}× the rate")
        else:
            result["baseline"] = "before: failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    return result


def _queries(data: np.ndarray, n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(1)
    q = np.asarray(data[rng.choice(len(data), n, replace=False)]) + 0.05 * rng.standard_normal((n, data.shape[1]),
                                                                                                 dtype=np.float32)
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def _truth(data: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    best = np.zeros((len(queries), 0), np.int64)
    best_d = np.zeros((len(queries), 0), np.float32)
    for start in range(0, len(data), 100_000):
        d = 1 - queries @ np.asarray(data[start:start + 100_000]).T
        part = np.argpartition(d, k, axis=1)[:, :k]
        best = np.concatenate([best, part + start], 1)
        best_d = np.concatenate([best_d, np.take_along_axis(d, part, 1)], 1)
        order = np.argsort(best_d, axis=1)[:, :k]
        best, best_d = np.take_along_axis(best, order, 1), np.take_along_axis(best_d, order, 1)
    return best


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, truth)]))


def _brute_qps(data: np.ndarray, queries: np.ndarray, n: int = 20) -> float:
    import duckdb

    con = duckdb.connect()
    con.execute("SET memory_limit = '3GB'")
    dim = data.shape[1]
    con.execute(f"CREATE TABLE vecs (id BIGINT, v FLOAT[{dim}])")
    for start in range(0, len(data), 50_000):
        block = np.ascontiguousarray(data[start:start + 50_000])
        batch = pa.table({"id": np.arange(start, start + len(block)),
                          "v": pa.FixedSizeListArray.from_arrays(pa.array(block.reshape(-1)), dim)})
        con.register("b", batch)
        con.execute(f"INSERT INTO vecs SELECT id, v::FLOAT[{dim}] FROM b")
        con.unregister("b")
    sql = f"SELECT id FROM vecs ORDER BY array_cosine_distance(v, ?::FLOAT[{dim}]) LIMIT 10"
    con.execute(sql, [queries[0].tolist()]).fetchall()
    start = time.perf_counter()
    for q in queries[:n]:
        con.execute(sql, [q.tolist()]).fetchall()
    qps = n / (time.perf_counter() - start)
    con.close()
    return qps


def _one_at_a_time(search, queries: np.ndarray, rounds: int = 3) -> tuple[np.ndarray, float]:
    """Results and queries/s of searching one query at a time: the fastest of `rounds` passes
    (the first warms the memory-mapped files)."""
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        found = np.stack([search(q) for q in queries])
        best = max(best, len(queries) / (time.perf_counter() - start))
    return found, best


def step_index(args) -> dict:
    from usearch.index import Index

    from qmdb.embeddings import index as vi

    data = synth.vectors(args.size, seed=args.seed)
    n = len(data)
    queries = _queries(data)
    truth = _truth(data, queries)
    chunk = vi.LOAD_CHUNK
    parts = ((np.arange(s, min(s + chunk, n)), np.asarray(data[s:s + chunk])) for s in range(0, n, chunk))
    PROJECTS.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    index = vi.build(parts, data.shape[1], n, PROJECTS / f"index-{n}.f32.npy")
    build_s = time.perf_counter() - start
    graph_file = PROJECTS / f"index-{n}.usearch"     # searched as `ensure` serves it: the saved file, memory-mapped
    index.graph.save(str(graph_file))
    index = vi.VectorIndex(Index.restore(str(graph_file), view=True), index.keys, index.vectors)
    index.expansion_search = vi.expansion_search(n)
    found, qps = _one_at_a_time(lambda q: vi.search(index, q, 10)[0][0], queries)
    rec = _recall(found, truth)
    brute = _brute_qps(data, queries)
    out = {"build_s": build_s, "recall": rec, "qps": qps, "brute_qps": brute,
           "measured": f"{n:,} × {data.shape[1]}: build {build_s:,.0f} s, recall@10 {rec:.4f}, {qps:,.0f} q/s "
                       f"= {qps / brute:,.0f}× brute force ({brute:,.2f} q/s)",
           "million": f"build ~{build_s * nlogn(n):,.0f} s; ~{qps * math.log(n) / math.log(MILLION) / (brute * n / MILLION):,.0f}× "
                      "brute force (brute linear in n, graph log n)"}
    if args.baseline:
        base = Index(ndim=data.shape[1], metric="cos", dtype="f32", connectivity=32, expansion_add=256)
        start = time.perf_counter()
        for s in range(0, n, chunk):
            base.add(np.arange(s, min(s + chunk, n), dtype=np.uint64), np.asarray(data[s:s + chunk]), threads=0)
        base_s = time.perf_counter() - start
        base.expansion_search = int(min(4096, max(128, round(128 * (n / 100_000) ** 0.5))))
        found, base_qps = _one_at_a_time(lambda q: np.asarray(base.search(q, 10).keys, np.int64), queries)
        base_rec = _recall(found, truth)
        out["baseline"] = (f"float32 graph M=32, width 256 (before): build {base_s:,.0f} s, recall@10 {base_rec:.4f}, "
                           f"{base_qps:,.0f} q/s; build ratio {base_s / build_s:.1f}×")
    return out


def _vector_project(args):
    import qmdb

    data = synth.vectors(args.size, seed=args.seed)
    con = qmdb.connect(fresh(f"neighbors-{args.size}"))
    for start in range(0, len(data), 50_000):
        block = np.ascontiguousarray(data[start:start + 50_000])
        batch = pa.table({"item_id": np.arange(start + 1, start + len(block) + 1),
                          "vector": pa.ListArray.from_arrays(
                              pa.array(np.arange(0, (len(block) + 1) * block.shape[1], block.shape[1], dtype=np.int32)),
                              pa.array(block.reshape(-1)))})
        con.register("b", batch)
        con.execute("INSERT INTO embeddings SELECT 'image', item_id, 'synth', vector FROM b")
        con.unregister("b")
    return con


def _neighbor_project(args):
    """The vector project with its index built, and the seconds the build took. A project left by an
    earlier run at this size (its build time recorded beside it) is reused unless --fresh-project:
    at 1,000,000 vectors the load and the index build take a quarter of an hour."""
    import qmdb
    from qmdb.embeddings import index as vi

    path = PROJECTS / f"neighbors-{args.size}.duckdb"
    record = path.with_suffix(".index.json")
    if not args.fresh_project and path.exists() and record.exists():
        con = qmdb.connect(path)
        count = con.execute("SELECT count(*) FROM embeddings WHERE model = 'synth'").fetchall()[0][0]
        if count == args.size:
            vi.ensure(con, "synth", "image")
            return con, json.loads(record.read_text())["index_s"]
        con.close()
    record.unlink(missing_ok=True)
    con = _vector_project(args)
    start = time.perf_counter()
    vi.ensure(con, "synth", "image")
    index_s = time.perf_counter() - start
    record.write_text(json.dumps({"index_s": index_s}))
    return con, index_s


def graph_recall(con, index, sample: int = 500, k: int = 10) -> float:
    """Recall@k of the materialized graph: `sample` seeded items' rows in `neighbors` against the
    exact top-k by cosine over every vector (numpy, blocks of 100,000, the item itself left out)."""
    rng = np.random.default_rng(7)
    rows = np.sort(rng.choice(len(index), sample, replace=False))
    items = index.keys[rows]
    queries = np.asarray(index.vectors[rows], np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    best = np.zeros((sample, 0), np.int64)
    best_d = np.zeros((sample, 0), np.float32)
    for start in range(0, len(index), 100_000):
        block = np.asarray(index.vectors[start:start + 100_000], np.float32)
        d = 1 - queries @ (block / np.linalg.norm(block, axis=1, keepdims=True)).T
        inside = (rows >= start) & (rows < start + len(block))
        d[np.flatnonzero(inside), rows[inside] - start] = np.inf          # not its own neighbour
        part = np.argpartition(d, k, axis=1)[:, :k]
        best = np.concatenate([best, index.keys[part + start]], 1)
        best_d = np.concatenate([best_d, np.take_along_axis(d, part, 1)], 1)
        order = np.argsort(best_d, axis=1)[:, :k]
        best, best_d = np.take_along_axis(best, order, 1), np.take_along_axis(best_d, order, 1)
    stored = con.execute("SELECT item_id, list(neighbor_id ORDER BY rank) FROM neighbors WHERE model = 'synth' "
                         "AND item_type = 'image' AND item_id IN (SELECT unnest(?)) GROUP BY item_id",
                         [items.tolist()]).fetchall()
    found = dict(stored)
    return _recall([found.get(int(i), []) for i in items], best)


def step_neighbors(args) -> dict:
    from qmdb.embeddings import index as vi
    from qmdb.embeddings import neighbors

    con, index_s = _neighbor_project(args)
    stored = con.execute("SELECT count(*) FROM neighbors WHERE model = 'synth'").fetchall()[0][0]
    seconds = float("nan")
    if args.reuse_graph and stored == 10 * args.size:
        rows = stored
    else:
        start = time.perf_counter()
        rows = neighbors.materialize(con, "synth", "image", 10, force=True)
        seconds = time.perf_counter() - start
    again = neighbors.materialize(con, "synth", "image", 10)
    start = time.perf_counter()
    recall = graph_recall(con, vi.ensure(con, "synth", "image"))
    recall_s = time.perf_counter() - start
    con.close()
    if seconds != seconds:                         # the graph of an earlier run: its record, with the recall
        saved = synth.CACHE / f"results-{args.size}.json"
        earlier = json.loads(saved.read_text()).get("neighbors", {}) if saved.exists() else {}
        seconds = earlier.get("seconds", seconds)
    return {"measured": f"{args.size:,} vectors: {rows:,} rows in {seconds:,.0f} s ({args.size / seconds:,.0f} items/s; "
                        f"index from the table {index_s:,.0f} s); a second run writes {again}; recall@10 of the "
                        f"stored graph {recall:.4f} (500 items against numpy brute force, {recall_s:.0f} s)",
            "million": f"~{seconds * nlogn(args.size) / 60:,.0f} min", "seconds": seconds, "index_s": index_s,
            "recall": recall}


def _eval_project(args):
    import qmdb

    labels, preds = synth.detections(args.size, args.seed)
    con = qmdb.connect(fresh(f"eval-{args.size}"))
    con.execute("INSERT INTO datasets (name, root, format, task) VALUES ('synth', '/nonexistent', 'coco', 'detection')")
    con.execute("INSERT INTO images (image_id, dataset, path, width, height) SELECT range + 1, 'synth', "
                "printf('%07d.jpg', range + 1), 640, 480 FROM range(?)", [args.size])
    con.execute(f"INSERT INTO labels (label_id, image_id, class, x, y, w, h, area, source_id) SELECT label_id, "
                f"image_id, printf('class%02d', class_id), x, y, w, h, w * h, label_id::VARCHAR FROM '{labels}'")
    con.execute(f"INSERT INTO predictions (model, image_id, class, score, x, y, w, h, source_id) SELECT 'synth-det', "
                f"image_id, printf('class%02d', class_id), score, x, y, w, h, (row_number() OVER ())::VARCHAR "
                f"FROM '{preds}'")
    con.execute("INSERT INTO classes (dataset, class_id, class) SELECT 'synth', range, printf('class%02d', range) "
                f"FROM range(1, {synth.CLASSES + 1})")
    con.execute("INSERT INTO models (model, task, dataset, source) VALUES ('synth-det', 'detection', 'synth', 'bench')")
    return con


def _reset_peak() -> bool:
    """Start the process's VmHWM (peak resident set) again from the current size (Linux: clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _vm_hwm_gib() -> float:
    line = next(ln for ln in Path("/proc/self/status").read_text().splitlines() if ln.startswith("VmHWM"))
    return int(line.split()[1]) / 2**20


def step_eval(args) -> dict:
    import qmdb
    from qmdb.evaluation import chunked

    start = time.perf_counter()
    con = _eval_project(args)
    load_s = time.perf_counter() - start
    n_labels, n_preds = con.execute("SELECT (SELECT count(*) FROM labels), (SELECT count(*) FROM predictions)").fetchall()[0]
    loaded = peak_gib()
    reset = _reset_peak()
    start = time.perf_counter()
    report = qmdb.evaluate(con, "synth-det", dataset="synth", progress=False)
    seconds = time.perf_counter() - start
    own = _vm_hwm_gib() if reset else float("nan")
    con.close()
    ap = getattr(report, "summary", None) or getattr(report, "stats", None)
    return {"measured": f"{args.size:,} images, {n_labels:,} labels, {n_preds:,} predictions: {seconds:,.0f} s "
                        f"(load from Parquet {load_s:,.0f} s, peak {loaded:.2f} GiB); the evaluation's own peak "
                        f"{own:.2f} GiB (VmHWM from its start; ranges of ~{chunked.BUDGET:,} boxes)",
            "million": f"~{seconds * MILLION / args.size / 60:,.1f} min (linear in rows); memory: the evaluation's peak "
                       "is set by the range size, not the dataset's (compare sizes)",
            "seconds": seconds, "eval_peak_gib": own, "ap": str(ap)[:80]}


VIEWS = ("eval_summary", "eval_per_class", "eval_confusion", "eval_calibration", "class_counts", "dataset_summary",
         "errors_bad_boxes", "errors_class_swaps", "errors_duplicate_boxes", "errors_missing_labels", "errors_by_class",
         "errors_large_boxes", "errors_tiny_boxes", "errors_out_of_bounds", "data_issues")


def _timed_query(con, sql: str, limit_s: float) -> float | None:
    timer = threading.Timer(limit_s, con.interrupt)
    timer.start()
    start = time.perf_counter()
    try:
        con.execute(sql).fetchall()
        return time.perf_counter() - start
    except Exception:  # noqa: BLE001 - interrupted (over the limit) or a view that needs what this project lacks
        return None
    finally:
        timer.cancel()


# the views that read box_pairs, and data_issues over them: --baseline installs them as of BASELINE_REV
BOX_VIEWS = ("errors_bad_boxes", "errors_class_swaps", "errors_missing_labels", "errors_duplicate_boxes", "data_issues")
BASELINE_REV = "2b3e402"    # the box views before they read only the pairs their rows need (same as d78aa92)


def _install_views(con, rev: str | None) -> None:
    """(Re)create the box views from the working tree (rev None) or from git revision `rev`."""
    from qmdb import views as qviews

    root = Path(__file__).resolve().parent.parent
    for name in ("box_pairs",) + BOX_VIEWS:
        text = (root / "sql" / f"{name}.sql").read_text() if rev is None else subprocess.run(
            ["git", "-C", str(root), "show", f"{rev}:sql/{name}.sql"], capture_output=True, text=True,
            check=True).stdout
        con.execute(qviews.parse(name, text, builtin=True).create_sql)


def _box_views_side_by_side(con, macros: set[str], rev: str, rounds: int = 2) -> dict:
    """Each box view's wall and CPU time (this process's) and peak resident set (VmHWM from the query's start),
    baseline and current alternating (A B A B), best of `rounds` each: on a shared machine the CPU time is the
    steadier figure."""
    best: dict[tuple[str, str], float] = {}
    cpu: dict[tuple[str, str], float] = {}
    peak: dict[tuple[str, str], float] = {}
    loads = []
    for _ in range(rounds):
        for label, version in (("baseline", rev), ("current", None)):
            _install_views(con, version)
            for view in BOX_VIEWS:
                reset = _reset_peak()
                start = time.process_time()
                seconds = _timed_query(con, f"SELECT count(*) FROM {view}{'()' if view in macros else ''}", 600)
                key = (view, label)
                loads.append(os.getloadavg()[0])
                if seconds is not None:
                    best[key] = min(best.get(key, seconds), seconds)
                    cpu[key] = min(cpu.get(key, 1e9), time.process_time() - start)
                    if reset:
                        peak[key] = max(peak.get(key, 0.0), _vm_hwm_gib())
    _install_views(con, None)
    rows = []
    for view in BOX_VIEWS:
        a, b = best.get((view, "baseline")), best.get((view, "current"))
        ca, cb = cpu.get((view, "baseline")), cpu.get((view, "current"))
        pa, pb = peak.get((view, "baseline")), peak.get((view, "current"))
        rows.append((view, f"{a:.2f} s" if a else "-", f"{b:.2f} s" if b else "-", f"{a / b:.2f}x" if a and b else "-",
                     f"{ca:.2f} s" if ca else "-", f"{cb:.2f} s" if cb else "-", f"{ca / cb:.2f}x" if ca and cb else "-",
                     f"{pa:.2f} / {pb:.2f} GiB" if pa and pb else "-"))
    images = con.execute("SELECT count(*) FROM images").fetchall()[0][0]
    print(f"box views at {images:,} images: baseline {rev} vs current, best of {rounds}, "
          f"load average {min(loads):.1f}-{max(loads):.1f}")
    print(table(rows, ("view", "baseline wall", "current wall", "faster by", "baseline CPU", "current CPU", "faster by",
                       "peak RSS (baseline / current)")))
    return {f"{v} {label}": t for (v, label), t in best.items()}


def step_views(args) -> dict:
    import qmdb

    path = PROJECTS / f"eval-{args.size}.duckdb"
    if not path.exists():
        raise SystemExit(f"run --step eval --size {args.size} first (the views read its project)")
    con = qmdb.connect(path)
    times = {}
    macros = {r[0] for r in con.execute("SELECT function_name FROM duckdb_functions() "
                                        "WHERE function_type = 'table_macro'").fetchall()}
    side = _box_views_side_by_side(con, macros, args.baseline_rev or BASELINE_REV) if args.baseline else {}
    for view in VIEWS:
        times[view] = _timed_query(con, f"SELECT count(*) FROM {view}{'()' if view in macros else ''}", 60)
    total = con.execute("SELECT count(*) FROM labels").fetchall()[0][0]
    rng = np.random.default_rng(0)
    pages = []
    for offset in rng.integers(0, max(total - 50, 1), 40):
        start = time.perf_counter()
        con.execute(f"SELECT label_id, image_id, class, area FROM labels ORDER BY area DESC, label_id "
                    f"LIMIT 50 OFFSET {int(offset)}").fetchall()
        pages.append(time.perf_counter() - start)
    con.close()
    p95 = float(np.percentile(pages, 95))
    slow = sorted(((t, v) for v, t in times.items() if t is not None), reverse=True)
    failed = [v for v, t in times.items() if t is None]
    shown = ", ".join(f"{v} {t:.2f} s" for t, v in slow[:5])
    return {"measured": f"{args.size:,} images: slowest {shown}; gallery page p95 {p95 * 1000:,.0f} ms"
                        + (f"; over 60 s or failed: {', '.join(failed)}" if failed else ""),
            "baseline": "; ".join(f"{k} {t:.2f} s" for k, t in side.items()),
            "million": f"slowest ~{slow[0][0] * MILLION / args.size:,.0f} s, page p95 ~{p95 * 1000 * MILLION / args.size:,.0f} ms "
                       "if linear", "times": times, "p95": p95}


def step_metrics(args) -> dict:
    """bench/million_metrics.py at its defaults: real JPEGs with boxes, 5,000 and 50,000 images, a
    20,000-image run killed half-way and resumed (`--size` is not used: the pixels are the cost)."""
    import million_metrics

    parsed = argparse.Namespace(sizes="5000,50000", resume_size=20_000, distinct=10_000, boxes=4,
                                workers=os.cpu_count(), tmp=None)
    return million_metrics.measure(parsed)


def step_size(args) -> dict:
    path = PROJECTS / f"eval-{args.size}.duckdb"
    index_files = list((PROJECTS / f"neighbors-{args.size}.qmdb" / "index").glob("*")) if (
        PROJECTS / f"neighbors-{args.size}.qmdb").exists() else []
    if not path.exists():
        raise SystemExit(f"run --step eval --size {args.size} first")
    db = path.stat().st_size / args.size
    idx = sum(f.stat().st_size for f in index_files) / args.size if index_files else float("nan")
    vec_db = (PROJECTS / f"neighbors-{args.size}.duckdb")
    vec = vec_db.stat().st_size / args.size if vec_db.exists() else float("nan")
    per = db + idx + vec
    return {"measured": f"{db:,.0f} B/image (images + 10 labels + 20 predictions + matches), embeddings table "
                        f"{vec:,.0f} B, index files {idx:,.0f} B: {per:,.0f} B per image",
            "million": f"~{per * MILLION / 2**30:,.1f} GiB", "per_image": per}


def run_step(args) -> dict:
    result = globals()[f"step_{args.step}"](args)
    result["peak_gib"] = peak_gib()
    return result


FIFTYONE_STEPS = ("import", "index", "neighbors", "eval", "views")


def fiftyone_step(python: str, step: str, size: int, seed: int, limit_s: float) -> dict:
    """One step through FiftyOne (bench/fiftyone_million.py) run by `python`, in its own process."""
    cmd = [python, str(Path(__file__).parent / "fiftyone_million.py"), "--step", step, "--size", str(size),
           "--seed", str(seed)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=limit_s)
    except subprocess.TimeoutExpired:
        return {"measured": f"not done in {limit_s:,.0f} s"}
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if not line:
        return {"measured": "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:160]}
    result = json.loads(line[-1][7:])
    result["measured"] += f"; peak {result['peak_gib']:.2f} GiB + mongod {result['mongod_gib']:.2f} GiB"
    return result


def ratio(qmdb: dict, fiftyone: dict) -> str:
    """How many times faster qmdb's step is than FiftyOne's, by the figure the step is judged on."""
    for key, larger_is_better in (("rate", True), ("qps", True), ("seconds", False), ("build_s", False), ("p95", False)):
        if key in qmdb and key in fiftyone and qmdb[key] and fiftyone[key]:
            r = qmdb[key] / fiftyone[key] if larger_is_better else fiftyone[key] / qmdb[key]
            return f"{r:,.1f}× ({key})"
    return "-"


def table(rows: list[tuple], header: tuple[str, ...] | None = None) -> str:
    header = header or ("step", "target", "measured", "peak memory", "at 1,000,000 (extrapolated)")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step", choices=STEPS, help="one step alone (default: all, one process each)")
    parser.add_argument("--size", type=int, default=100_000, help="images / vectors (default 100,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline", action="store_true",
                        help="index: also build the previous float32 graph; import: also run the whole-JSON reader; "
                             "views: also time the box views as of BASELINE_REV, alternating")
    parser.add_argument("--baseline-rev", metavar="REV",
                        help=f"views: the git revision whose box views --baseline times (default {BASELINE_REV})")
    parser.add_argument("--previous", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reuse-graph", action="store_true",
                        help="neighbors: measure the recall of the graph an earlier run stored, without rebuilding it")
    parser.add_argument("--fresh-project", action="store_true",
                        help="neighbors: load the vectors and build the index again even if a project is cached")
    parser.add_argument("--table", action="store_true", help="print the table of the steps last run at --size")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fiftyone", metavar="PYTHON",
                        help="also run each step through FiftyOne with this interpreter (a venv with fiftyone)")
    parser.add_argument("--fiftyone-limit", type=float, default=3600, help="seconds a FiftyOne step may take")
    args = parser.parse_args()
    saved = synth.CACHE / f"results-{args.size}.json"
    if args.step:
        result = run_step(args)
        old = json.loads(saved.read_text()) if saved.exists() else {}
        if not args.previous:
            saved.write_text(json.dumps({**old, args.step: result}, default=str, indent=1))  # --table prints them
        if args.json:
            print("RESULT " + json.dumps(result, default=str))
            return
        results = {args.step: result}
    elif args.table:
        results = json.loads(saved.read_text())
        results = {s: results[s] for s in STEPS if s in results}
    else:
        results = {}
        for step in STEPS:
            cmd = [sys.executable, __file__, "--step", step, "--size", str(args.size), "--seed", str(args.seed),
                   "--json"] + (["--baseline"] if args.baseline else []) + (
                      ["--baseline-rev", args.baseline_rev] if args.baseline_rev else [])
            done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
            line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
            results[step] = json.loads(line[-1][7:]) if line else {
                "measured": "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1], "peak_gib": float("nan"),
                "million": "-"}
    rows = [(s, TARGETS[s], r["measured"] + (f"; {r['baseline']}" if r.get("baseline") else ""),
             f"{r['peak_gib']:.2f} GiB", r["million"]) for s, r in results.items()]
    print(f"qmdb at {args.size:,} (2-core machine, shared); extrapolations are estimates from this one size\n")
    print(table(rows))
    if args.fiftyone:
        side = []
        for step in (s for s in FIFTYONE_STEPS if s in results):
            theirs = fiftyone_step(args.fiftyone, step, args.size, args.seed, args.fiftyone_limit)
            side.append((step, results[step]["measured"], theirs["measured"], ratio(results[step], theirs)))
        print(f"\nthe same steps through FiftyOne at {args.size:,}\n")
        print(table(side, ("step", "qmdb", "FiftyOne", "qmdb faster by")))


if __name__ == "__main__":
    main()
