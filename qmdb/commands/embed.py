"""qmdb embed: compute image (and box) embeddings, update the vector index and the neighbour graph."""

import argparse

from ..database import close, connect
from . import COMMANDS

NAME = "embed"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("--model", default="builtin",
                        help="'builtin' (offline descriptor builtin-hog-v1, the default) or an open_clip "
                             "architecture name, hf-hub:ORG/REPO, or a model-config .json")
    parser.add_argument("--weights", help="open_clip: local weights file (state dict or checkpoint)")
    parser.add_argument("--pretrained", metavar="TAG",
                        help="open_clip: a pretrained tag of the architecture (e.g. laion2b_s34b_b79k), "
                             "loaded through open_clip's cache (downloaded when there is a network)")
    parser.add_argument("--cache-dir", help="open_clip: the Hugging Face hub cache folder to read "
                                            "(default $HF_HUB_CACHE or ~/.cache/huggingface/hub)")
    parser.add_argument("--name", help="open_clip: model name to store (default open_clip:ARCH:WEIGHTS-STEM "
                                       "or open_clip:ARCH:TAG)")
    parser.add_argument("--labels", action="store_true", help="also embed label and prediction boxes (crops)")
    parser.add_argument("--dataset", help="only this dataset's images")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="open_clip: where to run (default: cuda if any)")
    parser.add_argument("--neighbors", type=int, metavar="K", help="materialize the K nearest neighbours of each item")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="'ray': run on Ray Data ($RAY_ADDRESS or a local Ray; pip install 'qmdb[ray]')")
    parser.add_argument("--manifest", metavar="FILE.parquet|FILE.csv",
                        help="register the images this file names (column 'uri' or 'path'; optional 'image_id', "
                             "'split') in dataset --dataset (default: the file's name), then embed")


def run(args: argparse.Namespace) -> int:
    from ..embeddings import embed, get_embedder

    extra = {}
    if args.engine == "ray":
        from ..scale import embed_ray as embed

        extra["manifest"] = args.manifest
    con = connect(args.database, create=bool(args.manifest))  # a manifest registers images: it may start a project
    try:
        if args.manifest and args.engine != "ray":
            from ..scale import register_manifest

            args.dataset = register_manifest(con, args.manifest, args.dataset)[0]
        model = args.model
        if args.pretrained or args.cache_dir or args.model.startswith("hf-hub:"):
            model = get_embedder(args.model, args.weights, device=args.device, name=args.name,
                                 pretrained=args.pretrained, cache_dir=args.cache_dir)
        report = embed(con, model, weights=args.weights, name=args.name, labels=args.labels,
                       dataset=args.dataset, device=args.device, neighbors=args.neighbors,
                       progress=not args.no_progress, **extra)
        if args.engine != "ray":
            from ..embeddings.refresh import refresh

            for what, rows in refresh(con, report.model).items():
                print(f"{what}: recomputed from the changed vectors ({rows} rows)")
    finally:
        close(con)
    print(report)
    return 0
