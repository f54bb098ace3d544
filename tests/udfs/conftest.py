"""Real photographs (scikit-learn, scikit-image) written to disk, with boxes, broken files and a project."""

from pathlib import Path

import cv2
import duckdb
import numpy as np
import pytest
import skimage.data
from sklearn.datasets import load_sample_images

import qmdb


def photos() -> dict[str, np.ndarray]:
    """Real photographs as BGR uint8 (camera is a true greyscale photo, replicated to 3 channels)."""
    china, flower = load_sample_images().images
    rgb = {"china": china, "flower": flower, "astronaut": skimage.data.astronaut(),
           "coffee": skimage.data.coffee(), "chelsea": skimage.data.chelsea(),
           "camera": np.repeat(skimage.data.camera()[..., None], 3, axis=2)}
    return {name: np.ascontiguousarray(a[..., ::-1]) for name, a in rgb.items()}


def variants() -> dict[str, np.ndarray]:
    out = {}
    for name, bgr in photos().items():
        out[name] = bgr
        out[f"{name}_dark"] = (bgr.astype(np.float32) * 0.2).round().astype(np.uint8)
        out[f"{name}_blurred"] = cv2.GaussianBlur(bgr, (0, 0), 3)
    return out


BROKEN = {
    "zero_byte.jpg": lambda good: b"",
    "truncated.jpg": lambda good: good[: len(good) // 3],
    "corrupt.png": lambda good: good[:64] + bytes(range(256)) * 8,
    "not_an_image.png": lambda good: b"2024-01-01 12:00:00 INFO this is a log file, not a PNG\n" * 20,
}


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory) -> Path:
    """PNG (lossless) copies of the photos and their dark and blurred variants, a few JPEGs, broken files."""
    root = tmp_path_factory.mktemp("photos")
    for name, bgr in variants().items():
        cv2.imwrite(str(root / f"{name}.png"), bgr)
    good_jpeg = cv2.imencode(".jpg", photos()["china"])[1].tobytes()
    (root / "china.jpg").write_bytes(good_jpeg)
    for name, make in BROKEN.items():
        data = good_jpeg if name.endswith(".jpg") else (root / "china.png").read_bytes()
        (root / name).write_bytes(make(data))
    return root


def make_project(db_path: Path, root: Path, files: list[str], boxes: list[tuple] = ()) -> "duckdb.DuckDBPyConnection":
    """A project with one dataset over `root`, the given image files, and boxes (file, class, x, y, w, h)."""
    con = qmdb.connect(db_path)
    con.execute("INSERT INTO datasets (name, root, format) VALUES ('photos', ?, 'folders')", [str(root)])
    con.execute("INSERT INTO images (dataset, path) SELECT 'photos', unnest(?) ORDER BY 1", [files])
    for n, (file, cls, x, y, w, h) in enumerate(boxes):
        con.execute(
            "INSERT INTO labels (image_id, class, x, y, w, h, source_id) "
            "SELECT image_id, ?, ?, ?, ?, ?, ? FROM images WHERE path = ?", [cls, x, y, w, h, str(n), file])
    return con


GOOD = sorted(f"{name}.png" for name in variants()) + ["china.jpg"]
BOXES = [
    ("china.png", "building", 150, 40, 120, 150),
    ("china.png", "building", 155, 45, 120, 150),     # a near-duplicate box
    ("china.png", "sky", 0, 0, 640, 60),
    ("china.png", "sky", 600, 400, 80, 60),           # leaves the image
    ("flower.png", "flower", 200, 100, 250, 250),
    ("flower.png", "bee", 210, 110, 240, 240),        # the same object under another class
    ("astronaut.png", "face", 170, 40, 120, 150),
    ("astronaut.png", "face", 5, 5, 4, 30),           # tiny
    ("coffee.png", "cup", 0, 0, 600, 400),            # too large
    ("camera.png", "person", 200, 60, 180, 300),
    ("zero_byte.jpg", "thing", 0, 0, 10, 10),
]


@pytest.fixture
def project(tmp_path, photo_dir):
    """A project over every photo, variant and broken file, with boxes."""
    files = GOOD + sorted(BROKEN) + ["missing.jpg"]
    con = make_project(tmp_path / "metrics.duckdb", photo_dir, files, BOXES)
    con.execute("INSERT INTO labels (image_id, class, source_id) SELECT image_id, 'no-box', 'c' FROM images WHERE path = 'coffee.png'")
    yield con
    con.close()
