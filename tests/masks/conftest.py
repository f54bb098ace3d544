"""Small COCO instance-segmentation and keypoint files with real masks: shapes drawn with OpenCV onto
crops of scikit-learn's two photographs, stored as polygons (from the drawn mask's contours), compressed
RLE, uncompressed crowd RLE; predictions are the drawn masks moved, grown or shrunk, with tied scores."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_api
from sklearn.datasets import load_sample_images

SIZES = [(320, 240), (256, 256), (300, 220), (240, 300), (280, 200), (260, 260), (200, 160)]
CLASSES = ["ring", "blob", "star"]
SCORES = [0.9, 0.8, 0.8, 0.7, 0.55, 0.3]   # few values: many ties across images


def _rle(mask: np.ndarray) -> dict:
    rle = mask_api.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def _uncompressed(mask: np.ndarray) -> dict:
    flat = mask.astype(np.uint8).ravel(order="F")
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat[0] == 1:
        runs = [0] + runs
    return {"size": list(mask.shape), "counts": [int(r) for r in runs]}


def _polygons(mask: np.ndarray) -> list[list[float]]:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]


def _shape(kind: str, h: int, w: int, rng) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    cx, cy = int(rng.integers(40, w - 40)), int(rng.integers(40, h - 40))
    r = int(rng.integers(12, 38))
    if kind == "ring":
        cv2.circle(mask, (cx, cy), r, 1, -1)
        cv2.circle(mask, (cx, cy), r // 2, 0, -1)           # a hole
    elif kind == "blob":
        cv2.ellipse(mask, (cx, cy), (r, max(6, r // 2)), float(rng.integers(0, 180)), 0, 360, 1, -1)
    else:
        angles = np.linspace(0, 2 * np.pi, 11)[:-1]
        radii = np.where(np.arange(10) % 2, r * 0.45, r)
        pts = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1).round().astype(np.int32)
        cv2.fillPoly(mask, [pts], 1)
    return mask


def _moved(mask: np.ndarray, rng) -> np.ndarray:
    how = int(rng.integers(4))
    if how == 0:
        return np.roll(mask, (int(rng.integers(-4, 5)), int(rng.integers(-4, 5))), axis=(0, 1))
    kernel = np.ones((3, 3), np.uint8)
    if how == 1:
        return cv2.dilate(mask, kernel, iterations=int(rng.integers(1, 4)))
    if how == 2:
        return cv2.erode(mask, kernel, iterations=int(rng.integers(1, 3)))
    return mask.copy()


def _keypoints(mask: np.ndarray, rng, hidden: float) -> list[float]:
    ys, xs = np.nonzero(mask)
    pick = rng.integers(0, len(xs), 17)
    out = []
    for x, y in zip(xs[pick], ys[pick]):
        v = 0 if rng.random() < hidden else int(rng.integers(1, 3))
        out += [float(x), float(y), v] if v else [0.0, 0.0, 0]
    return out


def build(folder: Path, seed: int = 0) -> dict[str, Path]:
    """Write images/, instances.json, results.json, keypoints.json, keypoint_results.json under folder."""
    rng = np.random.default_rng(seed)
    photos = load_sample_images().images
    (folder / "images").mkdir(parents=True, exist_ok=True)
    images, anns, results, kp_anns, kp_results = [], [], [], [], []
    ids = [7, 3, 12, 5, 9, 1, 20]          # COCO ids not in file order: ties must follow id order
    for n, ((w, h), image_id) in enumerate(zip(SIZES, ids)):
        photo = photos[n % 2]
        top, left = int(rng.integers(0, photo.shape[0] - h)), int(rng.integers(0, photo.shape[1] - w))
        canvas = np.ascontiguousarray(photo[top:top + h, left:left + w, ::-1])
        name = f"img_{n}.png" if n % 2 else f"img_{n}.jpg"
        images.append({"id": image_id, "file_name": name, "width": w, "height": h})
        objects = 0 if n == 4 else int(rng.integers(2, 5))     # image 4: no labels, only false positives
        for k in range(objects):
            kind = CLASSES[int(rng.integers(3))]
            mask = _shape(kind, h, w, rng)
            canvas[mask > 0] = (0.4 * canvas[mask > 0] + 0.6 * np.array([40, 200, 90])).astype(np.uint8)
            ann = {"id": len(anns) + 1, "image_id": image_id, "category_id": CLASSES.index(kind) + 1, "iscrowd": 0}
            form = (n + k) % 3
            ann["segmentation"] = _rle(mask) if kind == "ring" or form == 0 else _polygons(mask)
            rle = mask_api.merge(mask_api.frPyObjects(ann["segmentation"], h, w)) if isinstance(ann["segmentation"], list) \
                else {"size": [h, w], "counts": ann["segmentation"]["counts"].encode()}
            ann["area"] = float(mask_api.area(rle))
            ann["bbox"] = mask_api.toBbox(rle).tolist()
            anns.append(ann)
            if rng.random() < 0.85:                              # some labels are missed
                moved = _moved(mask, rng)
                results.append({"image_id": image_id, "category_id": ann["category_id"], "segmentation": _rle(moved),
                                "score": float(SCORES[int(rng.integers(len(SCORES)))])})
            kp_mask = _shape("blob", h, w, rng)
            kp = {"id": len(kp_anns) + 1, "image_id": image_id, "category_id": 1, "iscrowd": 0,
                  "keypoints": _keypoints(kp_mask, rng, hidden=1.0 if k == 1 and n == 2 else 0.3),
                  "segmentation": _rle(kp_mask)}
            kp["num_keypoints"] = int(np.count_nonzero(np.array(kp["keypoints"][2::3]) > 0))
            kp_rle = {"size": [h, w], "counts": kp["segmentation"]["counts"].encode()}
            kp["area"], kp["bbox"] = float(mask_api.area(kp_rle)), mask_api.toBbox(kp_rle).tolist()
            kp_anns.append(kp)
            noise = rng.normal(0, float(rng.choice([1.0, 3.0, 8.0])), 34).reshape(17, 2)
            pts = np.array(kp["keypoints"]).reshape(17, 3)
            xy = np.where(pts[:, 2:] > 0, pts[:, :2] + noise, rng.uniform(0, min(w, h), (17, 2)))
            kp_results.append({"image_id": image_id, "category_id": 1, "score": float(SCORES[int(rng.integers(6))]),
                               "keypoints": np.column_stack([xy, rng.uniform(0.2, 1, 17)]).ravel().tolist()})
        if n == 1:                                              # a crowd region, uncompressed RLE
            crowd = np.zeros((h, w), np.uint8)
            cv2.rectangle(crowd, (10, 10), (90, 70), 1, -1)
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": 2, "iscrowd": 1,
                         "segmentation": _uncompressed(crowd), "area": float(crowd.sum()),
                         "bbox": [10.0, 10.0, 81.0, 61.0]})
            for s in (0.8, 0.6):
                inside = np.zeros_like(crowd)
                cv2.rectangle(inside, (20 + int(s * 10), 20), (50, 50), 1, -1)
                results.append({"image_id": image_id, "category_id": 2, "segmentation": _rle(inside), "score": s})
        for _ in range(int(rng.integers(1, 3))):                # false positives
            kind = CLASSES[int(rng.integers(3))]
            results.append({"image_id": image_id, "category_id": CLASSES.index(kind) + 1,
                            "segmentation": _rle(_shape(kind, h, w, rng)), "score": float(SCORES[int(rng.integers(6))])})
        cv2.imwrite(str(folder / "images" / name), canvas)
    # The best-scored pair of a class ties across images: a true positive on image 7 (first in the file)
    # and a false positive on image 3 (first by id, as COCOeval orders images).
    first = anns[0]
    (w0, h0), (w1, h1) = SIZES[0], SIZES[1]
    exact = mask_api.decode(mask_api.merge(mask_api.frPyObjects(first["segmentation"], h0, w0))
                            if isinstance(first["segmentation"], list) else
                            {"size": [h0, w0], "counts": first["segmentation"]["counts"].encode()})
    results.append({"image_id": 7, "category_id": first["category_id"], "segmentation": _rle(exact), "score": 0.99})
    stray = np.zeros((h1, w1), np.uint8)
    cv2.circle(stray, (w1 - 20, h1 - 20), 12, 1, -1)
    results.append({"image_id": 3, "category_id": first["category_id"], "segmentation": _rle(stray), "score": 0.99})
    categories = [{"id": i + 1, "name": c, "supercategory": "shape"} for i, c in enumerate(CLASSES)]
    names = [f"kp{i}" for i in range(17)]
    person = [{"id": 1, "name": "figure", "supercategory": "shape", "keypoints": names,
               "skeleton": [[i, i + 1] for i in range(1, 17)]}]
    files = {}
    for key, data in {"instances": {"images": images, "annotations": anns, "categories": categories},
                      "results": results,
                      "keypoints": {"images": images, "annotations": kp_anns, "categories": person},
                      "keypoint_results": kp_results}.items():
        files[key] = folder / f"{key}.json"
        files[key].write_text(json.dumps(data))
    return files


@pytest.fixture
def segm_files(tmp_path) -> dict[str, Path]:
    return build(tmp_path)
