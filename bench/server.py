"""Benchmark of the HTTP server (`qmdb serve`), side by side with Datasette on the same data.

Bounded load from localhost only: a fixed number of requests and a time limit per phase.

1. Requests/s and p50/p99 latency of a small saved view (one digit class, 20 rows, a join of
   images and labels) with 1 and 2 server workers (with the read-only page cache, and with it
   off so every request runs DuckDB), and the same canned query served by Datasette from the
   same tables exported to SQLite.
2. Server memory (RSS, all processes) while streaming a 10,000,000-row result as Arrow and
   as CSV, sampled every 20 ms, against the size of what was streamed.

Data: the 1,797 real images of sklearn's digits (path, size, true class as the label).

    python bench/server.py [--requests 4000] [--seconds 20] [--clients 16] [--rows 10000000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
from sklearn.datasets import load_digits

import qmdb

VIEW_SQL = ("SELECT i.image_id, i.path, i.width, l.class FROM images i JOIN labels l USING (image_id) "
            "WHERE l.class = digit ORDER BY i.image_id LIMIT 20")
SQLITE_SQL = VIEW_SQL.replace("= digit", "= :digit")


def build(folder: Path) -> tuple[Path, Path]:
    """The same tables in a qmdb project and in SQLite, with the small view saved in both."""
    digits = load_digits()
    n = len(digits.target)
    images = pa.table({"image_id": np.arange(1, n + 1), "dataset": ["digits"] * n,
                       "path": [f"{t}/{i:04d}.png" for i, t in enumerate(digits.target)],
                       "width": [8] * n, "height": [8] * n})
    labels = pa.table({"image_id": np.arange(1, n + 1), "class": [str(t) for t in digits.target],
                       "source_id": [str(i) for i in range(n)]})
    db = folder / "bench.duckdb"
    con = qmdb.connect(db)
    con.execute("INSERT INTO datasets (name, root, format) VALUES ('digits', '.', 'folders')")
    con.register("images_arrow", images)
    con.register("labels_arrow", labels)
    con.execute("INSERT INTO images (image_id, dataset, path, width, height) SELECT * FROM images_arrow")
    con.execute("INSERT INTO labels (image_id, class, source_id) SELECT * FROM labels_arrow")
    qmdb.save_view(con, "digits_of_class", VIEW_SQL, "Twenty images of one digit class.",
                   {"digit": ("VARCHAR", "'3'")})
    con.close()
    lite = folder / "bench.db"
    sq = sqlite3.connect(lite)
    sq.execute("CREATE TABLE images (image_id INTEGER PRIMARY KEY, dataset TEXT, path TEXT, width INTEGER, height INTEGER)")
    sq.execute("CREATE TABLE labels (label_id INTEGER PRIMARY KEY, image_id INTEGER, class TEXT, source_id TEXT)")
    sq.execute("CREATE INDEX labels_class ON labels (class)")
    sq.executemany("INSERT INTO images VALUES (?, ?, ?, ?, ?)", zip(*(images[c].to_pylist() for c in images.column_names)))
    sq.executemany("INSERT INTO labels (image_id, class, source_id) VALUES (?, ?, ?)",
                   zip(*(labels[c].to_pylist() for c in labels.column_names)))
    sq.commit()
    sq.close()
    (folder / "metadata.json").write_text(json.dumps(
        {"databases": {"bench": {"queries": {"digits_of_class": {"sql": SQLITE_SQL}}}}}))
    return db, lite


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], port: int, ready_path: str) -> subprocess.Popen:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", ready_path)
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited: {process.stderr.read().decode()[-2000:]}")
    process.kill()
    raise RuntimeError(f"{' '.join(command)} did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def load(port: int, paths: list[str], requests: int, seconds: float, clients: int) -> dict:
    """`requests` GETs spread over `clients` keep-alive connections, stopped at `seconds`."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(requests))
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for i in counter:
            if time.perf_counter() > stop_at:
                break
            began = time.perf_counter()
            connection.request("GET", paths[i % len(paths)])
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - began)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ms = sorted(x * 1000 for x in latencies)
    return {"requests": len(ms), "errors": errors[0], "req_s": len(ms) / elapsed,
            "p50_ms": statistics.median(ms), "p99_ms": ms[min(len(ms) - 1, int(0.99 * len(ms)))]}


