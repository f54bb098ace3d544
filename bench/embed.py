"""Benchmark: `qmdb embed` with the built-in descriptor against decoding alone, at the same scale.

    python bench/embed.py [--images 2000] [--copies 10] [--rounds 2] [--threads 4] [--clip ViT-B-32]

On the camera-size JPEGs of `bench/metrics.py` (made once, seeded, cached under
/tmp), each pass runs in a fresh child process, interleaved A B C A B C … for
`--rounds` rounds, and prints img/s (min and median over rounds) and peak RSS:

  (a) decode only, full size: read + cv2.imdecode, on the same thread pool size as (c);
  (b) decode only at the scale the descriptor needs (`qmdb.images.decode_at_least(data, 64)`:
      DCT-scaled while both sides stay ≥ 64 px), same thread pool: the floor of (c);
  (c) `qmdb.embed(con, "builtin")` on a fresh project: the whole pass, vectors written to
      DuckDB and the usearch index built;
  (c×N) (c) on `--copies` × the images (the same files under N datasets): peak RSS must stay flat;
  (c0) with `--baseline DIR`: (c) with the `qmdb` package of DIR first on the path (an earlier
      commit, e.g. `git archive COMMIT qmdb | tar -x -C DIR`), interleaved with the others.

Then how far the DCT-scaled decode moves the vectors: cosine between the descriptor of the
full-size decode and of the reduced one, over the first 500 images.

With `--clip ARCH` (e.g. ViT-B-32; random-init weights, no download), CLIP on this machine's
device (CPU here) in this one process, interleaved (d) (e) for `--rounds` rounds on the first
`--clip-images` JPEGs:

  (d) a bare batched forward pass: `model.encode_image` on pre-made, preprocessed tensors of
      those images (batches of the embedder's batch size), nothing else;
  (e) `qmdb.embed(con, embedder)` on a fresh project: decode (DCT-scaled to ≥ 224 px, the
      model's `input_size`), resize and crop in the decoding threads, forward, write, index;

and the cosine between CLIP vectors of the full-size and of the DCT-scaled decode.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from metrics import SIZES, make_images, project  # noqa: E402

PASSES = {"a": "decode only, full size", "b": "decode only at the descriptor's scale (≥ 64 px)",
          "c": "qmdb embed builtin (→ DuckDB + index)"}


def _cpu() -> float:
    """User + system CPU seconds of this process, all its threads."""
    t = os.times()
    return t.user + t.system


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, folder: str, copies: int, threads: int) -> None:
    """Run one pass and print: images, seconds, peak RSS (MiB)."""
    from qmdb import images

    cv2.setNumThreads(1)
    files = sorted(str(p) for p in Path(folder).glob("*.jpg"))
    if kind in "ab":
        shortest = None if kind == "a" else 64
        with ThreadPoolExecutor(threads) as pool:
            start, cpu = time.perf_counter(), _cpu()
            for k in range(copies):
                for _ in pool.map(lambda f: images.read_rgb(f, shortest), files):
                    pass
            seconds, cpu = time.perf_counter() - start, _cpu() - cpu
        print(len(files) * copies, seconds, _peak_mib(), 0, 0, cpu, cpu)
        return
    import qmdb
    from qmdb.embeddings import pipeline

    streamed = []
    finish = pipeline.finish

    def measured_finish(*args, **kwargs):
        streamed.append((_peak_mib(), time.perf_counter(), _cpu()))  # the streaming part ends: the index build starts
        return finish(*args, **kwargs)

    pipeline.finish = measured_finish
    with tempfile.TemporaryDirectory() as tmp:
        con = project(Path(folder), Path(tmp) / "embed.duckdb", copies)
        start, cpu = time.perf_counter(), _cpu()
        report = qmdb.embed(con, "builtin", workers=threads, progress=False)
        seconds, total_cpu = time.perf_counter() - start, _cpu() - cpu
        con.close()
    print(report.written["image"], seconds, _peak_mib(), streamed[0][0], streamed[0][1] - start, total_cpu,
          streamed[0][2] - cpu)


def run_child(kind: str, folder: Path, copies: int, threads: int, baseline: str = "") -> tuple:
    """(images, seconds, peak RSS MiB, peak RSS MiB before the index build, seconds to it, CPU seconds,
    CPU seconds to it) of one pass in a fresh process (decode passes: zeros for the index build's);
    with `baseline`, the qmdb package is imported from that folder."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [baseline, os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(folder), str(copies), str(threads)],
                         capture_output=True, text=True, check=True, env=env).stdout.split()
    return (int(out[0]), *map(float, out[1:]))


def fidelity(folder: Path, n: int = 500) -> tuple[float, float, float]:
    """(min, 1st percentile, median) cosine between descriptors of full-size and DCT-scaled decodes."""
    from qmdb import images
    from qmdb.embeddings.builtin import describe

    files = sorted(folder.glob("*.jpg"))[:n]
    full = describe([images.read_rgb(f) for f in files])
    reduced = describe([images.read_rgb(f, 64) for f in files])
    cosine = (full * reduced).sum(axis=1)
    return float(cosine.min()), float(np.percentile(cosine, 1)), float(np.median(cosine))


