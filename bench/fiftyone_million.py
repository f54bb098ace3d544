"""The steps of bench/million.py run through FiftyOne (its own embedded MongoDB), on the same synthetic data.

    FO=/path/to/fiftyone-venv/bin/python
    $FO bench/fiftyone_million.py --step import --size 100000     # one step, one process
    python bench/million.py --size 100000 --fiftyone $FO          # both tools, side by side

FiftyOne and qmdb do not share an environment (FiftyOne pins its own web stack), so this file
imports only FiftyOne, numpy, pyarrow and bench/synth_million.py, and is run with the Python of
a virtualenv holding `pip install fiftyone`. FiftyOne starts its own `mongod` unless
`FIFTYONE_DATABASE_URI` names one (where fiftyone-db cannot download its binary, a
`mongod` 6.0 started by hand serves: see the README's benchmark section).

Each step does what a FiftyOne user does for the same job, with FiftyOne's defaults:

- import: `fo.Dataset.from_dir(dataset_type=COCODetectionDataset)` on the COCO file (the
  image files are zero-byte placeholders: FiftyOne's importer lists the folder; no pixel is read).
- eval: the labels imported as above, the predictions added as `fo.Detections` from the
  same Parquet, then `evaluate_detections(method="coco", compute_mAP=True)`.
- index: `fiftyone.brain.compute_similarity` (sklearn backend, precomputed embeddings),
  recall@10 of the same 300 perturbed queries, queries/s one at a time (`sort_by_similarity`).
- neighbors: `fiftyone.brain.compute_near_duplicates` (threshold 0.2, its default) over the
  precomputed embeddings: every vector's neighbours.
- views: FP detections counted through `filter_labels`, and a 50-sample page of the dataset
  sorted by box count at 40 random depths (p95).

Peak memory is this process's maximum resident set plus the resident set of `mongod` at the
end of the step (MongoDB's cache grows with the data and does not shrink).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import synth_million as synth  # noqa: E402

os.environ.setdefault("FIFTYONE_DO_NOT_TRACK", "true")
os.environ.setdefault("FIFTYONE_DATABASE_VALIDATION", "false")
STEPS = ("import", "index", "neighbors", "eval", "views")


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def mongod_gib() -> float:
    """Resident memory of the mongod processes on this machine (0 where psutil is missing)."""
    try:
        import psutil
    except ImportError:
        return 0.0
    return sum(p.info["memory_info"].rss for p in psutil.process_iter(["name", "memory_info"])
               if p.info["name"] == "mongod" and p.info["memory_info"]) / 2**30


def placeholders(n: int, seed: int) -> Path:
    """A folder of zero-byte files named as the COCO file's images (FiftyOne's importer lists it)."""
    folder = synth.CACHE / f"fiftyone-files-{n}-s{seed}"
    done = folder / ".complete"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(1, n + 1):
            (folder / f"{i:07d}.jpg").touch()
        done.touch()
    return folder


def _dataset(name: str):
    import fiftyone as fo

    if fo.dataset_exists(name):
        fo.delete_dataset(name)
    return name


def _import(n: int, seed: int, name: str):
    import fiftyone as fo

    return fo.Dataset.from_dir(dataset_type=fo.types.COCODetectionDataset, data_path=str(placeholders(n, seed)),
                               labels_path=str(synth.coco_json(n, seed)), label_types=["detections"],
                               label_field="gt", name=_dataset(name), progress=False)


def step_import(args) -> dict:
    start = time.perf_counter()
    ds = _import(args.size, args.seed, f"qmdb-bench-import-{args.size}")
    seconds = time.perf_counter() - start
    boxes = ds.count("gt.detections")
    ds.delete()
    return {"seconds": seconds, "rate": boxes / seconds,
            "measured": f"{args.size:,} images, {boxes:,} boxes: {seconds:,.1f} s, {boxes / seconds:,.0f} boxes/s"}


def _eval_dataset(args):
    import fiftyone as fo
    import pyarrow.parquet as pq

    name = f"qmdb-bench-eval-{args.size}"
    if fo.dataset_exists(name) and not args.reload:
        ds = fo.load_dataset(name)
        if ds.has_field("pred"):       # a complete earlier load (an interrupted one is made again)
            return ds, 0.0
    start = time.perf_counter()
    ds = _import(args.size, args.seed, name)
    ds.persistent = True
    _, preds_path = synth.detections(args.size, args.seed)
    preds = pq.read_table(preds_path).sort_by("image_id")
    image_id = preds["image_id"].to_numpy()
    label = np.char.add("class", np.char.zfill(preds["class_id"].to_numpy().astype(str), 2))
    score = preds["score"].to_numpy()
    bounds = np.searchsorted(image_id, np.arange(1, args.size + 2))
    files, sample_ids, widths, heights = ds.values(["filepath", "id", "metadata.width", "metadata.height"])
    order = np.argsort([int(Path(f).stem) for f in files])           # files are named by image id
    sample_ids = [sample_ids[i] for i in order]
    size = np.array([widths, heights], float).T[order][image_id - 1]  # FiftyOne's boxes are relative to the image
    box = np.column_stack([preds[c].to_numpy() for c in ("x", "y", "w", "h")]) / np.tile(size, 2)
    detections = [fo.Detections(detections=[fo.Detection(label=str(label[j]), bounding_box=list(box[j]),
                                                         confidence=float(score[j])) for j in range(a, b)])
                  for a, b in zip(bounds[:-1], bounds[1:])]
    ds.set_values("pred", dict(zip(sample_ids, detections)), key_field="id")
    return ds, time.perf_counter() - start


def step_eval(args) -> dict:
    ds, load_s = _eval_dataset(args)
    start = time.perf_counter()
    results = ds.evaluate_detections("pred", gt_field="gt", method="coco", compute_mAP=True, eval_key="eval",
                                     progress=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "ap": results.mAP(),
            "measured": f"{args.size:,} images, {ds.count('gt.detections'):,} labels, {ds.count('pred.detections'):,} "
                        f"predictions: evaluate_detections {seconds:,.0f} s (loading {load_s:,.0f} s), mAP {results.mAP():.4f}"}


def _vector_dataset(n: int):
    import fiftyone as fo

    ds = fo.Dataset(_dataset(f"qmdb-bench-vectors-{n}"))
    ds.add_samples([fo.Sample(filepath=f"/placeholder/{i:07d}.jpg") for i in range(1, n + 1)], progress=False)
    return ds


def step_index(args) -> dict:
    import fiftyone.brain as fob

    from million import _queries, _recall, _truth  # the same queries and truth as qmdb's run

    data = np.ascontiguousarray(synth.vectors(args.size, seed=args.seed))
    queries = _queries(data)
    truth = _truth(data, queries)
    ds = _vector_dataset(args.size)
    start = time.perf_counter()
    index = fob.compute_similarity(ds, embeddings=data, backend="sklearn", brain_key="sim", progress=False)
    build_s = time.perf_counter() - start
    position = {sid: i for i, sid in enumerate(ds.values("id"))}
    start = time.perf_counter()
    found = np.array([[position[s] for s in index.sort_by_similarity(q, k=10).values("id")] for q in queries])
    qps = len(queries) / (time.perf_counter() - start)
    rec = _recall(found, truth)
    ds.delete()
    return {"build_s": build_s, "qps": qps, "recall": rec,
            "measured": f"{args.size:,} × {data.shape[1]}: compute_similarity {build_s:,.1f} s, recall@10 {rec:.4f}, "
                        f"{qps:,.1f} q/s (sort_by_similarity, one query at a time)"}


def step_neighbors(args) -> dict:
    import fiftyone.brain as fob

    data = np.ascontiguousarray(synth.vectors(args.size, seed=args.seed))
    ds = _vector_dataset(args.size)
    start = time.perf_counter()
    index = fob.compute_near_duplicates(ds, embeddings=data, progress=False)
    seconds = time.perf_counter() - start
    pairs = len(index.neighbors_map)
    ds.delete()
    return {"seconds": seconds, "measured": f"{args.size:,} vectors: compute_near_duplicates {seconds:,.0f} s "
                                            f"({pairs:,} images with near duplicates at its default threshold 0.2)"}


def step_views(args) -> dict:
    import fiftyone as fo
    from fiftyone import ViewField as F

    name = f"qmdb-bench-eval-{args.size}"
    if not fo.dataset_exists(name):
        raise SystemExit(f"run --step eval --size {args.size} first (the views read its dataset)")
    ds = fo.load_dataset(name)
    start = time.perf_counter()
    fp = ds.filter_labels("pred", F("eval") == "fp").count("pred.detections")
    count_s = time.perf_counter() - start
    sorted_view = ds.sort_by(F("gt.detections").length(), reverse=True)
    rng = np.random.default_rng(0)
    pages = []
    for offset in rng.integers(0, max(args.size - 50, 1), 40):
        start = time.perf_counter()
        sorted_view.skip(int(offset)).limit(50).values("id")
        pages.append(time.perf_counter() - start)
    p95 = float(np.percentile(pages, 95))
    return {"times": {"filter_labels fp count": count_s}, "p95": p95,
            "measured": f"{args.size:,} images: false positives through filter_labels {count_s:.2f} s ({fp:,}); "
                        f"page sorted by box count p95 {p95 * 1000:,.0f} ms"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step", choices=STEPS, required=True)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reload", action="store_true", help="eval: rebuild the persistent dataset")
    args = parser.parse_args()
    result = globals()[f"step_{args.step}"](args)
    result["peak_gib"] = peak_gib()
    result["mongod_gib"] = mongod_gib()
    print("RESULT " + json.dumps(result, default=str))


if __name__ == "__main__":
    main()
