"""The same boxes through pycocotools' COCOeval (or faster-coco-eval): the reference qmdb must equal.

Used by the tests and `bench/eval.py`; needs `pycocotools` (the `dev` extra) or
`faster-coco-eval` (the `bench` extra).
"""

from __future__ import annotations

import contextlib
import io

import numpy as np

from ..errors import MissingExtra
from .matching import Boxes

_BACKENDS = {"pycocotools": ("pycocotools.coco", "pycocotools.cocoeval", "dev"),
             "faster_coco_eval": ("faster_coco_eval.core.coco", "faster_coco_eval.core.faster_eval_api", "bench")}


def coco_dicts(gt: Boxes, dt: Boxes, image_ids: np.ndarray, n_classes: int) -> tuple[dict, list[dict]]:
    """A COCO ground-truth dict and a results list, in `order` order (COCO's list order)."""
    g = np.argsort(gt.order, kind="stable")
    d = np.argsort(dt.order, kind="stable")
    dataset = {
        "images": [{"id": int(i), "width": 0, "height": 0} for i in np.unique(image_ids)],
        "categories": [{"id": k + 1, "name": str(k)} for k in range(n_classes)],
        "annotations": [
            {"id": n + 1, "image_id": int(i), "category_id": int(c) + 1, "bbox": [float(v) for v in b],
             "area": float(a), "iscrowd": int(z)}
            for n, (i, c, b, a, z) in enumerate(zip(gt.image[g], gt.cls[g], gt.box[g], gt.area[g], gt.crowd[g]))
        ],
    }
    results = [{"image_id": int(i), "category_id": int(c) + 1, "bbox": [float(v) for v in b], "score": float(s)}
               for i, c, b, s in zip(dt.image[d], dt.cls[d], dt.box[d], dt.score[d])]
    return dataset, results


def timed_summary(evaluator) -> tuple[float, np.ndarray]:
    """Seconds of a COCOeval's evaluate + accumulate (what the benchmarks compare), then its 12 summary numbers, quietly."""
    import time

    with contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        evaluator.evaluate()
        evaluator.accumulate()
        seconds = time.perf_counter() - start
        evaluator.summarize()
    return seconds, np.array(evaluator.stats[:12], dtype=float)


def cocoeval(dataset: dict, results: list[dict], backend: str = "pycocotools", *, summarize: bool = True):
    """Run COCOeval (evaluate + accumulate, and summarize unless told not to) quietly; returns the evaluator."""
    coco_module, eval_module, extra = _BACKENDS[backend]
    try:
        coco_mod = __import__(coco_module, fromlist=["COCO"])
        eval_mod = __import__(eval_module, fromlist=["COCOeval"])
    except ImportError:
        raise MissingExtra(f"comparing with {backend}", extra) from None
    cls = getattr(eval_mod, "COCOeval_faster", None) or eval_mod.COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = coco_mod.COCO()
        gt.dataset = dataset
        gt.createIndex()
        dt = gt.loadRes(results) if results else coco_mod.COCO()
        if not results:
            dt.dataset = {"images": dataset["images"], "categories": dataset["categories"], "annotations": []}
            dt.createIndex()
        evaluator = cls(gt, dt, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        if summarize:
            evaluator.summarize()
    return evaluator


def tidecv_run(labels: list[tuple], preds: list[tuple], image_ids: list, *, pos: float = 0.5, bg: float = 0.1):
    """The same boxes through the `tidecv` package (the `bench` extra): returns (TIDE, its run).

    `labels` are (image, class, box, crowd) in list order, `preds` (image, class, score, box),
    `image_ids` in the order TIDE walks the images.
    """
    try:
        from tidecv import TIDE, Data
    except ImportError:
        raise MissingExtra("comparing with tidecv", "bench") from None
    gt, dt = Data("labels"), Data("predictions")
    for image in image_ids:
        gt.add_image(image, str(image))
    for image, cls, box, crowd in labels:
        (gt.add_ignore_region if crowd else gt.add_ground_truth)(image, cls, list(box))
    for image, cls, score, box in preds:
        dt.add_detection(image, cls, score, list(box))
    tide = TIDE(pos_threshold=pos, background_threshold=bg, mode=TIDE.BOX)
    run = tide.evaluate(gt, dt, name="predictions")
    return tide, run