def clip_pass(arch: str, folder: Path, n: int, rounds: int, threads: int) -> None:
    """(d) a bare batched forward pass vs (e) `qmdb.embed` with the same open_clip model, interleaved."""
    import torch

    import qmdb
    from qmdb import images
    from qmdb.embeddings.clip import OpenClipEmbedder

    torch.manual_seed(0)
    embedder = OpenClipEmbedder(arch, None, device="cpu")
    files = sorted(folder.glob("*.jpg"))[:n]
    full = [images.read_rgb(f) for f in files]
    pixels = embedder.preprocess(full)
    embedder.forward(pixels[:embedder.batch_size])  # warm up
    bare, ours, bare_cpu, ours_cpu = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "images"
        subset.mkdir()
        for f in files:
            (subset / f.name).symlink_to(f)
        for k in range(rounds):
            start, cpu = time.perf_counter(), _cpu()
            embedder.forward(pixels)
            bare.append(n / (time.perf_counter() - start))
            bare_cpu.append(n / (_cpu() - cpu))
            con = project(subset, Path(tmp) / f"clip{k}.duckdb")
            start, cpu = time.perf_counter(), _cpu()
            qmdb.embed(con, embedder, workers=threads, progress=False)
            ours.append(n / (time.perf_counter() - start))
            ours_cpu.append(n / (_cpu() - cpu))
            con.close()
    cosine = (embedder.embed_images(full) * embedder.embed_images([images.read_rgb(f, embedder.input_size)
                                                                   for f in files])).sum(axis=1)
    print(f"\nCLIP {arch} (random-init weights: none on disk), CPU, torch threads {torch.get_num_threads()}, "
          f"{n} of the JPEGs, batch {embedder.batch_size}, {rounds} interleaved round(s); load average "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| pass | img/s min | img/s median | × (d) median | img per CPU-s median | × (d) |\n|---|---|---|---|---|---|")
    floor, cpu_floor = statistics.median(bare), statistics.median(bare_cpu)
    for name, rates, cpus in (("(d) bare batched encode_image on pre-made tensors", bare, bare_cpu),
                              ("(e) qmdb.embed (decode ≥ 224 px, prepare, forward, DuckDB, index)", ours, ours_cpu)):
        print(f"| {name} | {min(rates):,.1f} | {statistics.median(rates):,.1f} | "
              f"{statistics.median(rates) / floor:.2f}× | {statistics.median(cpus):,.1f} | "
              f"{statistics.median(cpus) / cpu_floor:.2f}× |")
    print(f"\ncosine(full-size decode, DCT-scaled decode) of CLIP vectors: min {cosine.min():.4f}, "
          f"median {np.median(cosine):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="decoding threads (qmdb.embed's workers)")
    parser.add_argument("--clip", default="", help="also CLIP vs a bare forward pass: an open_clip architecture")
    parser.add_argument("--clip-images", type=int, default=96)
    parser.add_argument("--skip-builtin", action="store_true", help="only the CLIP part")
    parser.add_argument("--baseline", default="", help="also (c0): pass (c) with the qmdb package of this folder")
    args = parser.parse_args()
    if args.skip_builtin:
        return clip_pass(args.clip, make_images(args.images), args.clip_images, args.rounds, args.threads)
    folder = make_images(args.images)
    load = os.getloadavg()[0]
    print(f"{args.images} JPEGs at {', '.join(f'{w}×{h}' for w, h in SIZES)} in {folder}; {args.threads} "
          f"decoding thread(s) on {os.cpu_count()} core(s); load average {load:.1f} at the start\n")
    passes = {**PASSES, **({"c0": f"(c) with the qmdb of {args.baseline}"} if args.baseline else {})}
    results: dict[str, list] = {k: [] for k in passes}
    for _ in range(args.rounds):
        for kind in passes:
            results[kind].append(run_child(kind[0], folder, 1, args.threads, args.baseline if kind == "c0" else ""))
    rate = {k: [r[0] / r[1] for r in v] for k, v in results.items()}
    floor = statistics.median(rate["b"])
    per_cpu = {k: [r[0] / r[5] for r in v] for k, v in results.items()}
    names = dict(passes)
    for kind in [k for k in passes if k.startswith("c")]:
        rate[kind + "′"] = [r[0] / r[4] for r in results[kind]]
        per_cpu[kind + "′"] = [r[0] / r[6] for r in results[kind]]
        names[kind + "′"] = f"({kind}) up to the index build (decode, describe, write)"
    cpu_floor = statistics.median(per_cpu["b"])
    print("| pass | images | img/s min | img/s median | × (b) median | peak RSS (MiB) | img per CPU-s median | × (b) |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, name in names.items():
        rss = max(r[2] if not kind.endswith("′") else r[3] for r in results[kind.rstrip("′")])
        print(f"| ({kind}) {name} | {args.images:,} | {min(rate[kind]):,.0f} | {statistics.median(rate[kind]):,.0f} | "
              f"{statistics.median(rate[kind]) / floor:.2f}× | {rss:,.0f} | {statistics.median(per_cpu[kind]):,.0f} | "
              f"{statistics.median(per_cpu[kind]) / cpu_floor:.2f}× |")
    if args.copies > 1:
        n, seconds, rss, before, streaming, cpu, cpu_streaming = run_child("c", folder, args.copies, args.threads)
        print(f"| (c) on {args.copies} copies | {n:,} | {n / seconds:,.0f} | | | {rss:,.0f} | {n / cpu:,.0f} | |")
        print(f"| (c′) on {args.copies} copies | {n:,} | {n / streaming:,.0f} | | | {before:,.0f} | "
              f"{n / cpu_streaming:,.0f} | |")
    low, p1, median = fidelity(folder)
    print(f"\ncosine(full-size decode, DCT-scaled decode) of builtin-hog-v1 over 500 images: "
          f"min {low:.4f}, 1st percentile {p1:.4f}, median {median:.4f}; load average {os.getloadavg()[0]:.1f} at the end")
    if args.clip:
        clip_pass(args.clip, folder, args.clip_images, args.rounds, args.threads)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
