"""The detection dataset: digits pasted at known boxes on crops of the bundled photographs,
under varied light, blur, noise and size, written as COCO JSON with per-image metadata,
a few deliberate annotation faults (truth kept) and a few files that cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from tqdm import tqdm

from . import sources, spec
from .digits import upscale

INK = (90.0, 100.0)      # glyph levels mapped to ink opacity 0..1: (start, span); thinner than the raw digit
TRUTH_COLUMNS = ("file", "ann_id", "class", "x", "y", "w", "h", "digit_height", "ink_contrast",
                 "blur", "brightness", "fault", "true_class")


def ink_box(glyph: np.ndarray, level: float = INK[0] + INK[1] / 4) -> tuple[int, int, int, int]:
    """The tight box (x, y, w, h) of a glyph's ink.

    >>> g = np.zeros((10, 10), np.uint8); g[2:7, 3:5] = 255
    >>> ink_box(g)
    (3, 2, 2, 5)
    """
    ys, xs = np.nonzero(glyph >= level)
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def _background(rng: np.random.Generator, size: tuple[int, int]) -> tuple[str, np.ndarray]:
    photos = sources.photos()
    name, photo = photos[rng.integers(len(photos))]
    width, height = size
    ph, pw = photo.shape[:2]
    scale = rng.uniform(0.45, 1.0)
    cw = int(min(pw, ph * width / height) * scale)
    ch = int(cw * height / width)
    x0, y0 = rng.integers(0, pw - cw + 1), rng.integers(0, ph - ch + 1)
    crop = photo[y0:y0 + ch, x0:x0 + cw]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return name, cv2.resize(crop, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def _overlaps(box: tuple[int, int, int, int], placed: list[tuple[int, int, int, int]], margin: int = 4) -> bool:
    x, y, w, h = box
    return any(x < px + pw + margin and px < x + w + margin and y < py + ph + margin and py < y + h + margin
               for px, py, pw, ph in placed)


def render(rng: np.random.Generator, pool: np.ndarray, pool_targets: np.ndarray,
           count: tuple[int, int] = spec.DIGITS_PER_SCENE) -> tuple[np.ndarray, dict, list[dict]]:
    """One scene with `count` (inclusive range) digits from `pool`: (BGR uint8 image, capture
    conditions, true boxes with their difficulty)."""
    size = spec.SCENE_SIZES[rng.integers(len(spec.SCENE_SIZES))]
    camera = list(spec.CAMERAS)[rng.choice(len(spec.CAMERAS), p=[0.4, 0.35, 0.25])]
    time_of_day = list(spec.TIMES_OF_DAY)[rng.choice(len(spec.TIMES_OF_DAY), p=[0.55, 0.25, 0.2])]
    photo, image = _background(rng, size)
    luminance = image @ np.array([0.299, 0.587, 0.114], np.float32)
    conditions = {"camera": camera, "site": spec.SITES[rng.integers(len(spec.SITES))],
                  "time_of_day": time_of_day, "photo": photo}
    look = spec.CAMERAS[camera]
    blur = float(rng.uniform(*look["blur"]))
    brightness = spec.TIMES_OF_DAY[time_of_day] * float(rng.uniform(0.85, 1.1))
    boxes: list[dict] = []
    placed: list[tuple[int, int, int, int]] = []
    for _ in range(rng.integers(count[0], count[1] + 1)):
        frame = int(np.exp(rng.uniform(*np.log(spec.DIGIT_HEIGHT))))
        frame = min(frame, int(size[1] * 0.45))
        k = rng.integers(len(pool))
        glyph = upscale(pool[k], frame)
        gx, gy, gw, gh = ink_box(glyph)
        for _attempt in range(30):
            fx, fy = int(rng.integers(0, size[0] - frame)), int(rng.integers(0, size[1] - frame))
            box = (fx + gx, fy + gy, gw, gh)
            if not _overlaps(box, placed):
                break
        else:
            continue
        placed.append(box)
        region = (slice(fy, fy + frame), slice(fx, fx + frame))
        local = float(luminance[region].mean())
        dark_ink = local > 110 if rng.random() < 0.85 else local <= 110
        ink = np.clip(local + (-1 if dark_ink else 1) * rng.uniform(*spec.INK_CONTRAST), 0, 255)
        alpha = np.clip((glyph.astype(np.float32) - INK[0]) / INK[1], 0, 1)[:, :, None]
        image[region] = image[region] * (1 - alpha) + ink * alpha
        boxes.append({"class": int(pool_targets[k]), "x": box[0], "y": box[1], "w": box[2], "h": box[3],
                      "digit_height": gh, "ink_contrast": round(abs(ink - local) * brightness, 1),
                      "blur": round(blur, 2), "brightness": round(brightness, 2), "polarity": -1 if dark_ink else 1})
    if blur > 0.05:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    image = image * brightness + rng.standard_normal(image.shape, dtype=np.float32) * rng.uniform(*look["noise"])
    conditions["jpeg_quality"] = int(rng.integers(*look["jpeg"]))
    bgr = np.clip(image, 0, 255).astype(np.uint8)[:, :, ::-1]
    return np.ascontiguousarray(bgr), conditions, boxes


def _apply_faults(truth: dict[str, np.ndarray], annotator: np.ndarray, rng: np.random.Generator,
                  sizes: dict[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    """Corrupt a few annotations (mostly ann-3's); the truth columns keep what was done."""
    n = len(truth["class"])
    weights = np.where(annotator == spec.SCENE_ANNOTATORS[-1], 4.0, 1.0)
    chosen = rng.choice(n, size=sum(spec.FAULTS.values()), replace=False, p=weights / weights.sum())
    kinds = np.repeat(list(spec.FAULTS), list(spec.FAULTS.values()))
    labelled = {key: value.copy() for key, value in truth.items()}
    labelled["fault"] = np.full(n, None, dtype=object)
    labelled["fault"][chosen] = kinds
    for index, kind in zip(chosen, kinds):
        if kind == "shifted_box":
            width, height = sizes[truth["file"][index]]
            dx = int(np.sign(rng.uniform(-1, 1)) * max(3, 0.6 * truth["w"][index]))
            dy = int(np.sign(rng.uniform(-1, 1)) * max(3, 0.4 * truth["h"][index]))
            labelled["x"][index] = np.clip(truth["x"][index] + dx, 0, width - truth["w"][index])
            labelled["y"][index] = np.clip(truth["y"][index] + dy, 0, height - truth["h"][index])
        elif kind == "wrong_class":
            labelled["class"][index] = (truth["class"][index] + rng.integers(1, 10)) % 10
    return labelled


def _coco(files: list[str], sizes: dict[str, tuple[int, int]], labelled: dict[str, np.ndarray],
          annotator: np.ndarray) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """The COCO document; the annotation id of each truth row (-1: left out); the rows that were
    annotated twice and the ids of their second annotations."""
    keep = labelled["fault"] != "missing_box"
    duplicate = labelled["fault"] == "duplicate_box"
    rows = np.concatenate([np.nonzero(keep)[0], np.nonzero(duplicate)[0]])
    image_id = {f: i + 1 for i, f in enumerate(files)}
    ann_ids = np.arange(1, len(rows) + 1)
    jitter = np.where(np.arange(len(rows)) >= keep.sum(), 1, 0)       # duplicates sit a pixel off
    annotations = [
        {"id": int(a), "image_id": image_id[labelled["file"][r]], "category_id": int(labelled["class"][r]) + 1,
         "bbox": [float(labelled["x"][r] + j), float(labelled["y"][r] + j), float(labelled["w"][r]), float(labelled["h"][r])],
         "area": float(labelled["w"][r] * labelled["h"][r]), "iscrowd": 0, "annotator": str(annotator[r])}
        for a, r, j in zip(ann_ids, rows, jitter)
    ]
    ids = np.full(len(labelled["class"]), -1)
    ids[rows[: keep.sum()]] = ann_ids[: keep.sum()]
    document = {
        "info": {"description": "qmdb demo: digits on real photographs", "version": spec.VERSION},
        "images": [{"id": image_id[f], "file_name": f, "width": sizes[f][0], "height": sizes[f][1]} for f in files],
        "annotations": annotations,
        "categories": [{"id": c + 1, "name": str(c), "supercategory": "digit"} for c in range(10)],
    }
    return document, ids, rows[keep.sum():], ann_ids[keep.sum():]


def _write_broken(root: Path, sample_jpeg: bytes) -> None:
    empty, truncated, text = spec.BROKEN_FILES
    (root / empty).write_bytes(b"")
    (root / truncated).write_bytes(sample_jpeg[:300])       # cut inside the header: a failed download
    (root / text).write_text("this file was overwritten by a log message, not a PNG\n")


def generate(out: Path, rng: np.random.Generator) -> dict[str, Path]:
    """Write `scenes/*.jpg`, the COCO JSON, the metadata CSV, the truth CSV and the broken files."""
    images, targets = sources.digits()
    pool, pool_targets = images[1::2], targets[1::2]      # the detector's classifier trains on the other half
    root = out / spec.SCENES_DATASET
    root.mkdir(parents=True, exist_ok=True)
    files, sizes, meta, truth_rows, annotator_rows = [], {}, [], [], []
    seeds = rng.spawn(spec.SCENES)
    for i in tqdm(range(spec.SCENES), desc="scenes: rendering", unit="img", leave=False):
        bgr, conditions, boxes = render(seeds[i], pool, pool_targets)
        name = f"scene_{i:04d}.jpg"
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, conditions["jpeg_quality"]])
        (root / name).write_bytes(encoded.tobytes())
        files.append(name)
        sizes[name] = (bgr.shape[1], bgr.shape[0])
        meta.append({"path": name, **{k: conditions[k] for k in ("camera", "site", "time_of_day")}})
        annotator = spec.SCENE_ANNOTATORS[seeds[i].integers(len(spec.SCENE_ANNOTATORS))]
        truth_rows += [{"file": name, **b} for b in boxes]
        annotator_rows += [annotator] * len(boxes)
    _write_broken(root, (root / files[0]).read_bytes())
    for name in spec.BROKEN_FILES:
        files.append(name)
        sizes[name] = (640, 480)
        meta.append({"path": name, "camera": "cam-b", "site": "north", "time_of_day": "day"})
    truth = {k: np.array([r[k] for r in truth_rows]) for k in truth_rows[0]}
    annotator = np.array(annotator_rows)
    labelled = _apply_faults(truth, annotator, rng, sizes)
    document, ann_ids, dup_rows, dup_ids = _coco(files, sizes, labelled, annotator)
    paths = {"root": root, "coco": out / "scenes_coco.json", "metadata": out / "scenes_metadata.csv",
             "truth": out / "scenes_truth.csv"}
    paths["coco"].write_text(json.dumps(document))
    pacsv.write_csv(pa.Table.from_pylist(meta), paths["metadata"])
    table = {
        "file": np.concatenate([truth["file"], truth["file"][dup_rows]]),
        "ann_id": np.concatenate([ann_ids, dup_ids]),
        **{k: np.concatenate([truth[k], truth[k][dup_rows]]) for k in ("x", "y", "w", "h", "digit_height",
                                                                        "ink_contrast", "blur", "brightness")},
        "class": np.concatenate([labelled["class"], labelled["class"][dup_rows]]).astype(str),
        "true_class": np.concatenate([truth["class"], truth["class"][dup_rows]]).astype(str),
        # the first of two identical annotations is right; the second one is the fault
        "fault": np.concatenate([np.where(labelled["fault"] == "duplicate_box", None, labelled["fault"]),
                                 labelled["fault"][dup_rows]]),
    }
    pacsv.write_csv(pa.table({k: pa.array(table[k]) if k != "fault" else pa.array(table[k], pa.string())
                              for k in TRUTH_COLUMNS}), paths["truth"])
    return paths
