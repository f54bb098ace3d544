"""Benchmark of the HTTP server (`qmdb serve`), side by side with Datasette on the same data.

Bounded load from localhost only: a fixed number of requests and a time limit per phase.

1. Requests/s and p50/p99 latency of a small saved view (one digit class, 20 rows, a join of
   images and labels) with 1 and 2 server workers, with the read-only page cache and with it off
   (every request runs DuckDB), and the same canned query served by Datasette from the same
   tables exported to SQLite. The load comes from ApacheBench (`ab`, C, one thread) when it is
   installed, so the client takes little of the CPU the servers need; otherwise from a Python
   client (threads, keep-alive). The table names the client.
2. Server memory (RSS, all processes) while streaming a 10,000,000-row result as Arrow and
   as CSV, sampled every 20 ms, against the size of what was streamed.

Data: the 1,797 real images of sklearn's digits (path, size, true class as the label).

    python bench/server.py [--requests 4000] [--seconds 20] [--clients 16] [--rows 10000000] [--client ab|python]
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import importlib.util
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


def load_python(port: int, path: str, requests: int, seconds: float, clients: int) -> dict:
    """`requests` GETs of `path` spread over `clients` keep-alive connections (threads), stopped at `seconds`."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(requests))
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in counter:
            if time.perf_counter() > stop_at:
                break
            began = time.perf_counter()
            connection.request("GET", path)
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
    return {"requests": len(ms), "errors": errors[0], "keep_alive": len(ms), "req_s": len(ms) / elapsed,
            "p50_ms": statistics.median(ms), "p99_ms": ms[min(len(ms) - 1, int(0.99 * len(ms)))]}


AB_FIELDS = {"Complete requests": "requests", "Failed requests": "failed", "Non-2xx responses": "non_2xx",
             "Keep-Alive requests": "keep_alive", "Requests per second": "req_s"}


def load_ab(port: int, path: str, requests: int, seconds: float, clients: int) -> dict:
    """The same load from ApacheBench: `clients` concurrent connections, asking for keep-alive (`-k`).

    ab speaks HTTP/1.0, and uvicorn (so both servers here) closes an HTTP/1.0 connection after each
    response: `keep_alive` counts the requests that reused a connection.
    """
    with tempfile.NamedTemporaryFile(suffix=".csv") as percentiles:
        run = subprocess.run(["ab", "-k", "-q", "-r", "-c", str(clients), "-t", f"{seconds:g}", "-n", str(requests),
                              "-e", percentiles.name, f"http://127.0.0.1:{port}{path}"],
                             capture_output=True, text=True, check=True)
        ms = dict(line.split(",") for line in Path(percentiles.name).read_text().splitlines()[1:])
    found = {AB_FIELDS[key.strip()]: float(value.split()[0])
             for key, _, value in (line.partition(":") for line in run.stdout.splitlines()) if key.strip() in AB_FIELDS}
    return {"requests": int(found["requests"]), "errors": int(found.get("failed", 0) + found.get("non_2xx", 0)),
            "keep_alive": int(found.get("keep_alive", 0)), "req_s": found["req_s"],
            "p50_ms": float(ms["50"]), "p99_ms": float(ms["99"])}


CLIENTS = {"ab": ("ApacheBench (ab -k)", load_ab), "python": ("Python threads, keep-alive", load_python)}


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


def holders(pid: int, database: Path) -> int:
    """How many processes of the server's tree have the database file open."""
    try:
        tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    target = str(database.resolve())
    count = 0
    for process in tree:
        try:
            count += any(f.path == target for f in process.open_files())
        except psutil.Error:
            pass
    return count


def serve_qmdb(db: Path, workers: int, cache: int, rows: int) -> tuple[subprocess.Popen, int]:
    """`qmdb serve` on a free port, returned once all `workers` processes hold their read-only connection."""
    port = free_port()
    server = start([sys.executable, "-m", "qmdb.cli", "serve", str(db), "--port", str(port),
                    "--workers", str(workers), "--max-rows", str(rows), "--timeout", "600",
                    "--cache-entries", str(cache)], port, "/views")
    deadline = time.time() + 60
    while holders(server.pid, db) < workers and time.time() < deadline:
        time.sleep(0.2)
    return server, port


