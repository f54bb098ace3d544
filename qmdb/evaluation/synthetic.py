"""Seeded, real-shaped detection cases for tests and `bench/eval.py`.

Ground-truth boxes with COCO-like sizes (log-normal, spanning small / medium /
large), a segmentation-like `area` below the box area, some crowd regions;
detections that a detector makes: jittered hits whose score rises with their
IoU, duplicates, class confusions, background false positives, misses. Scores
are float32-rounded, so ties occur as they do in real result files.

>>> gt, dt, images = detection_case(seed=0, n_images=20, boxes_per_image=5, n_classes=3)
>>> len(images), len(gt) > 0, len(dt) > 0
(20, True, True)
"""

from __future__ import annotations

import numpy as np

from .matching import Boxes


def detection_case(seed: int, n_images: int = 200, boxes_per_image: int = 10, n_classes: int = 10, *,
                   crowd_rate: float = 0.03, empty_rate: float = 0.05, only_predictions_rate: float = 0.05,
                   width: int = 640, height: int = 480) -> tuple[Boxes, Boxes, np.ndarray]:
    """Ground truths, detections and the image ids (images with no box included)."""
    rng = np.random.default_rng(seed)
    image_ids = np.arange(1, n_images + 1) * 3  # sparse ids, as real datasets have
    per_image = rng.poisson(boxes_per_image, n_images)
    per_image[rng.random(n_images) < empty_rate + only_predictions_rate] = 0
    n = int(per_image.sum())
    image = np.repeat(image_ids, per_image)
    cls = np.minimum(rng.zipf(1.6, n) - 1, n_classes - 1) if n_classes > 1 else np.zeros(n, dtype=np.int64)
    size = np.exp(rng.normal(np.log(45), 0.9, n))
    aspect = np.exp(rng.normal(0, 0.4, n))
    w = np.clip(size * aspect, 2, width)
    h = np.clip(size / aspect, 2, height)
    x = rng.random(n) * (width - w)
    y = rng.random(n) * (height - h)
    box = np.round(np.stack([x, y, w, h], 1), 2)
    crowd = rng.random(n) < crowd_rate
    area = np.round(box[:, 2] * box[:, 3] * rng.uniform(0.55, 1.0, n), 2)
    gt = Boxes(image=image, cls=cls, box=box, order=np.arange(n), area=area, crowd=crowd)

    # Hits: a jittered copy of most boxes, sometimes a duplicate, sometimes the wrong class.
    copies = np.concatenate([np.flatnonzero(rng.random(n) < 0.85), np.flatnonzero(rng.random(n) < 0.15)])
    m = len(copies)
    jitter = rng.normal(0, 0.12, (m, 4)) * np.stack([box[copies, 2], box[copies, 3]] * 2, 1)
    dbox = box[copies] + jitter
    dbox[:, 2:] = np.maximum(dbox[:, 2:], 1)
    dcls = np.where(rng.random(m) < 0.08, rng.integers(0, n_classes, m), cls[copies])
    quality = np.exp(-np.abs(jitter).sum(1) / (box[copies, 2] + box[copies, 3]) * 4)
    dscore = np.clip(quality * 0.8 + rng.normal(0, 0.15, m), 0.01, 1)
    # Background false positives, including on images that have no ground truth.
    f = int(n * 0.4) + 10
    fimage = rng.choice(image_ids, f)
    fs = np.exp(rng.normal(np.log(35), 0.8, f))
    fbox = np.stack([rng.random(f) * (width - 20), rng.random(f) * (height - 20), fs, fs * np.exp(rng.normal(0, .3, f))], 1)
    dt_box = np.round(np.concatenate([dbox, fbox]), 2)
    score = np.concatenate([dscore, rng.beta(1.2, 4, f)]).astype(np.float32).astype(float)
    score = np.round(score, 3)
    dimage = np.concatenate([image[copies], fimage])
    dcls_all = np.concatenate([dcls, rng.integers(0, n_classes, f)])
    shuffle = rng.permutation(len(dimage))
    dt = Boxes(image=dimage[shuffle], cls=dcls_all[shuffle], box=dt_box[shuffle], order=np.arange(len(dimage)),
               score=score[shuffle])
    return gt, dt, image_ids
