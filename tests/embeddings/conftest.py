"""Small real projects for the embedding tests: scikit-learn's digits and crops of the bundled photographs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pytest
from sklearn.datasets import load_digits, load_sample_images

import qmdb


def digit_images() -> tuple[list[np.ndarray], np.ndarray]:
    """The 1,797 digits as 32×32 grey-in-RGB uint8 images (upscaled ×4, as the demo writes them), and classes."""
    digits = load_digits()
    grey = (digits.images / 16.0 * 255).astype(np.uint8)
    images = [cv2.cvtColor(cv2.resize(g, (32, 32), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2RGB)
              for g in grey]
    return images, digits.target


def photographs() -> list[np.ndarray]:
    """The real photographs scikit-learn and scikit-image ship (RGB uint8)."""
    import skimage.data as data

    photos = list(load_sample_images().images)
    photos += [getattr(data, name)() for name in ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")]
    return [p if p.ndim == 3 else cv2.cvtColor(p, cv2.COLOR_GRAY2RGB) for p in photos]


def add_dataset(con, root: Path, name: str, images: list[np.ndarray], classes=None, boxes=None) -> None:
    """Write images as PNG under root/name and insert them (and labels) into the project's tables."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    paths, hashes = [], []
    for number, image in enumerate(images):
        path = f"{number:05d}.png"
        cv2.imwrite(str(folder / path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        paths.append(path)
        hashes.append(hashlib.sha256((folder / path).read_bytes()).hexdigest())
    con.execute("INSERT INTO datasets (name, root, format, task) VALUES (?, ?, 'folders', ?)",
                [name, str(folder), "detection" if boxes is not None else "classification"])
    con.register("new_images", pa.table({"path": paths, "sha256": hashes, "height": [i.shape[0] for i in images],
                                         "width": [i.shape[1] for i in images]}))
    con.execute("INSERT INTO images (dataset, path, width, height, sha256) "
                "SELECT ?, path, width, height, sha256 FROM new_images",
                [name])
    if classes is not None:
        con.register("new_labels", pa.table({"path": paths, "class": [str(c) for c in classes]}))
        con.execute("INSERT INTO labels (image_id, class, source_id) SELECT i.image_id, n.class, n.path "
                    "FROM new_labels n JOIN images i ON i.dataset = ? AND i.path = n.path", [name])
    if boxes is not None:
        rows = [(paths[n], c, *box) for n, c, box in boxes]
        con.register("new_boxes", pa.table({k: [r[j] for r in rows] for j, k in
                                            enumerate(["path", "class", "x", "y", "w", "h"])}))
        con.execute("INSERT INTO labels (image_id, class, x, y, w, h, source_id) "
                    "SELECT i.image_id, n.class, n.x, n.y, n.w, n.h, n.path || ':' || row_number() OVER () "
                    "FROM new_boxes n JOIN images i ON i.dataset = ? AND i.path = n.path", [name])


@pytest.fixture(scope="session")
def digits_project(tmp_path_factory):
    """A project file with the digits dataset embedded by the built-in model, neighbours K=10."""
    root = tmp_path_factory.mktemp("digits")
    db = root / "digits.duckdb"
    con = qmdb.connect(db)
    images, target = digit_images()
    add_dataset(con, root, "digits", images, classes=target)
    qmdb.embed(con, neighbors=10, progress=False)
    con.close()
    return db


@pytest.fixture
def digits_ro(digits_project):
    """A read-only qmdb connection to the digits project, closed after the test."""
    con = qmdb.connect(digits_project, read_only=True)
    yield con
    con.close()
