"""Benchmark: qmdb's metric pass against decode-only at the same scale and CleanVision, on two photo sets.

    python bench/metrics.py [--images 600] [--independent 300] [--rounds 2] [--workers N] [--memory-images 200]

Makes (once, seeded, cached under /tmp) two folders of real-photo JPEGs at camera
sizes (640×480 to 1920×1080): the bench/ set (random crops of six photographs
with exposure jitter) and an independent one (all 18 photographs scikit-learn
and scikit-image ship, mirror-tiled to camera size, and crops of Hubble's deep
field), then times in this one process, on each folder, interleaved a a″ b a a″ b:

  (a) decode only at full size: read + cv2.imdecode on the same worker processes, with the
      allocator setting qmdb's workers use (heap instead of fresh page mappings);
  (a″) decode only at qmdb's analysis scale: read + `qmdb.udfs.pixels.decode` (header size,
      DCT-scaled decode), same processes, same allocator: the decode the pass performs, its floor;
  (b) qmdb: `compute_metrics` on a fresh project (every image metric, written to DuckDB);
  (c) CleanVision: `Imagelab(data_path).find_issues()` at its defaults, once (pip install 'qmdb[bench]');

and prints images/s (min and median over rounds) with the ratios, and images per CPU-second
(this process and its worker processes, user + system: what a shared, loaded machine changes
least), then how qmdb's
is_dark / is_overexposed agree with CleanVision's dark / light issues. `--memory-images M` then runs (b) in a
child process at M and at 10×M images (the same files under 10 datasets) and
prints its peak memory (main process and largest worker), to show it stays flat.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

SIZES = [(640, 480), (1024, 768), (1280, 720), (1600, 1200), (1920, 1080)]
CACHE = Path(tempfile.gettempdir()) / "qmdb-bench-metrics"
CPU: list[float] = []  # images per CPU-second of the last pass of each kind, appended by the passes


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


INDEPENDENT = ("china.jpg", "flower.jpg", "astronaut", "brick", "camera", "cat", "cell", "chelsea", "clock", "coffee",
               "coins", "grass", "gravel", "hubble_deep_field", "immunohistochemistry", "moon", "retina", "rocket")


def independent_sources() -> list[np.ndarray]:
    """Every photograph scikit-learn and scikit-image ship offline (18; grey ones as BGR), as they are."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    sample = load_sample_images()
    named = dict(zip((Path(f).name for f in sample.filenames), sample.images))
    out = []
    for name in INDEPENDENT:
        photo = named[name] if name in named else getattr(skimage.data, name)()
        photo = cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR) if photo.ndim == 2 else np.ascontiguousarray(photo[..., ::-1])
        out.append(photo)
    return out


