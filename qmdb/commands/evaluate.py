"""qmdb evaluate: match a model's predictions to the labels; slice and compare the result."""

import argparse
import sys

from ..database import project
from ..output import FORMATS, write
from . import COMMANDS

NAME = "evaluate"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("--model", "-m", action="append", required=True,
                        help="the model (repeat to compare models on a slice)")
    parser.add_argument("--dataset", "-d", help="the dataset (default: the model's)")
    parser.add_argument("--iou-type", choices=("bbox", "segm", "keypoints"), default="bbox",
                        help="COCOeval's iouType: boxes (default), masks or keypoints (OKS)")
    parser.add_argument("--where", help="a slice: SQL condition over metrics and metadata, e.g. \"brightness < 0.2\"")
    parser.add_argument("--iou-threshold", type=float, default=0.5, help="slice: IoU threshold (default 0.5)")
    parser.add_argument("--min-score", type=float, default=0.0, help="slice: lowest counted score (default 0)")
    parser.add_argument("--reuse", action="store_true", help="slice/errors: use the stored matches, do not re-match")
    parser.add_argument("--errors", action="store_true",
                        help="TIDE's error breakdown (dAP per error type, as tidecv), on the --where slice or --by groups")
    parser.add_argument("--box-metrics", action="store_true",
                        help="measure the predicted boxes (pred_box_area, pred_brightness, ...) for --where slices")
    parser.add_argument("--by", help="errors: one breakdown per value of this SQL expression over images, e.g. camera")
    parser.add_argument("--format", "-f", choices=FORMATS, default="table")
    parser.add_argument("--output", "-o", help="slice: file to write (default: stdout)")
    parser.add_argument("--max-width", type=int, metavar="N", help="slice table width (default: the terminal's)")


def run(args: argparse.Namespace) -> int:
    from ..evaluation.run import evaluate

    # Matching boxes and writing the tables call none of qmdb's SQL functions: the file opens without them.
    boxes_only = args.iou_type == "bbox" and args.where is None and not (args.errors or args.box_metrics)
    with project(args.database, functions=not boxes_only) as con:
        for model in args.model:
            if not (args.reuse and (args.where is not None or args.errors)):
                report = evaluate(con, model, dataset=args.dataset, iou_type=args.iou_type,
                                  progress=sys.stderr.isatty())
                if args.where is None and not args.errors:
                    print(report)
        if args.box_metrics:
            from ..udfs.prediction_boxes import compute_prediction_metrics

            for model in args.model:
                compute_prediction_metrics(con, model)
        if args.errors:
            import pyarrow as pa

            from ..evaluation.errors import error_breakdown, find_errors

            for model in args.model:
                find_errors(con, model, dataset=args.dataset, iou_type=args.iou_type)
            parts = [error_breakdown(con, model, where=args.where, by=args.by, iou_type=args.iou_type).to_arrow_table()
                     for model in args.model]
            write(con.from_arrow(pa.concat_tables(parts)), args.format, args.output, max_width=args.max_width)
        elif args.where is not None:
            from ..evaluation.slices import slice

            write(slice(con, args.where, model_name=args.model, iou_threshold=args.iou_threshold,
                        min_score=args.min_score, iou_type=args.iou_type), args.format, args.output, max_width=args.max_width)
    return 0