def tree_rss(pid: int) -> int:
    try:
        process = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0


def stream(port: int, pid: int, fmt: str, rows: int) -> dict:
    """Read a `rows`-row result in `fmt`, sampling the server's memory meanwhile."""
    sql = f"SELECT range AS n, range * 0.5 AS x, 'row ' || range AS s FROM range({rows})"
    body = json.dumps({"sql": sql, "format": fmt})
    samples = [tree_rss(pid)]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(tree_rss(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    began = time.perf_counter()
    sampler.start()
    connection.request("POST", "/query", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    size = 0
    while chunk := response.read(1 << 20):
        size += len(chunk)
    elapsed = time.perf_counter() - began
    done.set()
    sampler.join()
    return {"status": response.status, "bytes": size, "seconds": elapsed,
            "rss_before_mb": samples[0] / 2**20, "rss_peak_mb": max(samples) / 2**20}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per load phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per load phase")
    parser.add_argument("--clients", type=int, default=16, help="parallel keep-alive connections")
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the streamed result")
    parser.add_argument("--no-datasette", action="store_true")
    parser.add_argument("--no-stream", action="store_true", help="skip the streaming phase")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="qmdb-bench-"))
    try:
        db, lite = build(folder)
        paths_qmdb = [f"/views/digits_of_class/rows?digit={d}" for d in range(10)]
        paths_ds = [f"/bench/digits_of_class.json?digit={d}&_shape=array" for d in range(10)]
        results = []
        streams = []
        for workers, cache in ((1, 1024), (1, 0), (2, 1024)):
            port = free_port()
            server = start([sys.executable, "-m", "qmdb.cli", "serve", str(db), "--port", str(port),
                            "--workers", str(workers), "--max-rows", str(args.rows), "--timeout", "600",
                            "--cache-entries", str(cache)], port, "/views")
            try:
                load(port, paths_qmdb, 200, 10, args.clients)  # warm up
                name = f"qmdb serve, {workers} worker{'s' * (workers > 1)}, " + ("page cache" if cache else "no cache")
                results.append((name, load(port, paths_qmdb, args.requests, args.seconds, args.clients)))
                if workers == 1 and cache and not args.no_stream:
                    streams = [(fmt, stream(port, server.pid, fmt, args.rows)) for fmt in ("arrow", "csv")]
            finally:
                stop(server)
        if not args.no_datasette and shutil.which("datasette"):
            for workers in (1,):
                port = free_port()
                server = start(["datasette", "serve", str(lite), "-p", str(port), "-m", str(folder / "metadata.json"),
                                "--setting", "num_sql_threads", "3"], port, paths_ds[0])
                try:
                    load(port, paths_ds, 200, 10, args.clients)
                    results.append(("Datasette 0.x (SQLite), 1 process", load(port, paths_ds, args.requests, args.seconds, args.clients)))
                finally:
                    stop(server)
        print(f"\nSmall saved view (20 rows), {args.clients} keep-alive clients, up to {args.requests} requests "
              f"or {args.seconds:g} s per row; cpu cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}\n")
        base = results[-1][1]["req_s"] if results[-1][0].startswith("Datasette") else None
        print("| server | requests | errors | req/s | p50 ms | p99 ms |" + (" vs Datasette |" if base else ""))
        print("|---|---|---|---|---|---|" + ("---|" if base else ""))
        for name, r in results:
            ratio = f" {r['req_s'] / base:.2f}x |" if base else ""
            print(f"| {name} | {r['requests']} | {r['errors']} | {r['req_s']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |{ratio}")
        print(f"\nStreaming {args.rows:,} rows (3 columns) from one worker\n")
        print("| format | status | MB sent | seconds | MB/s | server RSS before MB | peak MB | peak / MB sent |")
        print("|---|---|---|---|---|---|---|---|")
        for fmt, s in streams:
            sent = s["bytes"] / 2**20
            print(f"| {fmt} | {s['status']} | {sent:.0f} | {s['seconds']:.1f} | {sent / s['seconds']:.0f} | "
                  f"{s['rss_before_mb']:.0f} | {s['rss_peak_mb']:.0f} | {s['rss_peak_mb'] / sent:.2f} |")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
