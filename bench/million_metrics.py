"""The metric pass at scale, on real pixels: `qmdb.compute_metrics` over ≥ 50,000 camera-size JPEGs
with boxes, its peak memory at growing sizes (main process and largest worker), and a run killed
half-way (SIGKILL, driver and workers) then resumed, checked for rows written twice or missed.

    python bench/million_metrics.py --sizes 5000,50000 --resume-size 20000 --distinct 10000 --workers 2
    python bench/million_metrics.py --driver 50000,200000      # the main process alone, without pixel work

The JPEGs are bench/metrics.py's (random crops of real photographs at 640×480 to 1920×1080,
exposure jitter), `--distinct` of them on disk, listed under as many datasets as a size needs:
every image row is decoded and measured, the files repeat (the page cache serves the reads).
Each image gets `--boxes` labels at seeded places, so the label metrics run too. Every size runs
in its own child process; `bench/million.py --step metrics` runs this with its defaults.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import metrics as photo_bench  # noqa: E402

MILLION = 1_000_000


def project(db: Path, folder: Path, images: int, boxes: int):
    """A project of `images` image rows over the folder's files (as many datasets as needed) with `boxes`
    seeded labels each, all inside the smallest camera size (640×480)."""
    import qmdb

    files = sorted(p.name for p in folder.glob("*.jpg"))
    con = qmdb.connect(db)
    for k in range(-(-images // len(files))):
        names = files[:images - k * len(files)]
        con.execute("INSERT INTO datasets (name, root, format) VALUES (?, ?, 'folders')", [f"photos{k}", str(folder)])
        con.execute("INSERT INTO images (dataset, path) SELECT ?, unnest(?)", [f"photos{k}", names])
    con.execute("""
        INSERT INTO labels (image_id, class, x, y, w, h, source_id)
        SELECT image_id, 'c' || (hash(image_id, b) % 5), 20 + hash(image_id, b, 1) % 400, 20 + hash(image_id, b, 2) % 300,
               16 + hash(image_id, b, 3) % 180, 16 + hash(image_id, b, 4) % 140, 'box' || b
        FROM images, range(?) AS r(b)""", [boxes])
    return con


def child(db: str, folder: str, images: int, boxes: int, workers: int, progress: bool) -> None:
    """Make the project if absent, run (or resume) the pass, print: images and labels computed, seconds,
    peak RSS MiB of this process and of the largest worker."""
    import qmdb

    path = Path(db)
    con = project(path, Path(folder), images, boxes) if not path.exists() else qmdb.connect(path)
    report, seconds, main, worker = photo_bench.timed_pass(con, workers, progress)
    print("RESULT", report.images, report.labels, f"{seconds:.1f}", f"{main:.0f}", f"{worker:.0f}", flush=True)


def driver_child(db: str, folder: str, images: int, boxes: int) -> None:
    """The main process of a pass at `images` without the pixel work: in one process (workers=0), each
    read goes to one small real JPEG (320×240), so the work list, the chunking, the result rows and
    the writes are what they are at that size. Prints seconds and the RSS (MiB) at each tenth of
    the pass and its peak, and DuckDB's memory limit during the pass."""
    import threading

    import cv2
    import qmdb
    from qmdb.udfs import worker

    con = project(Path(db), Path(folder), images, boxes)
    small = Path(db).with_suffix(".small.jpg")
    first = sorted(Path(folder).glob("*.jpg"))[0]
    cv2.imwrite(str(small), cv2.resize(cv2.imread(str(first)), (320, 240), interpolation=cv2.INTER_AREA))
    read = worker.read
    worker.read = lambda file: read(str(small))
    samples, done = [], threading.Event()

    def rss() -> float:
        line = next(ln for ln in Path("/proc/self/status").read_text().splitlines() if ln.startswith("VmRSS"))
        return int(line.split()[1]) / 1024

    def sample() -> None:
        while not done.wait(1.0):
            samples.append(rss())

    start_rss = rss()
    threading.Thread(target=sample, daemon=True).start()
    start = time.perf_counter()
    report = qmdb.compute_metrics(con, workers=0, progress=False)
    seconds = time.perf_counter() - start
    done.set()
    tenths = [f"{samples[min(len(samples) - 1, len(samples) * k // 10)]:.0f}" for k in range(1, 11)] if samples else []
    print("RESULT", report.images, report.labels, f"{seconds:.1f}", f"{start_rss:.0f}", ",".join(tenths),
          f"{max(samples + [start_rss]):.0f}", flush=True)