def http_stack() -> str:
    """The HTTP parser and event loop uvicorn picks in this environment (both servers run on uvicorn)."""
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"uvicorn {importlib.metadata.version('uvicorn')} with {parser} + {loop}"


def datasette_version() -> str:
    run = subprocess.run(["datasette", "--version"], check=False, capture_output=True, text=True)
    return run.stdout.split()[-1] if run.returncode == 0 and run.stdout.split() else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per load phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per load phase")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the streamed result")
    parser.add_argument("--client", choices=tuple(CLIENTS), default="ab" if shutil.which("ab") else "python",
                        help="load generator (default: ab when installed)")
    parser.add_argument("--no-datasette", action="store_true")
    parser.add_argument("--no-stream", action="store_true", help="skip the streaming phase")
    args = parser.parse_args()
    client_name, load = CLIENTS[args.client]
    folder = Path(tempfile.mkdtemp(prefix="qmdb-bench-"))
    try:
        db, lite = build(folder)
        path_qmdb = "/views/digits_of_class/rows?digit=3"
        path_ds = "/bench/digits_of_class.json?digit=3&_shape=array"
        results = []
        streams = []
        for workers, cache in ((1, 1024), (1, 0), (2, 1024), (2, 0)):
            server, port = serve_qmdb(db, workers, cache, args.rows)
            try:
                held = holders(server.pid, db)
                load(port, path_qmdb, 200, 10, args.clients)  # warm up
                name = (f"qmdb serve, {workers} worker{'s' * (workers > 1)} ({held} holding the file), "
                        + ("page cache" if cache else "no cache"))
                results.append((name, load(port, path_qmdb, args.requests, args.seconds, args.clients),
                                os.getloadavg()[0]))
                if workers == 1 and cache and not args.no_stream:
                    streams = [(fmt, stream(port, server.pid, fmt, args.rows)) for fmt in ("arrow", "csv")]
            finally:
                stop(server)
        if not args.no_datasette and shutil.which("datasette"):
            port = free_port()
            server = start(["datasette", "serve", str(lite), "-p", str(port), "-m", str(folder / "metadata.json"),
                            "--setting", "num_sql_threads", "3"], port, path_ds)
            try:
                load(port, path_ds, 200, 10, args.clients)
                results.append((f"Datasette {datasette_version()} (SQLite), 1 process",
                                load(port, path_ds, args.requests, args.seconds, args.clients), os.getloadavg()[0]))
            finally:
                stop(server)
        print(f"\nSmall saved view (20 rows), client: {client_name}, {args.clients} concurrent connections, "
              f"up to {args.requests} requests or {args.seconds:g} s per row; servers: {http_stack()}; "
              f"cpu cores: {os.cpu_count()}\n")
        base = results[-1][1]["req_s"] if results[-1][0].startswith("Datasette") else None
        print("| server | requests | errors | kept alive | req/s | p50 ms | p99 ms | load avg |"
              + (" vs Datasette |" if base else ""))
        print("|---|---|---|---|---|---|---|---|" + ("---|" if base else ""))
        for name, r, load_average in results:
            ratio = f" {r['req_s'] / base:.2f}x |" if base else ""
            print(f"| {name} | {r['requests']} | {r['errors']} | {r['keep_alive']} | {r['req_s']:.0f} | "
                  f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {load_average:.1f} |{ratio}")
        print(f"\nStreaming {args.rows:,} rows (3 columns) from one worker\n")
        print("| format | status | MB sent | seconds | MB/s | server RSS before MB | peak MB | rise MB |")
        print("|---|---|---|---|---|---|---|---|")
        for fmt, s in streams:
            sent = s["bytes"] / 2**20
            print(f"| {fmt} | {s['status']} | {sent:.0f} | {s['seconds']:.1f} | {sent / s['seconds']:.0f} | "
                  f"{s['rss_before_mb']:.0f} | {s['rss_peak_mb']:.0f} | {s['rss_peak_mb'] - s['rss_before_mb']:.0f} |")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
