"""qmdb metrics: compute image and label metrics into image_metrics / label_metrics."""

import argparse

from ..database import close, connect
from ..errors import QmdbError
from ..udfs import compute_metrics
from . import COMMANDS

NAME = "metrics"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("--workers", "-w", type=int, default=None,
                        help="worker processes (default: every core; 0 = in this process)")
    parser.add_argument("--plugin", action="append", default=[], metavar="FILE.py",
                        help="a Python file defining custom metrics with @qmdb.image_metric / @qmdb.label_metric")
    parser.add_argument("--only", help="comma-separated metric names to compute (default: all)")
    parser.add_argument("--chunk-size", type=int, default=64, help="images per chunk (one transaction each)")
    parser.add_argument("--force", action="store_true", help="recompute every value, not only missing or outdated ones")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="'ray': run on Ray Data ($RAY_ADDRESS or a local Ray; pip install 'qmdb[ray]')")
    parser.add_argument("--manifest", metavar="FILE.parquet|FILE.csv",
                        help="register the images this file names, then compute (column 'uri' or 'path': "
                             "object-store URIs or paths; optional 'image_id', 'split')")
    parser.add_argument("--dataset", help="with --manifest, the dataset its images go in (default: the manifest's "
                                          "file name); with --engine ray alone, only this dataset's images")


def run(args: argparse.Namespace) -> int:
    if args.engine != "ray" and args.dataset and not args.manifest:
        raise QmdbError("--dataset needs --manifest or --engine ray")
    con = connect(args.database, create=bool(args.manifest))  # a manifest registers images: it may start a project
    try:
        report = _compute(con, args)
        masks = _mask_metrics(con, args)
    finally:
        close(con)
    print(report)
    if masks is not None:
        print(f"mask metrics: {masks} labels computed")
    return 0


def _mask_metrics(con, args: argparse.Namespace) -> int | None:
    """`mask_metrics` for the labels that carry a mask (None: no label has one)."""
    if not con.execute("SELECT count(*) FROM labels WHERE mask IS NOT NULL").fetchone()[0]:
        return None
    from ..udfs.mask_registry import compute_mask_metrics

    return compute_mask_metrics(con, force=args.force)


def _compute(con, args: argparse.Namespace):
    only = [name.strip() for name in args.only.split(",") if name.strip()] if args.only else None
    if args.engine == "ray":
        from ..scale import compute_metrics_ray

        return compute_metrics_ray(con, only=only, plugins=args.plugin, chunk_size=args.chunk_size,
                                   force=args.force, progress=not args.quiet, manifest=args.manifest,
                                   dataset=args.dataset)
    if args.manifest:
        from ..scale import register_manifest

        register_manifest(con, args.manifest, args.dataset)
    return compute_metrics(con, only=only, workers=args.workers, plugins=args.plugin,
                           chunk_size=args.chunk_size, force=args.force, progress=not args.quiet)
