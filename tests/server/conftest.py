"""A small real project for the server tests: sklearn's digit images (PNG, upscaled) with
their true classes as labels, and sklearn's two photographs with boxes; plus bait files
outside every dataset root that no request may open."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pytest
from sklearn.datasets import load_digits, load_sample_images

import qmdb

DIGITS = 120
BOXES = {"china.jpg": [(120, 60, 200, 150), (400, 250, 90, 60)], "flower.jpg": [(150, 100, 300, 260)]}
BAIT = ("secret.csv", "secret.parquet", "secret.json", "secret.txt")


def _write_digits(root: Path) -> pa.Table:
    digits = load_digits()
    rows = []
    for index in range(DIGITS):
        pixels = (digits.images[index] * (255 / 16)).astype(np.uint8)
        pixels = cv2.resize(pixels, (32, 32), interpolation=cv2.INTER_NEAREST)
        relative = f"{digits.target[index]}/{index:04d}.png"
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / relative), pixels)
        rows.append((relative, str(digits.target[index])))
    return pa.table({"path": [r[0] for r in rows], "class": [r[1] for r in rows]})


def _fill(con, dataset: str, root: Path, paths: list[str]) -> None:
    files = [root / p for p in paths]
    shapes = [cv2.imread(str(f), cv2.IMREAD_UNCHANGED).shape[:2] for f in files]
    table = pa.table({
        "dataset": [dataset] * len(paths), "path": paths,
        "width": [s[1] for s in shapes], "height": [s[0] for s in shapes],
        "file_size": [f.stat().st_size for f in files],
        "sha256": [hashlib.sha256(f.read_bytes()).hexdigest() for f in files],
    })
    con.register("new_images", table)
    con.execute("INSERT INTO images (dataset, path, width, height, file_size, sha256) SELECT * FROM new_images")
    con.unregister("new_images")


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> dict:
    """Paths of the project file, its dataset roots and the bait folder."""
    base = tmp_path_factory.mktemp("served")
    digits_root, photos_root, bait = base / "digits", base / "photos", base / "bait"
    for folder in (digits_root, photos_root, bait):
        folder.mkdir()
    labels = _write_digits(digits_root)
    for name, image in zip(("china.jpg", "flower.jpg"), load_sample_images().images):
        cv2.imwrite(str(photos_root / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    (bait / "secret.csv").write_text("token,value\nhunter2,42\n")
    (bait / "secret.json").write_text('{"token": "hunter2"}')
    (bait / "secret.txt").write_text("hunter2")
    (bait / "secret.parquet").write_bytes(b"PAR1hunter2PAR1")
    db = base / "project.duckdb"
    con = qmdb.connect(db)
    con.execute("INSERT INTO datasets (name, root, format, task) VALUES (?, ?, 'folders', 'classification'), "
                "(?, ?, 'coco', 'detection')", ["digits", str(digits_root), "photos", str(photos_root)])
    _fill(con, "digits", digits_root, labels["path"].to_pylist())
    _fill(con, "photos", photos_root, list(BOXES))
    con.register("new_labels", labels)
    con.execute("INSERT INTO labels (image_id, class, source_id) SELECT i.image_id, n.class, n.path "
                "FROM new_labels n JOIN images i ON i.dataset = 'digits' AND i.path = n.path")
    boxes = [(name, x, y, w, h) for name, found in BOXES.items() for (x, y, w, h) in found]
    con.executemany("INSERT INTO labels (image_id, class, x, y, w, h, source_id) SELECT image_id, 'region', ?, ?, ?, ?, "
                    "? FROM images WHERE dataset = 'photos' AND path = ?",
                    [(x, y, w, h, f"{name}:{x}", name) for name, x, y, w, h in boxes])
    # an image row whose path climbs out of its dataset root: must never be served
    con.execute("INSERT INTO images (dataset, path, status) VALUES ('photos', '../bait/secret.txt', 'ok')")
    qmdb.save_view(con, "digits_of_class", "SELECT i.image_id, i.path, l.class FROM images i JOIN labels l "
                   "USING (image_id) WHERE i.dataset = 'digits' AND l.class = digit ORDER BY i.image_id",
                   "Digit images of one class.", {"digit": ("VARCHAR", "'3'")})
    con.close()
    return {"db": db, "digits": digits_root, "photos": photos_root, "bait": bait, "boxes": boxes}


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def app(project):
    """The read-only app, built once."""
    from qmdb.server import Settings, create_app

    return create_app(Settings(database=project["db"], max_rows=5_000, timeout=2.0, page_size=50))


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client
