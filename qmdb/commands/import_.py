"""qmdb import: datasets, predictions and metadata into a project."""

import argparse

from ..database import project
from ..errors import QmdbError
from ..importers import dataset_formats, prediction_formats, import_dataset, import_metadata, import_predictions
from ..importers.annotators import import_annotator
from . import COMMANDS

NAME = "import"
HELP = COMMANDS[NAME]
USAGE = """
  qmdb import DB FORMAT SOURCE [--name N] [--root DIR] [--split S] [--strict]    FORMAT: coco yolo voc folders table …
  qmdb import DB FORMAT SOURCE --annotator NAME [--name N] [--root DIR]          one more annotator's labels of the same images
  qmdb import DB predictions FORMAT SOURCE --model M --dataset D [--columns C]   FORMAT: coco yolo probs …
  qmdb import DB metadata SOURCE --dataset D [--key path|image_id|source_id]"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.usage = USAGE
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("kind", help=f"{', '.join(dataset_formats())}, predictions or metadata")
    parser.add_argument("arguments", nargs="+", help="SOURCE, or FORMAT SOURCE for predictions")
    parser.add_argument("--name", help="dataset name (default: from the source)")
    parser.add_argument("--root", help="folder image paths are relative to")
    parser.add_argument("--split", help="split of every image, where the source does not say")
    parser.add_argument("--model", help="predictions: the model's name")
    parser.add_argument("--dataset", help="predictions, metadata: the dataset")
    parser.add_argument("--key", default="path", help="metadata: the image key column (path, image_id, source_id)")
    parser.add_argument("--strict", action="store_true",
                        help="datasets: refuse a box reaching more than 1 pixel outside its image (default: "
                             "import it as written; errors_out_of_bounds lists it)")
    parser.add_argument("--annotator", help="datasets: the file is this annotator's labels of images already in the "
                                            "dataset, kept beside the other annotators' (source ids NAME:<id>)")
    parser.add_argument("--columns", help="predictions probs: which columns are which classes: a prefix (p for "
                                          "p0 … p9), a comma-separated list of classes, or a .json/.csv/.txt file")


def _one(args: argparse.Namespace, count: int, what: str) -> list[str]:
    if len(args.arguments) != count:
        raise QmdbError(f"qmdb import {args.kind} takes {what}; usage:{USAGE}")
    return args.arguments


def run(args: argparse.Namespace) -> int:
    with project(args.database, create=True) as con:  # importing may start a project
        return _run(con, args)


def _run(con, args: argparse.Namespace) -> int:
    if args.kind == "predictions":
        fmt, source = _one(args, 2, "FORMAT SOURCE")
        if fmt not in prediction_formats() or not args.model or not args.dataset:
            raise QmdbError(f"qmdb import predictions needs a FORMAT ({', '.join(prediction_formats())}), --model and --dataset")
        report = import_predictions(con, fmt, source, model=args.model, dataset=args.dataset, root=args.root,
                                    columns=args.columns)
    elif args.kind == "metadata":
        (source,) = _one(args, 1, "one SOURCE")
        if not args.dataset:
            raise QmdbError("qmdb import metadata needs --dataset")
        report = import_metadata(con, source, dataset=args.dataset, key=args.key)
    elif args.kind in dataset_formats() and args.annotator:
        (source,) = _one(args, 1, "one SOURCE")
        report = import_annotator(con, args.kind, source, annotator=args.annotator, name=args.name, root=args.root)
    elif args.kind in dataset_formats():
        (source,) = _one(args, 1, "one SOURCE")
        report = import_dataset(con, args.kind, source, name=args.name, root=args.root, split=args.split,
                                strict=args.strict)
    else:
        raise QmdbError(f"unknown import '{args.kind}'; choose {', '.join(dataset_formats())}, predictions or metadata")
    print(report)
    return 0
