"""The classification dataset: scikit-learn's 1,797 digits, upscaled, in class folders,
with a known share of labels flipped (mostly by one annotator) and the truth kept."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from tqdm import tqdm

from . import sources, spec


def flip_labels(truth: np.ndarray, annotator_index: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Flip `FLIP_RATE` of the labels, weighted towards noisy annotators.

    Returns (given labels, noise kind per label: None when clean, 'class_pair' or 'symmetric').

    >>> rng = np.random.default_rng(0)
    >>> truth = np.arange(1000) % 10
    >>> given, noise = flip_labels(truth, np.zeros(1000, dtype=int), rng)
    >>> int((given != truth).sum()), int(noise.astype(bool).sum())
    (80, 80)
    """
    weights = np.array([w for _, w in spec.ANNOTATORS.values()])[annotator_index]
    n_flip = int(round(spec.FLIP_RATE * len(truth)))
    flipped = rng.choice(len(truth), size=n_flip, replace=False, p=weights / weights.sum())
    partner = np.full(10, -1)
    for a, b in spec.FLIP_PAIRS:
        partner[a], partner[b] = b, a
    old = truth[flipped]
    use_pair = (partner[old] >= 0) & (rng.random(n_flip) < spec.PAIR_SHARE)
    other = (old + rng.integers(1, 10, size=n_flip)) % 10          # uniformly one of the 9 other classes
    new = np.where(use_pair, partner[old], other)
    given = truth.copy()
    given[flipped] = new
    noise = np.full(len(truth), None, dtype=object)
    noise[flipped] = np.where(use_pair, "class_pair", "symmetric")
    return given, noise


def upscale(image: np.ndarray, size: int = spec.DIGIT_SIZE) -> np.ndarray:
    """An 8×8 digit as a size×size grayscale image, bicubic, ink bright on black."""
    return np.clip(cv2.resize(image.astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def generate(out: Path, rng: np.random.Generator) -> dict[str, Path]:
    """Write `digits/<class>/<n>.png`, the label table and the truth table under `out`."""
    images, truth = sources.digits()
    n = len(truth)
    names = list(spec.ANNOTATORS)
    shares = np.array([s for s, _ in spec.ANNOTATORS.values()])
    annotator = rng.choice(len(names), size=n, p=shares / shares.sum())
    given, noise = flip_labels(truth, annotator, rng)
    split = np.where(rng.random(n) < spec.VAL_SHARE, "val", "train")
    paths = np.char.add(np.char.add(given.astype(str), "/"), np.char.mod("%04d.png", np.arange(n)))
    root = out / spec.DIGITS_DATASET
    for c in range(10):
        (root / str(c)).mkdir(parents=True, exist_ok=True)
    for i in tqdm(range(n), desc="digits: writing PNGs", unit="img", leave=False):
        cv2.imwrite(str(root / paths[i]), upscale(images[i]))
    labels = pa.table({
        "path": paths,
        "class": given.astype(str),
        "split": split,
        "annotator": np.array(names)[annotator],
    })
    truth_table = pa.table({
        "path": paths,
        "true_class": truth.astype(str),
        "noise": pa.array(noise, pa.string()),
    })
    files = {"labels": out / "digits_labels.csv", "truth": out / "digits_truth.csv", "root": root}
    pacsv.write_csv(labels, files["labels"])
    pacsv.write_csv(truth_table, files["truth"])
    return files
