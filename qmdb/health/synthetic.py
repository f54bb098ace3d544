"""Synthetic projects with precomputed metrics and planted faults, for the health tests and
bench/hygiene.py: many rows without decoding a pixel.

`project(n)` writes `n` images of dataset `synthetic` (splits train/val/test, 70/15/15), their
image-level labels (classes c0..c9) and `image_metrics` rows drawn around photo-like values. The
faults are planted only when asked: `copies` val/test images that are byte copies of train images,
`degraded` images darkened and blurred, and `drop_class` absent from the test split.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

SPLITS = ("train", "val", "test")
CLASSES = tuple(f"c{k}" for k in range(10))


def project(con: duckdb.DuckDBPyConnection, n: int, *, seed: int = 0, copies: int = 0, degraded: int = 0,
            drop_class: str | None = None, dataset: str = "synthetic") -> dict[str, list[int]]:
    """Fill `con` (a qmdb connection) with `n` synthetic images; returns the planted image ids by fault."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1)
    split = rng.choice(SPLITS, n, p=[0.7, 0.15, 0.15])
    klass = rng.choice(CLASSES, n, p=np.linspace(1.5, 0.5, len(CLASSES)) / np.linspace(1.5, 0.5, len(CLASSES)).sum())
    if drop_class is not None:
        test_rows = (split == "test") & (klass == drop_class)
        klass[test_rows] = rng.choice([c for c in CLASSES if c != drop_class], int(test_rows.sum()))
    sha = np.array([f"{seed:04x}{i:060x}" for i in ids])
    phash = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64) * np.uint64(2) + rng.integers(0, 2, n).astype(np.uint64)
    sizes = np.array([(640, 480), (480, 640), (800, 600), (1024, 768)])[rng.integers(0, 4, n)]
    brightness = rng.beta(5, 5, n)
    contrast = np.clip(rng.normal(0.2, 0.05, n), 0.05, 0.45)
    sharpness = rng.lognormal(np.log(600), 0.8, n)
    entropy = np.clip(rng.normal(7.2, 0.4, n), 4.5, 8.0)
    planted: dict[str, list[int]] = {"copies": [], "degraded": []}
    if copies:
        train = np.flatnonzero(split == "train")
        others = np.flatnonzero(split != "train")
        source, target = rng.choice(train, copies, replace=False), rng.choice(others, copies, replace=False)
        sha[target], phash[target] = sha[source], phash[source]
        brightness[target], contrast[target], sharpness[target] = brightness[source], contrast[source], sharpness[source]
        planted["copies"] = sorted(int(ids[t]) for t in target)
    if degraded:
        pick = rng.choice(n, degraded, replace=False)
        brightness[pick] *= 0.12
        contrast[pick] *= 0.12
        sharpness[pick] = rng.uniform(0.3, 2.0, degraded)
        entropy[pick] -= 2.5
        planted["degraded"] = sorted(int(ids[p]) for p in pick)
    images = pa.table({"image_id": ids, "dataset": [dataset] * n, "path": [f"{s}/{i:07d}.jpg" for s, i in zip(split, ids)],
                       "split": split, "width": sizes[:, 0], "height": sizes[:, 1], "sha256": sha})
    labels = pa.table({"image_id": ids, "class": klass})
    metrics = pa.table({"image_id": ids, "width": sizes[:, 0].astype(np.int32), "height": sizes[:, 1].astype(np.int32),
                        "brightness": brightness, "contrast": contrast, "sharpness": sharpness, "entropy": entropy,
                        "is_grayscale": rng.random(n) < 0.02, "phash": phash})
    con.register("_synthetic_images", images)
    con.register("_synthetic_labels", labels)
    con.register("_synthetic_metrics", metrics)
    try:
        con.execute("INSERT INTO datasets (name, root, format, task) VALUES (?, '', 'table', 'classification')", [dataset])
        con.execute("INSERT INTO images (image_id, dataset, path, split, width, height, sha256) "
                    "SELECT * FROM _synthetic_images")
        con.execute("INSERT INTO labels (image_id, class, source_id) SELECT image_id, class, '0' FROM _synthetic_labels")
        con.execute("INSERT INTO image_metrics (image_id, width, height, aspect_ratio, area, brightness, contrast, "
                    "sharpness, entropy, is_grayscale, phash, versions) "
                    "SELECT image_id, width, height, width / height, width * height, brightness, contrast, sharpness, "
                    "entropy, is_grayscale, phash, MAP {} FROM _synthetic_metrics")
    finally:
        for name in ("_synthetic_images", "_synthetic_labels", "_synthetic_metrics"):
            con.unregister(name)
    return planted
