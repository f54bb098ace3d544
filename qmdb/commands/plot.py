"""qmdb plot: draw a metric or model-performance plot to PNG, SVG or PDF (needs the 'plot' extra)."""

import argparse

from ..database import project
from . import COMMANDS
from .arguments import view_params

NAME = "plot"
HELP = COMMANDS[NAME]
OPTIONS = {  # option -> (the plots' parameter, type, help)
    "--metric": ("metric", str, "histogram, by-metric: the metric (default brightness)"),
    "--x": ("x", str, "scatter: metric on the x axis (default brightness)"),
    "--y": ("y", str, "scatter: metric on the y axis (default sharpness)"),
    "--by": ("by", str, "histogram, scatter: split, class or none (default split)"),
    "--model": ("model", str, "by-metric, importance, confusion, pr, calibration: the model (default: the first evaluated)"),
    "--bins": ("bins", int, "histogram (30), by-metric (4), importance (10), calibration (10): number of bins"),
    "--iou-threshold": ("iou_threshold", float, "by-metric, confusion, pr: IoU threshold (default 0.5)"),
    "--min-score": ("min_score", float, "by-metric (0.0), confusion (0.5): lowest prediction score counted"),
    "--target": ("target", str, "importance: recall or precision (default recall)"),
    "--top": ("top", int, "importance: metrics shown (default 15)"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    from ..plots import plots

    parser.add_argument("kind", choices=list(plots()), help="which plot")
    for option, (dest, kind, text) in OPTIONS.items():
        parser.add_argument(option, dest=dest, type=kind, default=None, help=text)
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                        help="any parameter of the plot kind (a plugin's plots take theirs this way)")
    parser.add_argument("--output", "-o", required=True, help="file to write: .png, .svg or .pdf")


def run(args: argparse.Namespace) -> int:
    from ..plots import draw, plots

    takes = {name for name, _, _ in plots()[args.kind].parameters}
    given = {dest: getattr(args, dest) for dest, _, _ in OPTIONS.values() if getattr(args, dest) is not None}
    given.update(view_params(args.param))
    ignored = sorted(set(given) - takes)
    if ignored:
        print(f"qmdb plot {args.kind}: ignoring {', '.join(ignored)} (it takes {', '.join(sorted(takes))})")
    with project(args.database, read_only=True) as con:
        path = draw(con, args.kind, args.output, **{k: v for k, v in given.items() if k in takes})
    print(f"wrote {path}")
    return 0
