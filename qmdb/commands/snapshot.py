"""qmdb snapshot: freeze a view's result in the file; list, show and diff snapshots."""

import argparse

from .. import snapshots
from ..database import project
from ..errors import QmdbError
from ..output import FORMATS, table_width, write
from . import COMMANDS
from .arguments import view_params

NAME = "snapshot"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("view", nargs="?", help="the view to freeze (omit with --list, --show, --diff, --delete)")
    parser.add_argument("--name", help="the snapshot's name")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="a view parameter")
    parser.add_argument("--note", help="why this snapshot was taken")
    parser.add_argument("--key", help="comma-separated key columns for diffs (default: the first unique id column)")
    parser.add_argument("--replace", action="store_true", help="overwrite a snapshot of that name")
    parser.add_argument("--list", action="store_true", help="list snapshots")
    parser.add_argument("--show", metavar="NAME", help="print a snapshot's rows")
    parser.add_argument("--diff", nargs=2, metavar=("BEFORE", "AFTER"), help="rows that entered, left or changed")
    parser.add_argument("--delete", metavar="NAME", help="delete a snapshot")
    parser.add_argument("--format", "-f", choices=FORMATS, default="table")
    parser.add_argument("--output", "-o", help="file to write (default: stdout)")
    parser.add_argument("--max-width", type=int, metavar="N", help="table width (default: the terminal's)")


def run(args: argparse.Namespace) -> int:
    with project(args.database) as con:
        _act(con, args)
    return 0


def _act(con, args: argparse.Namespace) -> None:
    if args.list:
        con.sql("SELECT name, view, parameters, row_count AS rows, key_columns, created_at, note "
                "FROM snapshots ORDER BY created_at, name").show(max_rows=500, max_width=table_width(args.max_width))
    elif args.show:
        write(snapshots.rows(con, args.show), args.format, args.output, max_width=args.max_width)
    elif args.diff:
        write(snapshots.diff_snapshots(con, *args.diff), args.format, args.output, max_width=args.max_width)
    elif args.delete:
        snapshots.delete(con, args.delete)
        print(f"deleted snapshot {args.delete}")
    else:
        if not args.view or not args.name:
            raise QmdbError("'qmdb snapshot DB VIEW --name NAME' needs a view and a name (or --list/--show/--diff)")
        key = [k.strip() for k in args.key.split(",")] if args.key else None
        taken = snapshots.snapshot(con, args.view, args.name, params=view_params(args.param), note=args.note,
                                   key=key, replace=args.replace)
        print(f"snapshot {taken.name}: {taken.rows} rows of view {taken.view} "
              f"(key: {', '.join(taken.key_columns) or 'whole row'})")