def driver(args) -> None:
    folder = photo_bench.make_images(args.distinct, seed=2)
    print(f"\nthe main process without pixel work (every read is one 320×240 JPEG), {args.boxes} boxes per image, "
          f"DuckDB bounded at QMDB_METRICS_MEMORY={os.environ.get('QMDB_METRICS_MEMORY', 'default')} "
          f"(load average {os.getloadavg()[0]:.1f})\n")
    print("| images | labels | seconds | RSS before (MiB) | RSS at each tenth of the pass (MiB) | peak (MiB) |")
    print("|---|---|---|---|---|---|")
    for n in (int(v) for v in args.driver.split(",")):
        with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
            out = subprocess.run([sys.executable, __file__, "--driver-child", str(Path(tmp) / "d.duckdb"), str(folder),
                                  str(n), str(args.boxes)], capture_output=True, text=True)
        line = [s for s in out.stdout.splitlines() if s.startswith("RESULT")]
        if out.returncode or not line:
            raise SystemExit(f"the driver pass at {n:,} images failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
        images, labels, seconds, before, tenths, peak = line[-1].split()[1:]
        print(f"| {int(images):,} | {int(labels):,} | {seconds} | {before} | {tenths.replace(',', ' ')} | {peak} |", flush=True)


def run_child(db: Path, folder: Path, images: int, args, kill_at: float | None = None) -> list[str] | None:
    """Run the pass on `images` in a child process; with `kill_at`, SIGKILL it (driver and workers, mid-chunk)
    once its progress bar passes that share of the images, and return None."""
    cmd = [sys.executable, __file__, "--child", str(db), str(folder), str(images), str(args.boxes), str(args.workers),
           "progress" if kill_at else "quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE if kill_at else None,
                            start_new_session=True)
    if kill_at:
        seen = b""
        while chunk := os.read(proc.stderr.fileno(), 4096):
            seen = seen[-200:] + chunk
            done = re.findall(rb"(\d+)/(\d+)", seen)
            if done and int(done[-1][0]) >= kill_at * int(done[-1][1]):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return None
    out = proc.communicate()[0].decode()
    line = [s for s in out.splitlines() if s.startswith("RESULT")]
    if proc.returncode or not line:
        raise SystemExit(f"the metric pass at {images:,} images failed (exit {proc.returncode})")
    return line[-1].split()[1:]


def rows(db: Path) -> tuple[int, int, int, int]:
    """image_metrics rows and distinct images, label_metrics rows and distinct labels."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    counts = con.execute("SELECT (SELECT count(*) FROM image_metrics), (SELECT count(DISTINCT image_id) FROM image_metrics), "
                         "(SELECT count(*) FROM label_metrics), (SELECT count(DISTINCT label_id) FROM label_metrics)"
                         ).fetchone()
    con.close()
    return counts


def measure(args) -> dict:
    folder = photo_bench.make_images(args.distinct, seed=2)
    sizes = [int(s) for s in args.sizes.split(",")]
    table, result = [], {}
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        for n in sizes:
            db = Path(tmp) / f"metrics-{n}.duckdb"
            images, labels, seconds, main, worker = run_child(db, folder, n, args)
            table.append((f"{n:,}", f"{int(labels):,}", seconds, f"{int(images) / float(seconds):,.1f}", main, worker))
            result = {"images": n, "seconds": float(seconds), "main_mib": int(main), "worker_mib": int(worker)}
            db.unlink()
        n = args.resume_size
        db = Path(tmp) / "resume.duckdb"
        started = time.perf_counter()
        killed = run_child(db, folder, n, args, kill_at=0.5)
        killed_at = time.perf_counter() - started
        before = rows(db)
        images, labels, seconds, _, _ = run_child(db, folder, n, args)
        after = rows(db)
        again = run_child(db, folder, n, args)
    print(f"\nmetric pass, {args.workers} workers, {args.boxes} boxes per image, {args.distinct:,} distinct JPEGs "
          f"(load average {os.getloadavg()[0]:.1f})\n")
    print("| images | labels | seconds | images/s | peak RSS main (MiB) | peak RSS largest worker (MiB) |")
    print("|---|---|---|---|---|---|")
    for line in table:
        print("| " + " | ".join(str(v) for v in line) + " |")
    rate = result["images"] / result["seconds"]
    print(f"\nkilled (SIGKILL) after {killed_at:.0f} s{' (it had finished)' if killed else ''} with {before[1]:,} images "
          f"measured; the resumed run computed {int(images):,} images and {int(labels):,} labels in {seconds} s; "
          f"then image_metrics {after[0]:,} rows for {after[1]:,} images, label_metrics {after[2]:,} rows for "
          f"{after[3]:,} labels (of {n:,} images, {n * args.boxes:,} labels); a third run computed {again[0]} images")
    print(f"at 1,000,000 images: ~{MILLION / rate / 3600:.1f} h at {rate:,.1f} images/s")
    return {"measured": f"{n:,} images: {rate:,.1f} images/s, peak main {result['main_mib']} MiB, "
                        f"worker {result['worker_mib']} MiB; resumed after SIGKILL: {after[1]:,} of {n:,} images once",
            "million": f"~{MILLION / rate / 3600:.1f} h", "seconds": result["seconds"],
            "resumed": {"images": after[1], "rows": after[0], "labels": after[3], "label_rows": after[2]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000", help="image counts, each run in its own process")
    parser.add_argument("--resume-size", type=int, default=20_000, help="images of the run killed half-way and resumed")
    parser.add_argument("--distinct", type=int, default=10_000, help="distinct JPEG files on disk")
    parser.add_argument("--boxes", type=int, default=4, help="labels per image")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--tmp", default=None, help="folder for the projects (default: the system's temp folder)")
    parser.add_argument("--driver", metavar="SIZES",
                        help="only the main process's memory at these sizes, without the pixel work (e.g. 50000,200000)")
    args = parser.parse_args()
    driver(args) if args.driver else measure(args)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--driver-child":
        driver_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7] == "progress")
    else:
        main()
