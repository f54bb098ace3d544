"""qmdb export: the images/labels a query or view selects, as COCO JSON, a YOLO folder, or a plugin's format."""

import argparse

from ..errors import QmdbError
from .. import plugins
from ..database import project
from ..export.yolo import IMAGE_MODES
from .arguments import view_params

NAME = "export"
HELP = "export the images/labels a query or view selects as COCO JSON or a YOLO folder"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--query", "-q", help="SQL whose rows carry label_id or image_id")
    which.add_argument("--view", help="a view whose rows carry label_id or image_id")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="a view parameter")
    parser.add_argument("--format", "-f", choices=list(plugins.formats("qmdb_export_formats")), required=True)
    parser.add_argument("--output", "-o", required=True, help="coco: the JSON file; yolo: the folder")
    parser.add_argument("--images", choices=IMAGE_MODES, default="symlink", help="yolo: link, copy or skip image files")
    parser.add_argument("--segments", action="store_true",
                        help="yolo: write segmentation polygons (a mask-only label as its outer contour), not boxes")


def run(args: argparse.Namespace) -> int:
    params = view_params(args.param)
    options = {"query": args.query, "view": args.view, "params": params or None}
    with project(args.database) as con:
        if args.format == "yolo":
            options["images"] = args.images
            options["segments"] = args.segments
        elif args.segments:
            raise QmdbError("--segments is an option of --format yolo (COCO exports carry masks always)")
        report = plugins.formats("qmdb_export_formats")[args.format](con, args.output, **options)
    print(report)
    return 0
