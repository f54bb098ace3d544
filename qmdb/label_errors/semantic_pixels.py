"""Pixel label issues of semantic masks: cleanlab's `segmentation.filter.find_label_issues`, streamed.

cleanlab's defaults (``downsample=1``, ``batch_size=10000``) do three things
over the whole dataset's pixels:

1. a confident threshold per class: the mean predicted probability of class k
   over the pixels labelled k, updated batch by batch (batches of
   ``max(10000 // (K·H·W), 1)`` images) exactly as ``LabelInspector`` does;
2. the number of issues N: pixels whose predicted class (argmax) is not their
   label and whose probability of it reaches that class's threshold (minus 1e-6);
3. the N pixels of lowest self-confidence (the probability of their label) over
   all pixels, minus those whose predicted class is their label.

`PixelIssues` does the same one image at a time: `add` takes an image's labels
and probabilities (once each, in order) and keeps, in files of `workdir`, its
sorted self-confidences and its mismatched pixels; `issues` then counts N and
finds the N-th smallest self-confidence by bisection over those sorted files,
so memory holds one image. Pixels labelled -1 (ignored, or not labelled) take
no part. Among pixels whose self-confidence ties the cut-off exactly, those
first in (image, pixel) order are taken, as ``argsort(kind="stable")`` would;
cleanlab's ``argsort`` is not stable, so only those ties may differ.

`label_score` is cleanlab's ``segmentation.rank.get_label_quality_scores``
(``method="softmin"``, temperature 0.1) of one image.

>>> import tempfile
>>> labels = np.array([[0, 0], [1, 1]])
>>> probs = np.array([[[0.9, 0.2], [0.1, 0.3]], [[0.1, 0.8], [0.9, 0.7]]])
>>> with tempfile.TemporaryDirectory() as tmp:
...     finder = PixelIssues(2, images_per_batch=1, workdir=tmp)
...     score = finder.add(labels, probs, probs.argmax(0))
...     [(found.image, found.pixels.tolist()) for found in finder.issues(lambda image: None)]
[(0, [1])]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LOWER_BOUND = 2e-6          # cleanlab's CONFIDENT_THRESHOLDS_LOWER_BOUND
MARGIN = 1e-6               # cleanlab's FLOATING_POINT_COMPARISON
MISSING_CLASS = 2           # cleanlab's threshold of a class no pixel of a batch is labelled
BATCH_ELEMENTS = 10000      # cleanlab's segmentation default batch_size
TEMPERATURE = 0.1           # softmin temperature of get_label_quality_scores
EPSILON = 1e-6              # cleanlab's softmax guard on the temperature
CHUNK = 1 << 20             # mismatched pixels counted at a time


def images_per_batch(classes: int, pixels: int) -> int:
    """cleanlab's images per threshold batch for images of `pixels` pixels.

    >>> images_per_batch(4, 32 * 24), images_per_batch(19, 256 * 256)
    (3, 1)
    """
    return max(BATCH_ELEMENTS // (classes * pixels), 1)


def label_score(self_confidence: np.ndarray) -> float:
    """cleanlab's softmin label quality of one image from its pixels' self-confidences (`get_label_quality_scores`)."""
    s = np.expand_dims(self_confidence.astype("float64"), axis=0)
    x = (1 - s) / max(TEMPERATURE, EPSILON)
    x = x - np.max(x, axis=1, keepdims=True)
    weights = np.exp(x)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    return float(np.einsum("ij,ij->i", s, weights)[0])


RECORD = [("pixel", "<i8"), ("label", "<i4"), ("predicted", "<i4")]


@dataclass
class Found:
    """The issues of one image: flat pixel indices (row-major), and each one's label and predicted class."""

    image: int
    pixels: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray


class PixelIssues:
    """cleanlab's segmentation `find_label_issues` over images added one at a time (see the module)."""

    def __init__(self, classes: int, *, images_per_batch: int, workdir: str | Path):
        self.classes, self.per_batch = classes, images_per_batch
        self.thresholds = np.zeros(classes)
        self.examples = np.zeros(classes)
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.dtype: np.dtype | None = None
        self.images = 0
        self.sorted_lengths: list[int] = []
        self.record_lengths: list[int] = []
        workdir = Path(workdir)
        self.paths = {name: workdir / f"{name}.bin" for name in ("sorted", "records", "confidence", "predicted")}
        self.files = {name: open(path, "wb") for name, path in self.paths.items()}

    def add(self, labels: np.ndarray, probs: np.ndarray, predicted: np.ndarray) -> float | None:
        """Take one image: `labels` (H, W) class positions, -1 where unlabelled; `probs` (K, H, W); `predicted`
        (H, W) the argmax of `probs` over classes. Returns its softmin label score (None: no labelled pixel)."""
        if self.dtype is None:
            self.dtype = probs.dtype
        flat, every = probs.reshape(self.classes, -1), labels.ravel()
        pixels = np.flatnonzero(every >= 0)
        whole = pixels.size == every.size
        label = every if whole else every[pixels]
        p = flat if whole else flat[:, pixels]
        guess = predicted.ravel() if whole else predicted.ravel()[pixels]
        self._threshold_batch(label, p)
        columns = np.arange(label.size)
        confidence = p[label, columns]
        wrong = np.flatnonzero(guess != label)
        self.files["sorted"].write(np.sort(confidence).tobytes())
        records = np.empty(wrong.size, RECORD)
        records["pixel"], records["label"], records["predicted"] = pixels[wrong], label[wrong], guess[wrong]
        self.files["records"].write(records.tobytes())
        self.files["confidence"].write(confidence[wrong].tobytes())
        self.files["predicted"].write(p[guess[wrong], wrong].tobytes())
        self.sorted_lengths.append(label.size)
        self.record_lengths.append(wrong.size)
        self.images += 1
        return label_score(confidence) if label.size else None

    def _threshold_batch(self, label: np.ndarray, p: np.ndarray) -> None:
        self.pending.append((label, p))
        if len(self.pending) == self.per_batch:
            self._update_thresholds()

    def _update_thresholds(self) -> None:
        """LabelInspector.update_confident_thresholds on the pending batch, term for term."""
        label = np.concatenate([lab for lab, _ in self.pending])
        p = np.concatenate([q for _, q in self.pending], axis=1)
        self.pending = []
        if not label.size:
            return
        counts = np.bincount(label, minlength=self.classes)
        order = np.argsort(label, kind="stable")
        ends = np.cumsum(counts)
        batch = np.clip([np.mean(p[k, order[end - n:end]]) if n else MISSING_CLASS
                         for k, (n, end) in enumerate(zip(counts, ends))], a_min=LOWER_BOUND, a_max=None)
        self.thresholds = (self.examples * self.thresholds + counts * batch) / np.clip(
            self.examples + counts, a_min=1, a_max=None)
        self.thresholds = np.clip(self.thresholds, a_min=LOWER_BOUND, a_max=None)
        self.examples += counts

    def close(self) -> None:
        """Close the files of `workdir` (done by `issues`; call it when stopping early)."""
        for handle in self.files.values():
            handle.close()

    def _close(self) -> dict[str, np.ndarray]:
        if self.pending:
            self._update_thresholds()
        self.close()
        dtypes = {"sorted": self.dtype, "records": np.dtype(RECORD), "confidence": self.dtype, "predicted": self.dtype}
        return {name: np.memmap(path, dtypes[name], mode="r") if path.stat().st_size else np.zeros(0, dtypes[name])
                for name, path in self.paths.items()}

    def count(self, data: dict[str, np.ndarray]) -> int:
        """N: mismatched pixels whose predicted class's probability reaches its threshold (cleanlab's prune count)."""
        adjusted = self.thresholds - MARGIN
        total = 0
        for start in range(0, data["records"].size, CHUNK):
            predicted = data["records"]["predicted"][start:start + CHUNK]
            total += int(np.sum(data["predicted"][start:start + CHUNK] >= adjusted[predicted]))
        return total

    def issues(self, reread: Callable[[int], tuple[np.ndarray, np.ndarray]]) -> Iterator[Found]:
        """After the last `add`: every image's issues, in the order added. `reread(image)` gives that image's
        (labels, probs) again; it is called for at most one image (the one whose pixels tie the cut-off)."""
        data = self._close()
        issues = self.count(data)
        sorted_ends = np.cumsum([0, *self.sorted_lengths])
        record_ends = np.cumsum([0, *self.record_lengths])
        segments = [data["sorted"][a:b] for a, b in zip(sorted_ends[:-1], sorted_ends[1:])]
        cut = _cut_off(segments, issues, self.dtype)
        for image in range(self.images):
            a, b = record_ends[image], record_ends[image + 1]
            records, confidence = data["records"][a:b], data["confidence"][a:b]
            kept = records[self._chosen(cut, image, records, confidence, reread)]
            yield Found(image, np.asarray(kept["pixel"]), np.asarray(kept["label"]), np.asarray(kept["predicted"]))

    def _chosen(self, cut: CutOff | None, image: int, records: np.ndarray, confidence: np.ndarray,
                reread: Callable[[int], tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Which of an image's mismatched pixels are among the N lowest self-confidences."""
        if cut is None or cut.everything:
            return np.full(records.size, cut is not None)
        chosen = confidence < cut.value
        if cut.take[image] == cut.tied[image]:
            return chosen | (confidence == cut.value)
        if cut.take[image]:
            chosen |= np.isin(records["pixel"], self._first_tied(reread(image), cut.value, cut.take[image]))
        return chosen

    def _first_tied(self, image: tuple[np.ndarray, np.ndarray], value: np.generic, take: int) -> np.ndarray:
        labels, probs = image
        every = labels.ravel()
        pixels = np.flatnonzero(every >= 0)
        confidence = probs.reshape(self.classes, -1)[every[pixels], pixels]
        return pixels[confidence == value][:take]


@dataclass
class CutOff:
    """The N-th smallest self-confidence `value`; per image how many pixels tie it and how many of those are taken."""

    value: np.generic
    tied: np.ndarray
    take: np.ndarray
    everything: bool = False


def _count(segments: list[np.ndarray], value: np.generic, side: str) -> np.ndarray:
    return np.array([np.searchsorted(s, value, side=side) for s in segments], np.int64)


def _cut_off(segments: list[np.ndarray], issues: int, dtype: np.dtype | None) -> CutOff | None:
    """The cut-off of the `issues` lowest self-confidences, by bisection over the bits of non-negative floats
    (ordered as unsigned integers); None when there is no issue."""
    total = sum(s.size for s in segments)
    if issues == 0 or not total:
        return None
    if issues >= total:
        none = np.zeros(len(segments), np.int64)
        return CutOff(np.array(0, dtype)[()], none, none, everything=True)
    bits = np.dtype(f"u{np.dtype(dtype).itemsize}")
    top = np.array(max(s[-1] for s in segments if s.size), dtype) + np.array(0, dtype)  # -0.0 is 0.0
    low, high = 0, int(top.view(bits))
    while low < high:
        middle = (low + high) // 2
        if _count(segments, np.array(middle, bits).view(dtype)[()], "right").sum() >= issues:
            high = middle
        else:
            low = middle + 1
    value = np.array(low, bits).view(dtype)[()]
    below = _count(segments, value, "left")
    tied = _count(segments, value, "right") - below
    wanted = issues - below.sum()
    before = np.cumsum(tied) - tied
    return CutOff(value, tied, np.clip(wanted - before, 0, tied))
