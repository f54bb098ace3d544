"""qmdb tag: record human decisions (reviewed, fixed, rejected, …) on images, labels or predictions, and list them."""

import argparse
import getpass

from ..database import project
from ..transaction import transaction
from ..output import FORMATS, write
from ..tags import ITEMS, tag
from . import COMMANDS

NAME = "tag"
HELP = COMMANDS[NAME]
DECISIONS = ("reviewed", "fixed", "rejected")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("item_type", nargs="?", choices=tuple(ITEMS), help="what the ids are (omit to list every tag)")
    parser.add_argument("ids", nargs="*", type=int, metavar="ID", help="ids to tag with --tag (without --tag: list their tags)")
    parser.add_argument("--tag", "-t", help=f"the tag; {', '.join(DECISIONS)} hide the item from the views' "
                                            "hide_reviewed results; any other word is kept as is")
    parser.add_argument("--author", default=None, help="who decided (default: the login name)")
    parser.add_argument("--note", default=None, help="free text: why")
    parser.add_argument("--format", "-f", choices=FORMATS, default="table", help="listing format")
    parser.add_argument("--output", "-o", help="listing: file to write (default: stdout)")


def _list(con, args: argparse.Namespace) -> None:
    relation = con.sql(
        "SELECT tag_id, item_type, item_id, tag, author, note, created_at FROM tags "
        "WHERE ($item_type IS NULL OR item_type = $item_type) AND ($tag IS NULL OR tag = $tag) "
        "AND (len($ids) = 0 OR list_contains($ids, item_id)) ORDER BY tag_id",
        params={"item_type": args.item_type, "tag": args.tag, "ids": list(args.ids)},
    )
    write(relation, args.format, args.output)


def _add(con, args: argparse.Namespace) -> None:
    author = args.author or getpass.getuser()
    with transaction(con):
        for item_id in args.ids:  # a handful of ids typed by a person; each is checked to exist
            tag(con, args.item_type, item_id, args.tag, author=author, note=args.note)
    print(f"tagged {len(args.ids)} {args.item_type}(s) '{args.tag}' by {author}")


def run(args: argparse.Namespace) -> int:
    with project(args.database) as con:
        if args.ids and args.tag:
            _add(con, args)
        else:
            _list(con, args)
    return 0
