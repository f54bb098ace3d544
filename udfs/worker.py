"""What a worker process does with one chunk of images: read, decode once, run every needed metric.

A chunk arrives as plain arrays (image ids, files, the metrics each image
and each label still needs, the boxes) and leaves as plain arrays, so that
pickling stays cheap; the main process turns them into Arrow and writes them.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time

import cv2
import numpy as np

from . import registry
from .boxes import Boxes
from .compute import image_values, label_values
from .pixels import DecodeError, read

_METRICS: dict[tuple[str, str], registry.Metric] = {}
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def init(metrics: list[registry.Metric], threads: int | None = 1) -> None:
    """Keep the metrics to run in this process (sent by value where they are not importable:
    plugins, scripts, notebooks); a worker uses one OpenCV thread, the parallelism is across processes."""
    if threads is not None:
        cv2.setNumThreads(threads)
        _reuse_freed_memory()
        _exit_with_parent()
    _METRICS.clear()
    _METRICS.update({(m.kind, m.name): m for m in metrics})


def _reuse_freed_memory() -> None:
    """Serve an image's arrays (a few MB each) from the heap and keep freed memory for the next image.

    glibc maps every block over 128 KiB afresh and unmaps it when freed, so each image paid about 450
    page faults, some 2 ms of kernel time per image (a fifth of the pass). Blocks up to 32 MiB now
    come from the heap, which keeps up to 128 MiB of free memory instead of returning it at once.
    Elsewhere than glibc nothing changes."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 128 << 20)
    except (OSError, AttributeError):
        pass


def _exit_with_parent() -> None:
    """A worker whose runner was killed (kill -9 leaves no time to stop it) exits within a second."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="qmdb-parent-watch", daemon=True).start()


def _pick(kind: str, names) -> list[registry.Metric]:
    return [_METRICS[(kind, n)] for n in names]


def run_chunk(task: dict) -> dict:
    """Compute one chunk; see `qmdb.udfs.runner` for the layout of `task` and of the result."""
    labels = task["labels"]
    starts = np.searchsorted(labels["image_id"], task["image_id"], side="left")
    ends = np.searchsorted(labels["image_id"], task["image_id"], side="right")
    image_out = {n: [None] * len(task["image_id"]) for n in task["image_metrics"]}
    n_labels = len(labels["label_id"])
    label_parts: dict[str, list] = {n: [] for n in task["label_metrics"]}
    label_rows: list[np.ndarray] = []
    errors = []
    for i, (image_id, file, need) in enumerate(zip(task["image_id"], task["file"], task["need"])):
        lo, hi = int(starts[i]), int(ends[i])
        rows = [r for r in range(lo, hi) if labels["need"][r]]
        label_need = sorted({n for r in rows for n in labels["need"][r]})
        if rows:
            label_rows.append(np.asarray(rows, np.int64))
        computed: dict = {}
        try:
            image = read(file)
        except DecodeError as error:
            errors.append((int(image_id), file, str(error)))
            image = None
        if image is not None:
            values, problems = image_values(image, _pick("image", need))
            for name, value in values.items():
                image_out[name][i] = value
            if rows:
                boxes = Boxes(labels["xywh"][lo:hi], labels["class"][lo:hi], image.width, image.height,
                              labels["share"][lo:hi])
                computed, more = label_values(image, boxes, _pick("label", label_need))
                problems += more
            errors.extend((int(image_id), file, message) for message in problems)
        if rows:
            keep = np.asarray(rows, np.int64) - lo
            for name in label_parts:
                label_parts[name].append(computed[name][keep] if name in computed else np.ma.masked_all(len(rows)))
    picked = np.concatenate(label_rows) if label_rows else np.zeros(0, np.int64)
    return {
        "image_id": task["image_id"],
        "need": task["need"],
        "image_values": image_out,
        "label_id": labels["label_id"][picked] if n_labels else np.zeros(0, np.int64),
        "label_need": [labels["need"][r] for r in picked],
        "label_values": {n: (np.ma.concatenate(parts) if parts else np.ma.masked_all(0)) for n, parts in label_parts.items()},
        "errors": errors,
    }


def holds(metrics: list[registry.Metric]) -> bool:
    """Whether this process already runs exactly these metrics (`init` was called with them)."""
    return _METRICS.keys() == {(m.kind, m.name) for m in metrics}
