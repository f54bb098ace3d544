"""qmdb map: the 2-D map of a model's vectors (table embedding_map), and its self-contained HTML export."""

import argparse

from ..database import project
from . import COMMANDS
from .arguments import vector_options

NAME = "map"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    vector_options(parser)
    parser.add_argument("--method", choices=("auto", "pca", "umap"), default="auto",
                        help="auto (default): UMAP when umap-learn is installed, else PCA")
    parser.add_argument("--seed", type=int, default=0, help="UMAP seed (default 0)")
    parser.add_argument("--force", action="store_true", help="recompute even when the vectors did not change")
    parser.add_argument("--output", "-o", help="also write the map as a self-contained HTML file")
    parser.add_argument("--by", default="class",
                        help="HTML: colour points by class, split, dataset, cluster, none or an image metric")


def run(args: argparse.Namespace) -> int:
    from ..embeddings import map as embedding_map

    with project(args.database) as con:
        written = embedding_map.materialize(con, args.model, args.item_type, args.method, seed=args.seed,
                                            force=args.force)
        print(f"embedding_map: {written} {args.item_type} rows written" if written else "embedding_map: up to date")
        if args.output:
            from ..gallery.map_export import export_map

            print(f"wrote {export_map(con, args.output, args.model, args.item_type, args.by, args.method)}")
    return 0
