"""qmdb cluster: semantic clusters (k-means or HDBSCAN) and duplicate groups of a model's vectors, as tables."""

import argparse

from ..database import project
from . import COMMANDS
from .arguments import vector_options

NAME = "cluster"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    vector_options(parser)
    parser.add_argument("--method", choices=("kmeans", "hdbscan"), default="kmeans",
                        help="kmeans (default) or hdbscan (scikit-learn's HDBSCAN: finds the number of clusters, "
                             "noise is cluster -1)")
    parser.add_argument("--k", type=int, help="k-means: number of clusters (default √(n/2), between 2 and 100)")
    parser.add_argument("--min-cluster-size", type=int, default=5, help="hdbscan: smallest cluster (default 5)")
    parser.add_argument("--min-samples", type=int, help="hdbscan: neighbours of a core point (default: min-cluster-size)")
    parser.add_argument("--seed", type=int, default=0, help="k-means seed (default 0)")
    parser.add_argument("--duplicates-within", type=float, default=0.02, metavar="DISTANCE",
                        help="cosine distance that makes two items duplicates (default 0.02)")
    parser.add_argument("--no-kmeans", action="store_true", help="only the duplicate groups (no clusters, no scikit-learn needed)")
    parser.add_argument("--force", action="store_true", help="recompute even when the vectors did not change")


def run(args: argparse.Namespace) -> int:
    from ..embeddings import clusters, duplicate_groups

    with project(args.database) as con:
        groups = duplicate_groups.materialize(con, args.model, args.item_type, args.duplicates_within,
                                              force=args.force)
        print(f"duplicate_groups: {groups} {args.item_type} rows written" if groups
              else "duplicate_groups: up to date")
        if not args.no_kmeans:
            written = clusters.materialize(con, args.model, args.item_type, args.k, seed=args.seed, force=args.force,
                                           method=args.method, min_cluster_size=args.min_cluster_size,
                                           min_samples=args.min_samples)
            print(f"clusters ({args.method}): {written} {args.item_type} rows written" if written
                  else f"clusters ({args.method}): up to date")
    return 0
