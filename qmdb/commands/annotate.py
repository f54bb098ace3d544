"""qmdb annotate: send a selection to CVAT or Label Studio (`send`), load the tool's export as corrections (`load`)."""

import argparse

from .. import annotate
from ..annotate.images import MODES
from ..database import project
from ..errors import QmdbError
from . import COMMANDS
from .arguments import view_params

NAME = "annotate"
HELP = COMMANDS[NAME]
TOOLS = {"cvat": annotate.export_cvat, "labelstudio": annotate.export_labelstudio}


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    send = actions.add_parser("send", help="write a CVAT task or Label Studio tasks for a selection")
    send.add_argument("database", help="path of the .duckdb file")
    which = send.add_mutually_exclusive_group(required=True)
    which.add_argument("--query", "-q", help="SQL whose rows carry label_id or image_id")
    which.add_argument("--view", help="a view whose rows carry label_id or image_id")
    which.add_argument("--tag", help="the labels / images / predictions tagged with this")
    send.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="a view parameter")
    send.add_argument("--to", choices=tuple(TOOLS), required=True, help="the annotation tool")
    send.add_argument("--output", "-o", required=True, help="the task folder to write")
    send.add_argument("--images", choices=MODES, default="link",
                      help="link (absolute symlinks, default), copy, or url (served by qmdb serve at --url)")
    send.add_argument("--url", help="with --images url: the address of qmdb serve, e.g. http://localhost:8000")
    send.add_argument("--model", action="append", metavar="NAME",
                      help="labelstudio: add this model's predictions as pre-annotations (repeat; default every model)")
    send.add_argument("--owner", help="cvat: the task owner written into the file")
    load = actions.add_parser("load", help="apply a CVAT XML / COCO / Label Studio JSON export as label changes")
    load.add_argument("database", help="path of the .duckdb file")
    load.add_argument("file", help="the tool's export")
    load.add_argument("--format", "-f", choices=tuple(annotate.READERS), help="default: from the file's content")
    load.add_argument("--author", help="who made the changes where the file names nobody (default: the login name)")
    load.add_argument("--reason", help="why (kept with the batch in the label history)")
    load.add_argument("--dry-run", action="store_true", help="count the changes, apply nothing")


def run(args: argparse.Namespace) -> int:
    with project(args.database) as con:
        if args.action == "send":
            options = {"query": args.query, "view": args.view, "tag": args.tag,
                       "params": view_params(args.param) or None, "images": args.images, "url": args.url}
            if args.to == "labelstudio":
                options["models"] = args.model
            elif args.model:
                raise QmdbError("--model is an option of --to labelstudio (predictions as pre-annotations)")
            else:
                options["owner"] = args.owner
            print(TOOLS[args.to](con, args.output, **options))
        else:
            print(annotate.load_annotations(con, args.file, format=args.format, author=args.author,
                                            reason=args.reason, dry_run=args.dry_run))
    return 0
