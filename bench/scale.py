"""Benchmark: the local runners against the same work on Ray (Ray Data, local cluster), on the same images.

    python bench/scale.py [--images 2000] [--cpus 2] [--skip-embed]

Uses bench/metrics.py's folder of real-photo JPEGs at camera sizes (made once,
seeded, cached under /tmp). In this one process, on fresh copies of one project:

  (a) metrics, local: `compute_metrics(con, workers=cpus)`;
  (b) metrics, Ray:   `compute_metrics_ray(con)` on a Ray started here with `num_cpus=cpus`
      (Ray's start-up is timed apart: a cluster is already running when a team uses it);
  (c) embeddings (builtin-hog-v1), local `embed(con)` and Ray `embed_ray(con)` likewise;

then checks the two sides wrote the same rows, and prints images/s, Ray/local ratio, and the
sizes per image of `image_metrics` and `embeddings` (docs/scale.md uses them for its sizing).
Target: Ray ≥ 0.7× local at 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from metrics import make_images, project  # noqa: E402  (bench/metrics.py: the same JPEG folder)

METRICS = "SELECT * EXCLUDE (versions) FROM image_metrics ORDER BY image_id"
VECTORS = "SELECT item_id, vector FROM embeddings ORDER BY item_id"


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def bytes_per_row(con, table: str, n: int) -> float:
    """Parquet (zstd) bytes per row of a table, as the cluster would store it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{table}.parquet"
        con.execute(f"COPY {table} TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
        return path.stat().st_size / max(n, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--skip-embed", action="store_true")
    args = parser.parse_args()

    import ray

    import qmdb
    from qmdb.scale import compute_metrics_ray, embed_ray

    folder = make_images(args.images)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        local, scaled = project(folder, Path(tmp) / "local.duckdb"), project(folder, Path(tmp) / "ray.duckdb")
        _, startup = timed(ray.init, num_cpus=args.cpus, include_dashboard=False, log_to_driver=False,
                           configure_logging=False)
        report, t_local = timed(qmdb.compute_metrics, local, workers=args.cpus, progress=False)
        ray_report, t_ray = timed(compute_metrics_ray, scaled, progress=False)
        assert ray_report.images == report.images == args.images
        same = local.sql(METRICS).fetchall() == scaled.sql(METRICS).fetchall()
        rows.append(("metrics", report.images, t_local, t_ray, same))
        if not args.skip_embed:
            e_local, te_local = timed(qmdb.embed, local, progress=False)
            _, te_ray = timed(embed_ray, scaled, progress=False)
            same = local.sql(VECTORS).fetchall() == scaled.sql(VECTORS).fetchall()
            rows.append(("embed builtin-hog-v1", e_local.written["image"], te_local, te_ray, same))
        metric_bytes = bytes_per_row(local, "image_metrics", report.images)
        vector_bytes = bytes_per_row(local, "embeddings", args.images) if not args.skip_embed else float("nan")
        ray.shutdown()
        local.close()
        scaled.close()

    print(f"\n{args.images} JPEGs (640×480 to 1920×1080), {args.cpus} CPUs; Ray start-up {startup:.1f} s (not counted)\n")
    print("| pass | images | local img/s | Ray img/s | Ray / local | same rows |")
    print("|---|---:|---:|---:|---:|---|")
    for name, n, a, b, same in rows:
        print(f"| {name} | {n} | {n / a:.1f} | {n / b:.1f} | {a / b:.2f}× | {'yes' if same else 'NO'} |")
    per_core = rows[0][1] / rows[0][2] / args.cpus
    print(f"\nper core (local metrics): {per_core:.1f} img/s")
    if len(rows) > 1:
        print(f"per core (local builtin embedding): {rows[1][1] / rows[1][2] / args.cpus:.1f} img/s")
    print(f"image_metrics: {metric_bytes:.0f} B/image as Parquet (zstd); embeddings (1008-d builtin): "
          f"{vector_bytes:.0f} B/image")


if __name__ == "__main__":
    main()
