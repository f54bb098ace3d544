"""qmdb export: the images/labels a query, view or tag selects, as COCO JSON, a YOLO folder, a CVAT task, Label
Studio tasks, or a plugin's format."""

import argparse

from ..errors import QmdbError
from .. import plugins
from ..database import project
from ..annotate.images import MODES as ANNOTATE_MODES
from ..export import selection
from ..export.yolo import IMAGE_MODES
from . import COMMANDS
from .arguments import view_params

NAME = "export"
TAGGED = ("coco", "yolo", "cvat", "labelstudio")  # the formats that take `tag=` themselves
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--query", "-q", help="SQL whose rows carry label_id or image_id")
    which.add_argument("--view", help="a view whose rows carry label_id or image_id")
    which.add_argument("--tag", help="the labels (or images, predictions' images, with all their labels) tagged with this")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="a view parameter")
    parser.add_argument("--format", "-f", choices=list(plugins.formats("qmdb_export_formats")), required=True)
    parser.add_argument("--output", "-o", required=True, help="coco: the JSON file; yolo, cvat, labelstudio: the folder")
    parser.add_argument("--images", choices=(*IMAGE_MODES, *ANNOTATE_MODES), default=None,
                        help="yolo: symlink (default), copy or none; cvat, labelstudio: link (default), copy or url")
    parser.add_argument("--url", help="cvat, labelstudio with --images url: the address of qmdb serve")
    parser.add_argument("--segments", action="store_true",
                        help="yolo: write segmentation polygons (a mask-only label as its outer contour), not boxes")


def run(args: argparse.Namespace) -> int:
    params = view_params(args.param)
    options = {"query": args.query, "view": args.view, "params": params or None}
    with project(args.database) as con:
        if args.tag is not None and args.format in TAGGED:
            options["tag"] = args.tag
        elif args.tag is not None:  # a plugin's format takes the tag as the query selecting it
            options["query"] = selection.tag_query(con, args.tag)[0]
        if args.format == "yolo":
            options["images"] = {"link": "symlink", None: "symlink"}.get(args.images, args.images)
            options["segments"] = args.segments
        elif args.segments:
            raise QmdbError("--segments is an option of --format yolo (COCO exports carry masks always)")
        if args.format in ("cvat", "labelstudio"):
            options["images"] = args.images or "link"
            options["url"] = args.url
        elif args.url:
            raise QmdbError("--url is an option of --format cvat or labelstudio with --images url")
        report = plugins.formats("qmdb_export_formats")[args.format](con, args.output, **options)
    print(report)
    return 0
