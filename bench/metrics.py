"""Benchmark: qmdb's metric pass against decode-only, CleanVision and fastdup on the same JPEGs.

    python bench/metrics.py [--images 2000] [--workers N] [--memory-images 200]

Makes (once, seeded, cached under /tmp) a folder of real-photo JPEGs at camera
sizes (640×480 to 1920×1080) from the photographs bundled with scikit-learn
and scikit-image, then times in this one process, on that same folder:

  (a) decode only: read + cv2.imdecode of every file on the same worker processes (the floor);
  (a') the same with the allocator setting qmdb's workers use (heap instead of fresh page mappings
       for the decoded arrays), so the ratio can be read without that advantage;
  (b) qmdb: `compute_metrics` on a fresh project (every image metric, written to DuckDB);
  (c) CleanVision: `Imagelab(data_path).find_issues()` (pip install 'qmdb[bench]');
  (d) fastdup, where its wheel installs.

and prints images/s with the ratios. `--memory-images M` then runs (b) in a
child process at M and at 10×M images (the same files under 10 datasets) and
prints its peak memory (main process and largest worker), to show it stays flat.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

SIZES = [(640, 480), (1024, 768), (1280, 720), (1600, 1200), (1920, 1080)]
CACHE = Path(tempfile.gettempdir()) / "qmdb-bench-metrics"


def sources() -> list[np.ndarray]:
    import skimage.data
    from sklearn.datasets import load_sample_images

    rgb = list(load_sample_images().images) + [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(),
                                               skimage.data.rocket()]
    return [np.ascontiguousarray(a[..., ::-1]) for a in rgb]


def make_images(n: int, seed: int = 0) -> Path:
    """n JPEGs: a random crop of a real photograph, resized to a camera size, with exposure jitter."""
    folder = CACHE / f"jpeg-{n}-seed{seed}"
    if folder.is_dir() and len(list(folder.glob("*.jpg"))) == n:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    photos = sources()
    for i in range(n):
        photo = photos[rng.integers(len(photos))]
        h, w = photo.shape[:2]
        ch, cw = int(h * rng.uniform(0.5, 1)), int(w * rng.uniform(0.5, 1))
        y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        size = SIZES[rng.integers(len(SIZES))]
        image = cv2.resize(photo[y:y + ch, x:x + cw], size, interpolation=cv2.INTER_CUBIC)
        image = cv2.convertScaleAbs(image, alpha=rng.uniform(0.5, 1.3), beta=rng.uniform(-20, 20))
        if rng.random() < 0.5:
            image = image[:, ::-1]
        cv2.imwrite(str(folder / f"img_{i:06d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return folder


def _decode_chunk(files: list[str], tuned: bool = False) -> int:
    from qmdb.udfs.pixels import FLAGS

    cv2.setNumThreads(1)
    if tuned:
        from qmdb.udfs.worker import _reuse_freed_memory

        _reuse_freed_memory()
    for file in files:
        cv2.imdecode(np.fromfile(file, np.uint8), FLAGS)
    return len(files)


def decode_only(folder: Path, workers: int, chunk: int = 64, tuned: bool = False) -> float:
    from functools import partial

    from loky import ProcessPoolExecutor

    files = sorted(str(p) for p in folder.glob("*.jpg"))
    chunks = [files[i:i + chunk] for i in range(0, len(files), chunk)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_decode_chunk, chunks[:workers]))  # start the workers outside the timing
        start = time.perf_counter()
        done = sum(pool.map(partial(_decode_chunk, tuned=tuned), chunks))
    return done / (time.perf_counter() - start)


def project(folder: Path, db: Path, copies: int = 1):
    import qmdb

    db.unlink(missing_ok=True)
    con = qmdb.connect(db)
    files = sorted(p.name for p in folder.glob("*.jpg"))
    for k in range(copies):
        con.execute("INSERT INTO datasets (name, root, format) VALUES (?, ?, 'folders')", [f"bench{k}", str(folder)])
        con.execute("INSERT INTO images (dataset, path) SELECT ?, unnest(?)", [f"bench{k}", files])
    return con


def qmdb_pass(folder: Path, workers: int, chunk: int = 64) -> float:
    import qmdb

    with tempfile.TemporaryDirectory() as tmp:
        con = project(folder, Path(tmp) / "bench.duckdb")
        start = time.perf_counter()
        report = qmdb.compute_metrics(con, workers=workers, chunk_size=chunk, progress=False)
        seconds = time.perf_counter() - start
        con.close()
    return report.images / seconds


def cleanvision_pass(folder: Path) -> float | str:
    try:
        from cleanvision import Imagelab
    except ImportError as error:
        return f"not installed ({error.name}); pip install 'qmdb[bench]'"
    n = len(list(folder.glob("*.jpg")))
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):  # its progress bars
        Imagelab(data_path=str(folder)).find_issues(verbose=False)
    return n / (time.perf_counter() - start)


def fastdup_pass(folder: Path, workers: int) -> float | str:
    try:
        import fastdup
    except Exception as error:  # its wheel is not published for every platform / Python
        return f"not available: {type(error).__name__}: {error}"
    n = len(list(folder.glob("*.jpg")))
    with tempfile.TemporaryDirectory() as work:
        start = time.perf_counter()
        fastdup.create(work_dir=work, input_dir=str(folder)).run(num_threads=workers, overwrite=True)
        return n / (time.perf_counter() - start)


def memory_child(folder: str, copies: int, workers: int) -> None:
    """Run (b) on `copies` × the folder and print images, seconds, peak RSS (MiB) of this process and of a worker."""
    import qmdb

    with tempfile.TemporaryDirectory() as tmp:
        con = project(Path(folder), Path(tmp) / "mem.duckdb", copies)
        start = time.perf_counter()
        report = qmdb.compute_metrics(con, workers=workers, progress=False)
        seconds = time.perf_counter() - start
        con.close()
    main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(report.images, f"{seconds:.1f}", f"{main:.0f}", f"{worker:.0f}")


def row(name: str, rate, base: float | None = None, other: float | None = None) -> str:
    if isinstance(rate, str):
        return f"| {name} | {rate} | | |"
    ratio = f"{rate / base:.2f}×" if base else ""
    versus = f"{rate / other:.1f}×" if isinstance(other, float) else ""
    return f"| {name} | {rate:,.1f} | {ratio} | {versus} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--memory-images", type=int, default=0, help="also measure peak memory at M and 10×M images")
    parser.add_argument("--skip", default="", help="comma-separated: decode,qmdb,cleanvision,fastdup")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    folder = make_images(args.images)
    print(f"{args.images} JPEGs at {', '.join(f'{w}×{h}' for w, h in SIZES)} in {folder}; "
          f"{args.workers} worker(s) on {os.cpu_count()} core(s)\n")
    decode = decode_only(folder, args.workers) if "decode" not in skip else None
    tuned = decode_only(folder, args.workers, tuned=True) if "decode" not in skip else None
    ours = qmdb_pass(folder, args.workers) if "qmdb" not in skip else None
    clean = cleanvision_pass(folder) if "cleanvision" not in skip else "skipped"
    dup = fastdup_pass(folder, args.workers) if "fastdup" not in skip else "skipped"
    print("| pass | images/s | × decode only | × CleanVision |")
    print("|---|---|---|---|")
    if decode:
        print(row("(a) decode only (read + cv2.imdecode)", decode, decode))
        print(row("(a′) decode only, qmdb workers' allocator setting", tuned, decode))
    if ours:
        print(row("(b) qmdb metrics (20 image metrics → DuckDB)", ours, decode, clean))
    print(row("(c) CleanVision Imagelab.find_issues", clean, decode))
    print(row("(d) fastdup", dup, decode))
    if ours and tuned:
        print(f"\n(b) / (a′) = {ours / tuned:.2f}×")
    if args.memory_images:
        memory_folder = make_images(args.memory_images, seed=1)
        print("\n| images | seconds | peak RSS main (MiB) | peak RSS largest worker (MiB) |\n|---|---|---|---|")
        for copies in (1, 10):
            out = subprocess.run([sys.executable, __file__, "--memory-child", str(memory_folder), str(copies),
                                  str(args.workers)], capture_output=True, text=True, check=True).stdout.split()
            print(f"| {int(out[0]):,} | {out[1]} | {out[2]} | {out[3]} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--memory-child":
        memory_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
