"""A small real detector for the scenes: contrast-map proposals, each scored in two stages trained
the R-CNN way on scenes of its own (a shrinkage LDA for "a digit or texture", and a second one,
fitted on the digits alone, for which digit, so that texture's spread does not blur the
digits' shared covariance); the proposals overlapping each place vote on its digit, and the
place is reported once per each of its two most-voted digits (as a two-stage detector reports
a box per class it scores), with scores calibrated (logistic regression on the classifier's
output, the vote and how many proposals cast it) on further scenes of its own, so that a score
is the probability that the detection is right.

Its scenes are rendered like the demo's but from the other half of the digits and other random
crops, so it never sees the evaluated images: three quarters of that half train the classifier,
the last quarter makes the calibration scenes. It is still a small model trained in seconds: it
misses some faint, blurred and broken digits, confuses some digits, and fires on digit-like
texture, at scores that say how often it is right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from .. import images
from ..uris import UnreadableError, read_bytes
from . import proposals, scenes, sources, spec

MODEL = "detector"
RESULTS = "detector_results.json"
TRAIN_SCENES = 80
CALIBRATION_SCENES = 50
TRAIN_DIGITS = (8, 14)          # digits per training scene: each training digit is seen about once
JITTERS = 6                     # jittered copies of each true box among the positives
BACKGROUND_RATIO = 8            # at most this many background samples per positive
BACKGROUND = 10                 # class index of "no digit"
BACKGROUND_PRIOR = 0.5          # the objectness stage's prior that a proposal is texture, not a digit
CANDIDATE_SCORE = 0.02          # proposals whose best digit is less probable than this are dropped
NMS_IOU = 0.45                  # digits do not overlap: one detection per place
VOTE_IOU = 0.5                  # proposals overlapping a detection this much vote on its class
MIN_SCORE = 0.02                # calibrated: detections less likely right than this are not reported
MAX_PER_IMAGE = 60             # places per image
HYPOTHESES = 2                  # digits reported per place, most voted first
EVIDENCE = 6                    # columns of the calibrator's evidence


@dataclass
class TwoStage:
    """P(digit c) = P(some digit) · P(c | some digit), as the columns of one probability matrix
    (the ten digits, then background), from an objectness model and a digit model."""

    objectness: LinearDiscriminantAnalysis
    digits: LinearDiscriminantAnalysis

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        some = self.objectness.predict_proba(x)[:, 1]
        return np.column_stack([self.digits.predict_proba(x) * some[:, None], 1 - some])


@dataclass
class Detector:
    """The proposal classifier and the calibrator that turns its output into P(right detection)."""

    classifier: TwoStage
    calibrator: LogisticRegression | None = None


def _gray(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def _truth(boxes: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A rendered scene's true boxes (n, 4), classes and ink polarities."""
    return (np.array([[b["x"], b["y"], b["w"], b["h"]] for b in boxes], dtype=np.int64).reshape(-1, 4),
            np.array([b["class"] for b in boxes], dtype=int), np.array([b["polarity"] for b in boxes], dtype=int))


def _scene(seed: np.random.Generator, pool: np.ndarray, pool_targets: np.ndarray,
           count: tuple[int, int] = spec.DIGITS_PER_SCENE) -> tuple[np.ndarray, list[dict]]:
    """A rendered scene as the detector will see it (gray, after the JPEG round trip the demo's
    files make), with its true boxes."""
    bgr, conditions, boxes = scenes.render(seed, pool, pool_targets, count)
    _, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, conditions["jpeg_quality"]])
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE), boxes


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


