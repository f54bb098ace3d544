"""A small demo-like project on real images: photographs, digits, broken files, boxes; built twice on demand
(one for the local runner, one for the scale-out path) so results can be compared row for row."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import duckdb
import numpy as np
import pyarrow as pa
import pytest
import skimage.data
from sklearn.datasets import load_digits, load_sample_images

import qmdb


def _photos() -> list[np.ndarray]:
    china, flower = load_sample_images().images
    rgb = [china, flower, skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea()]
    return [np.ascontiguousarray(a[::2, ::2, ::-1]) for a in rgb]  # BGR, half size


def _digits(n: int) -> list[np.ndarray]:
    grey = (load_digits().images[:n] / 16.0 * 255).astype(np.uint8)
    return [cv2.cvtColor(cv2.resize(g, (32, 32), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2BGR) for g in grey]


@pytest.fixture(scope="session")
def image_root(tmp_path_factory) -> Path:
    """PNG and JPEG files of real images, and broken ones."""
    root = tmp_path_factory.mktemp("scale-images")
    for n, bgr in enumerate(_photos()):
        cv2.imwrite(str(root / f"photo{n}.png"), bgr)
        cv2.imwrite(str(root / f"photo{n}_dark.jpg"), (bgr * 0.2).astype(np.uint8))
    for n, bgr in enumerate(_digits(40)):
        cv2.imwrite(str(root / f"digit{n:02d}.png"), bgr)
    good = (root / "photo0_dark.jpg").read_bytes()
    (root / "zero_byte.jpg").write_bytes(b"")
    (root / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (root / "not_an_image.png").write_bytes(b"a log line, not a PNG\n" * 40)
    return root


FILES = [f"photo{n}.png" for n in range(5)] + [f"photo{n}_dark.jpg" for n in range(5)] + \
    [f"digit{n:02d}.png" for n in range(40)] + ["zero_byte.jpg", "truncated.jpg", "not_an_image.png", "missing.jpg"]


def build(db: Path, root: Path) -> duckdb.DuckDBPyConnection:
    """A project over `root`: every file of FILES (with sha256), boxes on the photos and the digits."""
    con = qmdb.connect(db)
    con.execute("INSERT INTO datasets (name, root, format) VALUES ('demo', ?, 'folders')", [str(root)])
    hashes = [hashlib.sha256((root / f).read_bytes()).hexdigest() if (root / f).exists() else None for f in FILES]
    con.register("files", pa.table({"path": FILES, "sha256": pa.array(hashes, pa.string())}))
    con.execute("INSERT INTO images (dataset, path, sha256) SELECT 'demo', path, sha256 FROM files ORDER BY path")
    con.unregister("files")
    rng = np.random.default_rng(7)
    boxes = []
    for f in FILES:
        if f.startswith("photo") and not f.endswith("dark.jpg"):
            for k in range(4):
                x, y = rng.uniform(0, 200, 2)
                boxes.append((f, ["cat", "cup", "face"][k % 3], x, y, *rng.uniform(10, 150, 2), f"{f}:{k}"))
            boxes.append((f, "sky", 250.0, 150.0, 80.0, 60.0, f"{f}:out"))  # leaves the smaller photos
        elif f.startswith("digit"):
            boxes.append((f, f"d{int(f[5:7]) % 10}", 4.0, 2.0, 24.0, 28.0, f"{f}:0"))
    boxes.append(("zero_byte.jpg", "thing", 0.0, 0.0, 10.0, 10.0, "zero:0"))
    con.register("boxes", pa.table(list(zip(*boxes)), names=["path", "class", "x", "y", "w", "h", "source_id"]))
    con.execute("INSERT INTO labels (image_id, class, x, y, w, h, source_id) "
                "SELECT i.image_id, b.class, b.x, b.y, b.w, b.h, b.source_id FROM boxes b JOIN images i USING (path) "
                "ORDER BY i.image_id, b.source_id")
    con.unregister("boxes")
    return con


@pytest.fixture
def pair(tmp_path, image_root):
    """(local, scaled): two identical fresh projects over the same images."""
    local, scaled = build(tmp_path / "local.duckdb", image_root), build(tmp_path / "scaled.duckdb", image_root)
    yield local, scaled
    local.close()
    scaled.close()


def table(con, sql: str) -> list[tuple]:
    return con.sql(sql).fetchall()


METRIC_TABLES = [
    "SELECT * EXCLUDE (versions), list_sort(map_entries(versions)) FROM image_metrics ORDER BY image_id",
    "SELECT * EXCLUDE (versions), list_sort(map_entries(versions)) FROM label_metrics ORDER BY label_id",
    "SELECT dataset, image_id, file, stage, message FROM errors ORDER BY ALL",
]


def uri_manifest(folder: Path, root: Path, name: str = "bucket.csv") -> Path:
    """A user manifest naming every file of FILES by a file:// URI (missing.jpg does not exist), with ids."""
    uris = [(root / f).resolve().as_uri() for f in FILES]
    rows = pa.table({"uri": uris, "image_id": [1000 + n for n in range(len(FILES))]})
    path = folder / name
    if path.suffix == ".csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(rows, path)
    else:
        import pyarrow.parquet as pq

        pq.write_table(rows, path)
    return path


BY_NAME = {
    "metrics": "SELECT regexp_extract(i.path, '[^/]+$') AS name, m.* EXCLUDE (image_id, versions), "
               "list_sort(map_entries(m.versions)) FROM image_metrics m JOIN images i USING (image_id) ORDER BY name",
    "errors": "SELECT regexp_extract(file, '[^/]+$') AS name, stage, message FROM errors ORDER BY ALL",
    "vectors": "SELECT regexp_extract(i.path, '[^/]+$') AS name, e.model, e.vector FROM embeddings e "
               "JOIN images i ON e.item_type = 'image' AND e.item_id = i.image_id ORDER BY name",
}
