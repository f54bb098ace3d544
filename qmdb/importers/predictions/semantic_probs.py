"""Semantic predictions with probabilities: per image a `.npy` (or a `.npz` holding `probs`) of shape (K, H, W).

Channel k is the k-th class of the class map in index order; each pixel's K
probabilities are in 0..1 and sum to 1 (within `SUM_TOLERANCE`); float16,
float32 or float64, one dtype per import. The hard mask is the argmax (the
first class on ties): one prediction row per (image, class predicted), its RLE
as for a class-index PNG, its score the mean probability of the class over its
pixels. The probabilities themselves are not stored: while reading them, one
image at a time, the import finds the pixel label issues of the dataset's
labels (`qmdb.label_errors.semantic_pixels`) and keeps those, one
`semantic_pixel_issues` row per image with labelled pixels.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import InputError
from ...label_errors.semantic_pixels import Found, PixelIssues, images_per_batch
from ..masks import MASK_TYPE, mask_api
from ..semantic import classes_present, lookup
from ..store import registered

SUFFIXES = (".npy", ".npz")
DTYPES = (np.float16, np.float32, np.float64)
SUM_TOLERANCE = 0.01
ISSUE_CLASSES = pa.list_(pa.struct([("label_class", pa.string()), ("suggested_class", pa.string()),
                                    ("pixels", pa.int64())]))


def _array(file: Path) -> np.ndarray:
    try:
        if file.suffix.lower() != ".npz":
            return np.load(file, allow_pickle=False)
        with np.load(file, allow_pickle=False) as archive:
            if "probs" not in archive.files:
                raise InputError(file, "probs", f"no array named probs (it holds {', '.join(archive.files) or 'none'})")
            return archive["probs"]
    except InputError:
        raise
    except Exception as error:  # noqa: BLE001 - any file numpy cannot read is this file's problem
        raise InputError(file, None, f"not a readable .npy/.npz file: {error or type(error).__name__}") from None


def load(file: Path, names: list[str], size: tuple[int, int], dtype: np.dtype | None = None) -> np.ndarray:
    """A checked (K, H, W) probability array for an image of `size` (height, width); `dtype`: the import's."""
    probs = _array(file)
    if probs.dtype.type not in DTYPES:
        raise InputError(file, "dtype", f"expected float16, float32 or float64 probabilities, got {probs.dtype}")
    if dtype is not None and probs.dtype != dtype:
        raise InputError(file, "dtype", f"{probs.dtype}, but the files before it are {dtype}: one import takes one dtype")
    if probs.ndim != 3:
        raise InputError(file, "shape", f"expected (classes, height, width), got shape {probs.shape}")
    if probs.shape[0] != len(names):
        raise InputError(file, "shape", f"{probs.shape[0]} classes on the first axis, the class map has {len(names)}")
    if probs.shape[1:] != tuple(size):
        raise InputError(file, "shape", f"probabilities are {probs.shape[2]}x{probs.shape[1]} (w x h), its image "
                         f"{size[1]}x{size[0]}")
    bad = ~((probs >= 0) & (probs <= 1))
    if bad.any():
        k, y, x = np.argwhere(bad)[0]
        raise InputError(file, f"pixel ({x}, {y})", f"probability {probs[k, y, x]} of class '{names[k]}', expected 0..1")
    total = probs.sum(axis=0, dtype=np.float64)
    off = np.abs(total - 1) > SUM_TOLERANCE
    if off.any():
        y, x = np.argwhere(off)[0]
        raise InputError(file, f"pixel ({x}, {y})", f"the class probabilities sum to {total[y, x]:.4g}, not 1 "
                         "(softmax the logits first)")
    return probs


class LabelMaps:
    """The dataset's labels of some images as (H, W) class positions, -1 where no label or several cover a pixel."""

    def __init__(self, con: duckdb.DuckDBPyConnection, dataset: str, image_ids: list[int], names: list[str],
                 where: object):
        positions = pa.table({"class": pa.array(names, pa.string()), "position": pa.array(range(len(names)), pa.int32())})
        ids = pa.table({"image_id": pa.array(image_ids, pa.int64())})
        with registered(con, _qmdb_positions=positions, _qmdb_ids=ids):
            rows = con.sql(
                "SELECT l.image_id, l.class, c.position, l.mask.size AS size, l.mask.counts AS counts FROM labels l "
                "JOIN _qmdb_ids USING (image_id) LEFT JOIN _qmdb_positions c ON c.class = l.class "
                "WHERE l.mask IS NOT NULL ORDER BY l.image_id, l.label_id").to_arrow_table()
        unknown = rows.filter(pc.is_null(rows["position"]))
        if unknown.num_rows:
            raise InputError(where, None, f"label class '{unknown['class'][0].as_py()}' of dataset '{dataset}' is not "
                             "in the class map of the probabilities")
        self.image_id = rows["image_id"].to_numpy()
        self.position = rows["position"].to_numpy()
        self.size, self.counts = rows["size"].to_pylist(), rows["counts"].to_pylist()

    def get(self, image_id: int, size: tuple[int, int], path: str) -> np.ndarray:
        start, end = np.searchsorted(self.image_id, [image_id, image_id + 1])
        labels = np.full(size, -1, np.int64)
        if start == end:
            return labels
        for k in range(start, end):
            if tuple(self.size[k]) != tuple(size):
                raise InputError(path, "labels.mask.size", f"a label mask is {self.size[k][1]}x{self.size[k][0]} "
                                 f"(w x h), its image {size[1]}x{size[0]}")
        masks = mask_api("semantic masks").decode([{"size": list(size), "counts": self.counts[k].encode()}
                                                   for k in range(start, end)])
        covered = masks.sum(axis=2)
        labels[:] = self.position[start:end][np.argmax(masks, axis=2)]
        labels[covered != 1] = -1
        return labels


