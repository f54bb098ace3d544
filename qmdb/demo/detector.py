"""A small real detector for the scenes: contrast-map proposals, each classified as one of the
ten digits or background by a classifier trained the R-CNN way on scenes of its own.

Its training scenes are rendered like the demo's but from the other half of the digits and
other random crops, so it never sees the evaluated images. It is deliberately simple: it
misses dark, blurred and tiny digits and fires on digit-like texture, which is what the
evaluation views are there to show.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from tqdm import tqdm

from . import proposals, scenes, sources, spec

MODEL = "detector"
RESULTS = "detector_results.json"
TRAIN_SCENES = 80
TRAIN_DIGITS = (8, 14)          # digits per training scene: each training digit is seen about once
JITTERS = 6                     # jittered copies of each true box among the positives
BACKGROUND_RATIO = 20           # at most this many background samples per positive
BACKGROUND = 10                 # class index of "no digit"
BACKGROUND_PRIOR = 0.8          # most proposals are texture, not digits
MIN_SCORE = 0.5
MAX_PER_IMAGE = 30


def _gray(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def jitter(boxes: np.ndarray, rng: np.random.Generator, copies: int) -> np.ndarray:
    """`copies` randomly shifted (±8%) and scaled (0.9–1.12×) versions of each box."""
    b = np.repeat(boxes.astype(float), copies, 0)
    scale = rng.uniform(0.9, 1.12, len(b))
    w, h = np.maximum(b[:, 2] * scale, 2), np.maximum(b[:, 3] * scale, 4)
    cx = b[:, 0] + b[:, 2] / 2 + rng.uniform(-0.08, 0.08, len(b)) * b[:, 2]
    cy = b[:, 1] + b[:, 3] / 2 + rng.uniform(-0.08, 0.08, len(b)) * b[:, 3]
    return np.rint(np.stack([cx - w / 2, cy - h / 2, w, h], 1)).astype(np.int64)


def mine(gray: np.ndarray, truth: np.ndarray, classes: np.ndarray, polarity: np.ndarray,
         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Training samples of one scene: proposals that hit a digit (IoU ≥ 0.6) take its class, those
    touching none (IoU < 0.2) are background, and jittered copies of each true box are positives."""
    boxes, signs = proposals.propose(gray)
    labels = np.full(len(boxes), BACKGROUND)
    if len(truth) and len(boxes):
        overlap = proposals.iou(boxes, truth)
        best, top = overlap.argmax(1), overlap.max(1)
        labels = np.where(top >= 0.6, classes[best], np.where(top >= 0.2, -1, BACKGROUND))
    keep = labels >= 0
    x = np.concatenate([proposals.features(gray, boxes[keep], signs[keep]),
                        proposals.features(gray, jitter(truth, rng, JITTERS), np.repeat(polarity, JITTERS))])
    return x, np.concatenate([labels[keep], np.repeat(classes, JITTERS)])


def train(rng: np.random.Generator) -> LinearDiscriminantAnalysis:
    """Fit the proposal classifier on freshly rendered training scenes (even-numbered digits)."""
    images, targets = sources.digits()
    pool, pool_targets = images[0::2], targets[0::2]
    xs, ys = [], []
    for seed in tqdm(rng.spawn(TRAIN_SCENES), desc="detector: training scenes", unit="img", leave=False):
        bgr, _, boxes = scenes.render(seed, pool, pool_targets, TRAIN_DIGITS)
        truth = np.array([[b["x"], b["y"], b["w"], b["h"]] for b in boxes], dtype=np.int64).reshape(-1, 4)
        x, y = mine(_gray(bgr), truth, np.array([b["class"] for b in boxes], dtype=int),
                    np.array([b["polarity"] for b in boxes], dtype=int), seed)
        xs.append(x)
        ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    background = np.flatnonzero(y == BACKGROUND)
    surplus = len(background) - BACKGROUND_RATIO * int((y != BACKGROUND).sum())
    if surplus > 0:                                      # keep the classes roughly balanced
        drop = rng.choice(background, surplus, replace=False)
        x, y = np.delete(x, drop, 0), np.delete(y, drop)
    priors = np.r_[np.full(BACKGROUND, (1 - BACKGROUND_PRIOR) / BACKGROUND), BACKGROUND_PRIOR]
    return LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto", priors=priors).fit(proposals.describe(x), y)


def detect(model: LinearDiscriminantAnalysis, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (x, y, w, h), digit classes and scores (the class's probability) on one image."""
    gray = _gray(bgr)
    boxes, polarity = proposals.propose(gray)
    if not len(boxes):
        return np.zeros((0, 4)), np.zeros(0, int), np.zeros(0)
    probs = model.predict_proba(proposals.describe(proposals.features(gray, boxes, polarity)))
    digit = probs[:, :BACKGROUND].argmax(1)
    score = probs[np.arange(len(probs)), digit]
    keep = np.flatnonzero(score >= MIN_SCORE)
    keep = keep[proposals.nms(boxes[keep], score[keep], 0.3)][:MAX_PER_IMAGE]
    return boxes[keep], digit[keep], score[keep]


def run(out: Path, rng: np.random.Generator) -> Path:
    """Train, detect on every image the scenes' COCO file lists, write COCO results JSON."""
    model = train(rng)
    document = json.loads((out / "scenes_coco.json").read_text())
    root = out / spec.SCENES_DATASET
    results = []
    for image in tqdm(document["images"], desc="detector: detecting", unit="img", leave=False):
        bgr = cv2.imread(str(root / image["file_name"]), cv2.IMREAD_COLOR)
        if bgr is None:                      # an unreadable file: nothing to detect on
            continue
        boxes, digits, scores = detect(model, bgr)
        results += [{"image_id": image["id"], "category_id": int(d) + 1, "bbox": [float(v) for v in b],
                     "score": round(float(s), 4)} for b, d, s in zip(boxes, digits, scores)]
    target = out / RESULTS
    target.write_text(json.dumps(results))
    return target
