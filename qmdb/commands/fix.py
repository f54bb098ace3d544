"""qmdb fix: accept (or reject) the changes a label-error view suggests, filtered, as one batch of
label versions; --dry-run prints what would change."""

import argparse
import getpass

from ..database import project
from ..history.fix import SUGGESTIONS, fix
from ..output import FORMATS, write
from . import COMMANDS
from .arguments import table_options, view_params

NAME = "fix"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("--view", required=True, choices=tuple(SUGGESTIONS), help="the view whose suggestions to take")
    parser.add_argument("--accept", help="what to accept: " + ", ".join(
        f"{s.accept} ({view})" for view, s in SUGGESTIONS.items()) + " (default: what the view suggests)")
    parser.add_argument("--reject", action="store_true", help="tag the items 'rejected' instead: hide_reviewed hides them")
    parser.add_argument("--where", help="an SQL condition on the view's columns, e.g. \"class = '3'\"")
    parser.add_argument("--min-score", type=float, metavar="S", help="only suggestions at least this confident (0-1)")
    parser.add_argument("--tag", help="only items with this tag")
    parser.add_argument("--limit", type=int, metavar="N", help="at most N suggestions, most confident first")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="a view parameter")
    parser.add_argument("--author", help="who decided (default: the login name)")
    parser.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")
    parser.add_argument("--format", "-f", choices=FORMATS, default="table")
    parser.add_argument("--output", "-o", help="dry run: file to write (default: stdout)")
    table_options(parser)


def run(args: argparse.Namespace) -> int:
    import duckdb

    with project(args.database) as con:
        result = fix(con, args.view, args.accept, where=args.where, min_score=args.min_score, tag=args.tag,
                     params=view_params(args.param), limit=args.limit, author=args.author or getpass.getuser(),
                     dry_run=args.dry_run, reject=args.reject)
        if args.dry_run:
            write(duckdb.from_arrow(result.changes, connection=con), args.format, args.output,
                  max_rows=args.max_rows, max_width=args.max_width)
            print(f"dry run: {result.count} suggestion(s) of {args.view} would be "
                  f"{'rejected' if args.reject else 'applied'}; nothing changed")
        elif args.reject:
            print(f"rejected {result.rejected} suggestion(s) of {args.view}: tagged 'rejected'")
        else:
            print(f"applied {result.count} suggestion(s) of {args.view} as batch {result.batch_id} "
                  f"(undo: qmdb history undo {args.database} {result.batch_id})")
    return 0
