"""The synthetic million: seeded records, boxes, predictions and vectors without pixels, cached on disk.

    python bench/synth_million.py --size 100000      # make (or find) the files for 100,000 images

Everything is a function of (size, seed) and is written once under `bench/.cache/`
(ignored by git: the folder holds its own `.gitignore`); a second call returns the
cached paths. Made one chunk of images at a time, so memory stays bounded at any size.

- `coco_json(n)`: one COCO instances file: n images (`%07d.jpg`, four camera sizes),
  80 categories, a Poisson(10) number of boxes per image (so ~10 n annotations), each box
  inside its image, with `area` and `iscrowd`. No pixels: the files it names do not exist.
- `detections(n)`: Parquet of the same labels (`labels.parquet`) and of two predictions per
  label on average (`predictions.parquet`): one jittered copy of the label (a 10 % chance of
  another class, a 15 % chance of being missed) and one or more random boxes (false positives),
  scores higher for the jittered copies.
- `vectors(n)`: an (n, 512) float32 `.npy` of clustered unit vectors (1,000 Gaussian blobs,
  the distribution bench/knn.py uses), memory-mapped on return.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

CACHE = Path(__file__).resolve().parent / ".cache"
CHUNK = 50_000  # images per generated chunk
CLASSES = 80
SIZES = np.array([[640, 480], [800, 600], [1024, 768], [1280, 960]])
VERSION = 1


def _folder(kind: str, n: int, seed: int) -> Path:
    folder = CACHE / f"{kind}-{n}-s{seed}-v{VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    gitignore = CACHE / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n")
    return folder


def _chunk(n: int, seed: int, start: int) -> dict[str, np.ndarray]:
    """Images start..start+CHUNK and their boxes, from a generator seeded by (seed, chunk number)."""
    rng = np.random.default_rng([seed, start // CHUNK])
    m = min(CHUNK, n - start)
    image_id = np.arange(start + 1, start + m + 1, dtype=np.int64)
    size = SIZES[rng.integers(0, len(SIZES), m)]
    count = rng.poisson(10, m)
    owner = np.repeat(np.arange(m), count)
    width, height = size[owner, 0].astype(np.float64), size[owner, 1].astype(np.float64)
    w = np.round(np.clip(rng.lognormal(4.0, 0.8, len(owner)), 4, width), 2)
    h = np.round(np.clip(rng.lognormal(4.0, 0.8, len(owner)), 4, height), 2)
    x = np.round(rng.random(len(owner)) * (width - w), 2)
    y = np.round(rng.random(len(owner)) * (height - h), 2)
    return {"image_id": image_id, "width": size[:, 0], "height": size[:, 1], "box_image": image_id[owner],
            "category": rng.integers(1, CLASSES + 1, len(owner)), "x": x, "y": y, "w": w, "h": h,
            "img_w": width, "img_h": height, "rng": rng}


def _first_box_id(n: int, seed: int) -> list[int]:
    """The first annotation id of each chunk (ids are 1.. over the whole file, chunk by chunk)."""
    firsts, total = [], 1
    for start in range(0, n, CHUNK):
        firsts.append(total)
        total += len(_chunk(n, seed, start)["x"])
    return firsts


def _num(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _join(parts: list) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def coco_json(n: int, seed: int = 0) -> Path:
    """The COCO instances file for n images (made once)."""
    path = _folder("coco", n, seed) / "instances.json"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as out:
        cats = [{"id": c, "name": f"class{c:02d}", "supercategory": f"group{(c - 1) // 10}"}
                for c in range(1, CLASSES + 1)]
        out.write('{"info": {"description": "qmdb synthetic million"}, "categories": ')
        out.write(json.dumps(cats))
        out.write(', "images": [')
        for start in range(0, n, CHUNK):
            c = _chunk(n, seed, start)
            rows = _join(['{"id": ', _num(c["image_id"]), ', "file_name": "', pc.utf8_lpad(_num(c["image_id"]), 7, "0"),
                          '.jpg", "width": ', _num(c["width"]), ', "height": ', _num(c["height"]), "}"])
            out.write((", " if start else "") + ", ".join(rows.to_pylist()))
        out.write('], "annotations": [')
        box_id = 1
        for start in range(0, n, CHUNK):
            c = _chunk(n, seed, start)
            k = len(c["x"])
            ids = np.arange(box_id, box_id + k)
            rows = _join(['{"id": ', _num(ids), ', "image_id": ', _num(c["box_image"]), ', "category_id": ',
                          _num(c["category"]), ', "bbox": [', _num(c["x"]), ", ", _num(c["y"]), ", ", _num(c["w"]),
                          ", ", _num(c["h"]), '], "area": ', _num(np.round(c["w"] * c["h"], 2)), ', "iscrowd": 0}'])
            out.write((", " if box_id > 1 and k else "") + ", ".join(rows.to_pylist()))
            box_id += k
        out.write("]}")
    tmp.rename(path)
    return path


def detections(n: int, seed: int = 0) -> tuple[Path, Path]:
    """(labels.parquet, predictions.parquet) for n images: the COCO file's boxes and a model's detections."""
    folder = _folder("detections", n, seed)
    labels_path, preds_path = folder / "labels.parquet", folder / "predictions.parquet"
    if labels_path.exists() and preds_path.exists():
        return labels_path, preds_path
    firsts = _first_box_id(n, seed)
    label_writer = pred_writer = None
    for chunk_no, start in enumerate(range(0, n, CHUNK)):
        c = _chunk(n, seed, start)
        rng = c["rng"]
        k = len(c["x"])
        labels = pa.table({"label_id": np.arange(firsts[chunk_no], firsts[chunk_no] + k), "image_id": c["box_image"],
                           "class_id": c["category"].astype(np.int32), "x": c["x"], "y": c["y"], "w": c["w"], "h": c["h"]})
        kept = rng.random(k) >= 0.15
        jitter = 1 + 0.08 * rng.standard_normal((k, 4))
        tw, th = np.minimum(c["w"] * jitter[:, 2], c["img_w"]), np.minimum(c["h"] * jitter[:, 3], c["img_h"])
        tx = np.clip(c["x"] + c["w"] * (jitter[:, 0] - 1), 0, c["img_w"] - tw)
        ty = np.clip(c["y"] + c["h"] * (jitter[:, 1] - 1), 0, c["img_h"] - th)
        cls = np.where(rng.random(k) < 0.1, rng.integers(1, CLASSES + 1, k), c["category"])
        false = rng.poisson(1.15, k)  # ~1.15 false positives per label: ~2 predictions per label in all
        owner = np.repeat(np.arange(k), false)
        fw = np.clip(rng.lognormal(3.8, 0.9, len(owner)), 4, c["img_w"][owner])
        fh = np.clip(rng.lognormal(3.8, 0.9, len(owner)), 4, c["img_h"][owner])
        preds = pa.table({
            "image_id": np.concatenate([c["box_image"][kept], c["box_image"][owner]]),
            "class_id": np.concatenate([cls[kept], rng.integers(1, CLASSES + 1, len(owner))]).astype(np.int32),
            "score": np.concatenate([rng.beta(5, 2, int(kept.sum())), rng.beta(2, 5, len(owner))]),
            "x": np.concatenate([tx[kept], rng.random(len(owner)) * (c["img_w"][owner] - fw)]),
            "y": np.concatenate([ty[kept], rng.random(len(owner)) * (c["img_h"][owner] - fh)]),
            "w": np.concatenate([tw[kept], fw]), "h": np.concatenate([th[kept], fh]),
        })
        if label_writer is None:
            label_writer = pq.ParquetWriter(labels_path.with_suffix(".tmp"), labels.schema)
            pred_writer = pq.ParquetWriter(preds_path.with_suffix(".tmp"), preds.schema)
        label_writer.write_table(labels)
        pred_writer.write_table(preds)
    label_writer.close()
    pred_writer.close()
    labels_path.with_suffix(".tmp").rename(labels_path)
    preds_path.with_suffix(".tmp").rename(preds_path)
    return labels_path, preds_path


def vectors(n: int, dim: int = 512, seed: int = 0, clusters: int = 1000) -> np.ndarray:
    """(n, dim) clustered unit vectors, float32, memory-mapped from the cache."""
    path = _folder("vectors", n, seed) / f"d{dim}-c{clusters}.npy"
    if not path.exists():
        tmp = path.with_suffix(".tmp.npy")
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, dim))
        centers = np.random.default_rng([seed, 1 << 30]).standard_normal((clusters, dim), dtype=np.float32)
        for start in range(0, n, CHUNK):
            rng = np.random.default_rng([seed, start // CHUNK])
            m = min(CHUNK, n - start)
            block = centers[rng.integers(0, clusters, m)] + 0.6 * rng.standard_normal((m, dim), dtype=np.float32)
            out[start:start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
        out.flush()
        del out
        tmp.rename(path)
    return np.load(path, mmap_mode="r")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="images (default 100,000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(coco_json(args.size, args.seed))
    print(*detections(args.size, args.seed))
    print(vectors(args.size, seed=args.seed).shape)


if __name__ == "__main__":
    main()