def pools() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(training digits, calibration digits): the even half of the digits, split 3:1 (the demo's
    scenes are made of the odd half)."""
    images, targets = sources.digits()
    even, even_targets = images[0::2], targets[0::2]
    calibration = np.arange(len(even)) % 4 == 3
    return (even[~calibration], even_targets[~calibration]), (even[calibration], even_targets[calibration])


def train(rng: np.random.Generator) -> TwoStage:
    """Fit the proposal classifier on freshly rendered training scenes."""
    (pool, pool_targets), _ = pools()
    xs, ys = [], []
    for seed in tqdm(rng.spawn(TRAIN_SCENES), desc="detector: training scenes", unit="img", leave=False):
        gray, boxes = _scene(seed, pool, pool_targets, TRAIN_DIGITS)
        truth, classes, polarity = _truth(boxes)
        x, y = mine(gray, truth, classes, polarity, seed)
        xs.append(x)
        ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    background = np.flatnonzero(y == BACKGROUND)
    surplus = len(background) - BACKGROUND_RATIO * int((y != BACKGROUND).sum())
    if surplus > 0:                                      # keep the classes roughly balanced
        drop = rng.choice(background, surplus, replace=False)
        x, y = np.delete(x, drop, 0), np.delete(y, drop)
    x = proposals.describe(x)
    digit = y != BACKGROUND
    objectness = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto",
                                            priors=[BACKGROUND_PRIOR, 1 - BACKGROUND_PRIOR]).fit(x, digit)
    digits = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(x[digit], y[digit])
    return TwoStage(objectness, digits)


def candidates(classifier: TwoStage, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Detections before calibration: boxes (x, y, w, h), digit classes, and per detection the
    evidence the calibrator reads.

    Places are chosen by non-maximum suppression over the proposals' best digit probability;
    the proposals overlapping a place (IoU ≥ VOTE_IOU) then vote with their class probabilities,
    and the place is reported once for each of its HYPOTHESES most-voted digits (as a two-stage
    detector reports a box once per class it scores). The evidence of a hypothesis: log-odds of
    the place's objectness and of the digit's share of it (its own proposal), log-odds of the
    digit's share of the soft vote, log of the voters, the box's log height, and its rank.
    """
    boxes, polarity = proposals.propose(gray)
    empty = np.zeros((0, 4), np.int64), np.zeros(0, int), np.zeros((0, EVIDENCE))
    if not len(boxes):
        return empty
    probs = classifier.predict_proba(proposals.describe(proposals.features(gray, boxes, polarity)))
    digit = probs[:, :BACKGROUND].argmax(1)
    score = probs[np.arange(len(probs)), digit]
    keep = np.flatnonzero(score >= CANDIDATE_SCORE)
    if not len(keep):
        return empty
    boxes, probs, score = boxes[keep], probs[keep], score[keep]
    places = proposals.nms(boxes, score, NMS_IOU)[:MAX_PER_IMAGE]
    near = proposals.iou(boxes[places], boxes) >= VOTE_IOU                 # (places, proposals)
    objectness = np.clip(1 - probs[:, BACKGROUND], 1e-4, 1 - 1e-4)
    digits = probs[:, :BACKGROUND] / objectness[:, None]                   # P(digit | some digit)
    vote = (near.astype(float) * objectness[None, :]) @ digits
    vote /= vote.sum(1, keepdims=True)
    ranked = np.argsort(-vote, 1)[:, :HYPOTHESES]                          # (places, HYPOTHESES)
    place = np.repeat(places, HYPOTHESES)
    row = np.repeat(np.arange(len(places)), HYPOTHESES)
    cls = ranked.ravel()
    own = np.clip(digits[place, cls], 1e-4, 1 - 1e-4)
    voted = np.clip(vote[row, cls], 1e-4, 1 - 1e-4)
    logit = lambda q: np.log(q / (1 - q))                                  # noqa: E731
    evidence = np.column_stack([logit(objectness[place]), logit(own), logit(voted), np.log(near.sum(1)[row]),
                                np.log(boxes[place, 3]), np.tile(np.arange(HYPOTHESES), len(places))])
    return boxes[place], cls, evidence


def correct(boxes: np.ndarray, digits: np.ndarray, scores: np.ndarray, truth: np.ndarray,
            classes: np.ndarray) -> np.ndarray:
    """Which detections are right: the best-scoring detection of the right class at IoU ≥ 0.5 on
    each true box (COCO's matching, as the demo's report judges them)."""
    right = np.zeros(len(boxes), bool)
    if not len(boxes) or not len(truth):
        return right
    hit = (proposals.iou(boxes, truth) >= 0.5) & (digits[:, None] == classes[None, :])
    best = np.where(hit, scores[:, None], -1).argmax(0)
    right[best[hit.any(0)]] = True
    return right


def calibrate(classifier: TwoStage, rng: np.random.Generator) -> LogisticRegression:
    """Fit P(right | evidence) on detections in calibration scenes the classifier never saw
    (Platt scaling, with the overlapping proposals' agreement as further evidence)."""
    _, (pool, pool_targets) = pools()
    xs, ys = [], []
    for seed in tqdm(rng.spawn(CALIBRATION_SCENES), desc="detector: calibration scenes", unit="img", leave=False):
        gray, boxes = _scene(seed, pool, pool_targets)
        truth, classes, _ = _truth(boxes)
        found, digits, evidence = candidates(classifier, gray)
        xs.append(evidence)
        ys.append(correct(found, digits, evidence[:, 0] + evidence[:, 2], truth, classes))
    return LogisticRegression(C=1.0).fit(np.concatenate(xs), np.concatenate(ys))


def detect(model: Detector, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (x, y, w, h), digit classes and calibrated scores (P(right detection)) on one image."""
    boxes, digits, evidence = candidates(model.classifier, _gray(bgr))
    if not len(boxes):
        return boxes, digits, np.zeros(0)
    score = model.calibrator.predict_proba(evidence)[:, 1]
    keep = score >= MIN_SCORE
    return boxes[keep], digits[keep], score[keep]


def read(path: Path) -> np.ndarray | None:
    """The image at `path` as BGR through qmdb's one image reader, or None where it cannot be read
    (a truncated JPEG is refused before libjpeg would decode it and warn on stderr)."""
    try:
        return images.decode(read_bytes(path))
    except (images.DecodeError, UnreadableError):
        return None


def run(out: Path, rng: np.random.Generator) -> Path:
    """Train, calibrate, detect on every image the scenes' COCO file lists, write COCO results JSON."""
    classifier = train(rng)
    model = Detector(classifier, calibrate(classifier, rng))
    document = json.loads((out / "scenes_coco.json").read_text())
    root = out / spec.SCENES_DATASET
    results = []
    for image in tqdm(document["images"], desc="detector: detecting", unit="img", leave=False):
        bgr = read(root / image["file_name"])
        if bgr is None:                      # nothing to detect on; the import's errors table says why
            continue
        boxes, digits, scores = detect(model, bgr)
        results += [{"image_id": image["id"], "category_id": int(d) + 1, "bbox": [float(v) for v in b],
                     "score": round(float(s), 4)} for b, d, s in zip(boxes, digits, scores)]
    target = out / RESULTS
    target.write_text(json.dumps(results))
    return target