def independent_images(n: int, seed: int = 1) -> Path:
    """A second, independent set: each of the 18 photographs in turn, unchanged in exposure, brought to a
    camera size by mirror-tiling (2×2) where it is smaller and a random window of the camera's aspect, then
    resized; every sixth image is instead a random crop (200–500 px) of Hubble's deep field, the near-black
    astronomy photograph, upscaled to a camera size."""
    folder = CACHE / f"independent-{n}-seed{seed}"
    if folder.is_dir() and len(list(folder.glob("*.jpg"))) == n:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    photos = independent_sources()
    hubble = photos[INDEPENDENT.index("hubble_deep_field")]
    for i in range(n):
        width, height = SIZES[rng.integers(len(SIZES))]
        if i % 6 == 5:
            side = int(rng.integers(200, 500))
            y, x = rng.integers(0, hubble.shape[0] - side), rng.integers(0, hubble.shape[1] - side)
            source = hubble[y:y + side, x:x + side * width // height]
        else:
            source = photos[i % len(photos)]
            if source.shape[0] < height or source.shape[1] < width:
                source = np.block([[source, source[:, ::-1]], [source[::-1], source[::-1, ::-1]]]) \
                    if source.ndim == 2 else np.concatenate([np.concatenate([source, source[:, ::-1]], 1),
                                                             np.concatenate([source[::-1], source[::-1, ::-1]], 1)], 0)
            h, w = source.shape[:2]
            ch = min(h, int(w * height / width))
            cw = int(ch * width / height)
            y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
            source = source[y:y + ch, x:x + cw]
        shrink = source.shape[1] > width
        image = cv2.resize(source, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
        cv2.imwrite(str(folder / f"img_{i:06d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return folder


def _decode_chunk(files: list[str], tuned: bool = False, scaled: bool = False) -> int:
    from qmdb.udfs.pixels import FLAGS, decode

    cv2.setNumThreads(1)
    if tuned:
        from qmdb.udfs.worker import _reuse_freed_memory

        _reuse_freed_memory()
    for file in files:
        if scaled:  # the decode qmdb's pass performs: header size, then DCT-scaled to ≥ ANALYSIS_SIDE
            decode(np.fromfile(file, np.uint8))
        else:
            cv2.imdecode(np.fromfile(file, np.uint8), FLAGS)
    return len(files)


def decode_only(folder: Path, workers: int, chunk: int = 64, tuned: bool = False, scaled: bool = False) -> float:
    from functools import partial

    from loky import ProcessPoolExecutor

    files = sorted(str(p) for p in folder.glob("*.jpg"))
    chunks = [files[i:i + chunk] for i in range(0, len(files), chunk)]
    start, cpu = time.perf_counter(), cpu_seconds()  # starting the processes is timed, as it is in (b)
    with ProcessPoolExecutor(workers) as pool:
        done = sum(pool.map(partial(_decode_chunk, tuned=tuned, scaled=scaled), chunks))
    CPU.append(done / (cpu_seconds() - cpu))
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


def qmdb_pass(folder: Path, workers: int, chunk: int = 64, flags: dict | None = None) -> float:
    """images/s of `compute_metrics` on a fresh project; `flags` (when given) gets {file name: (is_dark,
    is_overexposed)}."""
    import qmdb

    with tempfile.TemporaryDirectory() as tmp:
        con = project(folder, Path(tmp) / "bench.duckdb")
        start, cpu = time.perf_counter(), cpu_seconds()
        report = qmdb.compute_metrics(con, workers=workers, chunk_size=chunk, progress=False)
        seconds = time.perf_counter() - start
        CPU.append(report.images / (cpu_seconds() - cpu))
        if flags is not None:
            flags.update({path: (dark, light) for path, dark, light in con.sql(
                "SELECT path, is_dark, is_overexposed FROM metrics_images").fetchall()})
        con.close()
    return report.images / seconds


def cleanvision_pass(folder: Path, flags: dict | None = None) -> float | str:
    """images/s of CleanVision's `find_issues` at its defaults; `flags` gets {file name: (is_dark_issue,
    is_light_issue)}."""
    try:
        from cleanvision import Imagelab
    except ImportError as error:
        return f"not installed ({error.name}); pip install 'qmdb[bench]'"
    n = len(list(folder.glob("*.jpg")))
    start, cpu = time.perf_counter(), cpu_seconds()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):  # its progress bars
        lab = Imagelab(data_path=str(folder))
        lab.find_issues(verbose=False)
    seconds = time.perf_counter() - start
    CPU.append(n / (cpu_seconds() - cpu))
    if flags is not None:
        issues = lab.issues
        flags.update({Path(f).name: (bool(d), bool(li)) for f, d, li in
                      zip(issues.index, issues["is_dark_issue"], issues["is_light_issue"])})
    return n / seconds


def timed_pass(con, workers: int, progress: bool = False) -> tuple:
    """(b) on the project, then closed: its report, seconds, and peak RSS (MiB) of this process and of
    the largest worker."""
    import qmdb

    start = time.perf_counter()
    report = qmdb.compute_metrics(con, workers=workers, progress=progress)
    seconds = time.perf_counter() - start
    con.close()
    return (report, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def memory_child(folder: str, copies: int, workers: int) -> None:
    """Run (b) on `copies` × the folder and print images, seconds, peak RSS (MiB) of this process and of a worker."""
    with tempfile.TemporaryDirectory() as tmp:
        report, seconds, main, worker = timed_pass(project(Path(folder), Path(tmp) / "mem.duckdb", copies), workers)
    print(report.images, f"{seconds:.1f}", f"{main:.0f}", f"{worker:.0f}")


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children that have exited (the workers,
    once their pool is shut down)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def rates(values: list[float]) -> str:
    return f"{min(values):,.1f} | {statistics.median(values):,.1f}"


def compare(folder: Path, label: str, args, skip: set) -> None:
    """One photo set: (a), (a″), (b) interleaved for `--rounds` rounds, then CleanVision once, the table,
    and how the flags agree with CleanVision's."""
    n = len(list(folder.glob("*.jpg")))
    print(f"### {label}: {n:,} JPEGs in {folder}; {args.workers} worker process(es) on {os.cpu_count()} core(s); "
          f"load average {os.getloadavg()[0]:.1f} at the start\n")
    runs: dict[str, list[float]] = {"a": [], "a2": [], "b": []}
    cpu: dict[str, list[float]] = {"a": [], "a2": [], "b": [], "c": []}
    ours_flags: dict = {}
    for _ in range(args.rounds):  # interleaved: a a2 b a a2 b …
        if "decode" not in skip:
            runs["a"].append(decode_only(folder, args.workers, tuned=True))
            cpu["a"].append(CPU[-1])
            runs["a2"].append(decode_only(folder, args.workers, tuned=True, scaled=True))
            cpu["a2"].append(CPU[-1])
        if "qmdb" not in skip:
            runs["b"].append(qmdb_pass(folder, args.workers, flags=ours_flags))
            cpu["b"].append(CPU[-1])
    clean_flags: dict = {}
    clean = cleanvision_pass(folder, clean_flags) if "cleanvision" not in skip else "skipped"
    if isinstance(clean, float):
        cpu["c"].append(CPU[-1])
    print("| pass | images/s min | median | × (a″) median | × CleanVision | images per CPU-s median | "
          "× (a″) | × CleanVision |\n|---|---|---|---|---|---|---|---|")
    floor = statistics.median(runs["a2"]) if runs["a2"] else None
    cpu_floor = statistics.median(cpu["a2"]) if cpu["a2"] else None
    cpu_clean = cpu["c"][0] if cpu["c"] else None
    names = {"a": "(a) decode only, full size", "a2": "(a″) decode only at qmdb's analysis scale (the decode it performs)",
             "b": "(b) qmdb metrics (21 image metrics → DuckDB)"}
    for key, name in names.items():
        if runs[key]:
            versus = f"{statistics.median(runs[key]) / clean:.1f}×" if isinstance(clean, float) else ""
            ratio = f"{statistics.median(runs[key]) / floor:.2f}×" if floor else ""
            per_cpu = statistics.median(cpu[key])
            cpu_ratio = f"{per_cpu / cpu_floor:.2f}×" if cpu_floor else ""
            cpu_versus = f"{per_cpu / cpu_clean:.1f}×" if cpu_clean and key == "b" else ""
            print(f"| {name} | {rates(runs[key])} | {ratio} | {versus if key == 'b' else ''} | {per_cpu:,.1f} | "
                  f"{cpu_ratio} | {cpu_versus} |")
    text = f"{clean:,.1f}" if isinstance(clean, float) else clean
    cpu_text = f"{cpu_clean:,.1f}" if cpu_clean else ""
    print(f"| (c) CleanVision Imagelab.find_issues (defaults, one run) | {text} | | | | {cpu_text} | | |")
    print(f"\n(a) and (a″): {args.workers} loky processes started inside the timing (as (b) starts its own), qmdb's worker allocator setting; {args.rounds} "
          f"interleaved round(s); load average {os.getloadavg()[0]:.1f} at the end")
    if ours_flags and clean_flags:
        print("\n| flag | qmdb | CleanVision | both | qmdb only | CleanVision only |\n|---|---|---|---|---|---|")
        for k, (ours, theirs) in enumerate([("is_dark", "dark"), ("is_overexposed", "light")]):
            mine = {p for p, v in ours_flags.items() if v[k]}
            other = {p for p, v in clean_flags.items() if v[k]}
            print(f"| {ours} / {theirs} | {len(mine)} | {len(other)} | {len(mine & other)} | {len(mine - other)} | "
                  f"{len(other - mine)} |")
    print()


def camera_tile(photo: np.ndarray, width: int = 1920, height: int = 1080) -> np.ndarray:
    """A sharp camera-size image: the photo mirror-tiled (no interpolation), cropped to width × height."""
    while photo.shape[0] < height or photo.shape[1] < width:
        photo = np.concatenate([np.concatenate([photo, photo[:, ::-1]], 1),
                                np.concatenate([photo[::-1], photo[::-1, ::-1]], 1)], 0)
    return np.ascontiguousarray(photo[:height, :width])


def blur_curve(sigmas=(0, 0.5, 1, 1.5, 2, 3)) -> None:
    """The defocus curve: the 17 photographs of the independent set (all but Hubble's) as sharp 1920×1080
    JPEGs, Gaussian-blurred by σ, measured at full scale (qmdb's analysis scale for 1080p since
    ANALYSIS_SIDE = 1024) and at 1/2 scale (what a file of 2,048 px or more gets, and what 1080p got
    with ANALYSIS_SIDE = 512): median blurriness and Laplacian variance, the AUC of blurriness
    between blurred and sharp, the share is_blurry flags, and the log-Pearson correlation of
    sharpness with the full-scale Laplacian variance."""
    from qmdb.udfs import registry
    from qmdb.udfs.image.is_blurry import THRESHOLD
    from qmdb.udfs.pixels import decode

    sharp, blur = registry.get("image", "sharpness").function, registry.get("image", "blurriness").function
    photos = [p for n, p in zip(INDEPENDENT, independent_sources()) if n != "hubble_deep_field"]
    values = np.zeros((len(photos), len(sigmas), 2, 2))  # photo, σ, scale (full, 1/2), (sharpness, blurriness)
    for k, photo in enumerate(photos):
        tile = camera_tile(photo)
        for i, sigma in enumerate(sigmas):
            blurred = cv2.GaussianBlur(tile, (0, 0), sigma) if sigma else tile
            data = cv2.imencode(".jpg", blurred, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].ravel()
            for j, side in enumerate((0, 512)):
                image = decode(data, side)
                values[k, i, j] = sharp(image), blur(image)
    print(f"{len(photos)} photographs as sharp 1920×1080 JPEGs (q90), Gaussian defocus σ px at full size\n")
    print("| scale | measure | " + " | ".join(f"σ = {s}" for s in sigmas) + " |")
    print("|---|---|" + "---|" * len(sigmas))
    for j, scale in enumerate(("full (1080p now)", "1/2 (≥ 2,048 px; 1080p before)")):
        b = values[:, :, j, 1]
        lines = {"median blurriness": [f"{np.median(b[:, i]):.3f}" for i in range(len(sigmas))],
                 "median sharpness": [f"{np.median(values[:, i, j, 0]):,.1f}" for i in range(len(sigmas))],
                 "AUC blurred vs sharp": [""] + [f"{np.mean(b[:, i][:, None] > b[:, 0][None]):.2f}"
                                                 for i in range(1, len(sigmas))],
                 f"is_blurry (≥ {THRESHOLD})": [f"{np.mean(b[:, i] >= THRESHOLD):.0%}" for i in range(len(sigmas))]}
        for name, cells in lines.items():
            print(f"| {scale} | {name} | " + " | ".join(cells) + " |")
    half = np.corrcoef(np.log(values[:, :, 1, 0]).ravel(), np.log(values[:, :, 0, 0]).ravel())[0, 1]
    print(f"\nlog-Pearson of sharpness at 1/2 scale with full-scale Laplacian variance, all σ: {half:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=600, help="JPEGs of the bench/ set")
    parser.add_argument("--independent", type=int, default=300, help="JPEGs of the second, independent set (0: none)")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--memory-images", type=int, default=0, help="also measure peak memory at M and 10×M images")
    parser.add_argument("--skip", default="", help="comma-separated: decode,qmdb,cleanvision")
    parser.add_argument("--blur", action="store_true", help="print only the defocus curve of blurriness")
    args = parser.parse_args()
    if args.blur:
        return blur_curve()
    skip = set(args.skip.split(","))
    print(f"camera sizes {', '.join(f'{w}×{h}' for w, h in SIZES)}\n")
    if args.images:
        compare(make_images(args.images), "bench/ photos (random crops of 6 photographs, exposure jitter)", args, skip)
    if args.independent:
        compare(independent_images(args.independent), "independent set (18 photographs tiled, Hubble crops)",
                args, skip)
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
