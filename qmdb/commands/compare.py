"""qmdb compare: drift between two datasets, splits or WHEREs: metrics (KS, PSI), labels, embeddings (MMD)."""

import argparse

from ..database import project
from ..health import compare
from ..output import print_table
from . import COMMANDS

NAME = "compare"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("a", help="side A: a dataset's name, a split's name, or a WHERE over images i")
    parser.add_argument("b", help="side B, as side A")
    parser.add_argument("--bins", type=int, default=10, help="quantile bins of side A for the PSI (default 10)")
    parser.add_argument("--model", help="embedding model for the MMD test (default: the one with most vectors)")
    parser.add_argument("--permutations", type=int, default=200, help="permutations of the MMD test (default 200)")
    parser.add_argument("--max-items", type=int, default=1000, help="embedded images per side in the MMD test")
    parser.add_argument("--plot", metavar="FILE", help="also draw the most different metrics' distributions (.png/.svg/.pdf)")
    parser.add_argument("--max-width", type=int, metavar="N", help="table width (default: the terminal's)")


def run(args: argparse.Namespace) -> int:
    with project(args.database, read_only=True) as con:
        where_a, where_b = compare.side_sql(con, args.a), compare.side_sql(con, args.b)
        ids_a, ids_b = compare.image_ids(con, where_a, args.a), compare.image_ids(con, where_b, args.b)
        print(f"A: {where_a} ({len(ids_a)} images)   B: {where_b} ({len(ids_b)} images)\n\nmetrics, most different first:")
        ids = f"ids_a := {compare.ids_sql(where_a)}, ids_b := {compare.ids_sql(where_b)}"
        print_table(con.sql(f"SELECT * FROM compare_metrics({ids}, n_bins := {int(args.bins)})"),
                    max_rows=100, max_width=args.max_width)
        print("labels:")
        print_table(con.sql(f"SELECT * FROM compare_labels({ids})"), max_rows=100, max_width=args.max_width)
        test = compare.embedding_test(con, ids_a, ids_b, model=args.model, max_items=args.max_items,
                                      permutations=args.permutations)
        if test is None:
            print("embeddings: none on both sides (qmdb embed DB first)")
        else:
            verdict = "distinguishable" if test.p_value < 0.05 else "not distinguishable"
            print(f"embeddings ({test.model}, {test.n_a} vs {test.n_b} images): MMD² {test.mmd2:.4g}, permutation "
                  f"p-value {test.p_value:.4g} ({test.permutations} permutations): {verdict} at 5 %\n"
                  f"  most typical of A: {test.typical_a}\n  most typical of B: {test.typical_b}")
        if args.plot:
            from ..health import drift_plot

            print(f"wrote {drift_plot.draw(con, compare.ids_sql(where_a), compare.ids_sql(where_b), args.plot)}")
    return 0