@dataclass
class Probabilities:
    """What the probability files give: prediction rows (`row` indexes the files) and pixel issue rows."""

    rows: pa.Table
    issues: pa.Table

    def writer(self, model: str) -> Callable[[duckdb.DuckDBPyConnection], None]:
        """Replace the model's pixel issue rows (inside the prediction import's transaction)."""

        def write(con: duckdb.DuckDBPyConnection) -> None:
            con.execute("DELETE FROM semantic_pixel_issues WHERE model = ?", [model])
            with registered(con, _qmdb_pixel_issues=self.issues):
                con.execute("INSERT INTO semantic_pixel_issues SELECT $model, image_id, labelled_pixels, issue_pixels, "
                            "label_score, issue_mask, issue_classes FROM _qmdb_pixel_issues", {"model": model})

        return write


PREDICTION_COLUMNS = {"row": pa.int64(), "class": pa.string(), "source_id": pa.string(), "mask": MASK_TYPE,
                      "area": pa.float64(), "score": pa.float64(), "x": pa.float64(), "y": pa.float64(),
                      "w": pa.float64(), "h": pa.float64()}
ISSUE_COLUMNS = {"image_id": pa.int64(), "labelled_pixels": pa.int64(), "issue_pixels": pa.int64(),
                 "label_score": pa.float64(), "issue_mask": MASK_TYPE, "issue_classes": ISSUE_CLASSES}


def _table(rows: list[dict], types: dict[str, pa.DataType]) -> pa.Table:
    return pa.table({name: pa.array([r[name] for r in rows], kind) for name, kind in types.items()})


def _stored(rle: dict) -> dict:
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def _prediction_rows(file: Path, row: int, probs: np.ndarray, predicted: np.ndarray, classes: dict[int, str],
                     lut: np.ndarray) -> list[dict]:
    """One row per class predicted: its RLE, area, box and mean probability over its pixels."""
    api, index, names = mask_api("semantic masks"), np.array(list(classes)), list(classes.values())
    flat = predicted.ravel()
    confidence = np.take_along_axis(probs, predicted[None], axis=0)[0].ravel()
    score = np.bincount(flat, weights=confidence, minlength=len(names)) / np.maximum(
        np.bincount(flat, minlength=len(names)), 1)
    return [{"row": row, "class": names[k], "source_id": str(index[k]), "mask": _stored(rle),
             "area": float(api.area(rle)), "score": float(score[k]), **dict(zip("xywh", api.toBbox(rle).tolist()))}
            for k, rle in classes_present(file, index[predicted], lut, predicted.shape)]


def _issue_row(found: Found, image_id: int, size: tuple[int, int], labelled: int, score: float,
               names: list[str]) -> dict:
    mask = np.zeros(size[0] * size[1], np.uint8)
    mask[found.pixels] = 1
    pairs, pixels = np.unique(found.labels.astype(np.int64) * len(names) + found.predicted, return_counts=True)
    return {"image_id": image_id, "labelled_pixels": labelled, "issue_pixels": int(found.pixels.size),
            "label_score": score,
            "issue_mask": _stored(mask_api("semantic masks").encode(np.asfortranarray(mask.reshape(size)))),
            "issue_classes": [{"label_class": names[p // len(names)], "suggested_class": names[p % len(names)],
                               "pixels": int(n)} for p, n in zip(pairs.tolist(), pixels.tolist())]}


def read(con: duckdb.DuckDBPyConnection, dataset: str, files: list[Path], rows: list[int], images: list[tuple],
         classes: dict[int, str], where: object) -> Probabilities:
    """Read the probability `files` (`images`: each one's (image_id, path, width, height), in image_id order;
    `rows`: each one's index in the import's file list): one pass for the predictions, the label scores and
    the pixel statistics, then the issues (`where` names the class map in an error)."""
    names, lut = list(classes.values()), lookup(classes)
    sizes = [(h, w) for _, _, w, h in images]
    labels = LabelMaps(con, dataset, [i for i, *_ in images], names, where) if files else None
    dtype = None
    predictions, issues, scores, labelled = [], [], [], []

    def image(k: int) -> tuple[np.ndarray, np.ndarray]:
        return labels.get(images[k][0], sizes[k], images[k][1]), load(files[k], names, sizes[k], dtype)

    batch = images_per_batch(len(names), max([h * w for h, w in sizes], default=1))
    with tempfile.TemporaryDirectory(prefix="qmdb-pixels-") as workdir, \
            closing(PixelIssues(len(names), images_per_batch=batch, workdir=workdir)) as finder:
        for k, file in enumerate(files):
            label, probs = image(k)
            dtype = probs.dtype
            predicted = np.argmax(probs, axis=0)
            predictions += _prediction_rows(file, rows[k], probs, predicted, classes, lut)
            scores.append(finder.add(label, probs, predicted))
            labelled.append(int(np.count_nonzero(label >= 0)))
        for found in finder.issues(image):
            k = found.image
            if scores[k] is not None:
                issues.append(_issue_row(found, images[k][0], sizes[k], labelled[k], scores[k], names))
    return Probabilities(_table(predictions, PREDICTION_COLUMNS), _table(issues, ISSUE_COLUMNS))
