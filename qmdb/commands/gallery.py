"""qmdb gallery: a view's or a query's rows as one self-contained HTML file (thumbnails embedded)."""

import argparse

from ..database import project
from ..errors import ViewError
from ..gallery import export_gallery
from . import COMMANDS

NAME = "gallery"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--view", help="the view to show")
    what.add_argument("--query", help="a SELECT whose rows have image_id, label_id or prediction_id")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="a view parameter")
    parser.add_argument("--limit", type=int, default=200, help="rows to include (default 200)")
    parser.add_argument("--min-score", type=float, default=0.5, help="draw predictions scoring at least this (default 0.5)")
    parser.add_argument("--model", help="draw only this model's predictions (default: every model)")
    parser.add_argument("--thumb-size", type=int, default=320, help="longest side of image thumbnails, px")
    parser.add_argument("--title", help="the page's title")
    parser.add_argument("--output", "-o", required=True, help="the .html file to write")


def run(args: argparse.Namespace) -> int:
    params = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep:
            raise ViewError(f"parameter '{item}' must be NAME=VALUE")
        params[key.strip()] = value
    with project(args.database, read_only=True) as con:
        counts = export_gallery(con, args.output, view=args.view, params=params, sql=args.query, limit=args.limit,
                                min_score=args.min_score, model=args.model, thumb_size=args.thumb_size,
                                title=args.title)
    more = f" (the first {args.limit}; --limit shows more)" if counts["more"] else ""
    print(f"wrote {args.output}: {counts['rows']} rows{more}, {counts['cards']} cards, "
          f"{counts['thumbnails']} images embedded, {counts['unreadable']} unreadable")
    return 0
