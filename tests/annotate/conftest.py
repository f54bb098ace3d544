"""The small project the annotate tests share: three images the test writes, five labels of every kind."""

import json
import shutil

import cv2
import numpy as np
import pytest

import qmdb


def _rle(mask):
    from pycocotools import mask as api

    rle = api.encode(np.asfortranarray(mask))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


@pytest.fixture(scope="session")
def toy_db(tmp_path_factory):
    """Three 64 x 48 images: two boxes; a polygon and a mask-only label; an image-level class (built once)."""
    tmp_path = tmp_path_factory.mktemp("annotate-toy")
    root = tmp_path / "data"
    root.mkdir()
    for i in range(3):
        cv2.imwrite(str(root / f"im{i}.png"), np.full((48, 64, 3), 40 * i, np.uint8))
    blob = np.zeros((48, 64), np.uint8)
    blob[10:20, 30:45] = 1
    blob[12:14, 33:36] = 0                      # a hole: no polygon says this
    doc = {"images": [{"id": i + 1, "file_name": f"im{i}.png", "width": 64, "height": 48} for i in range(3)],
           "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
           "annotations": [
               {"id": 1, "image_id": 1, "category_id": 1, "bbox": [5.25, 6.5, 20, 10], "area": 200, "iscrowd": 0},
               {"id": 2, "image_id": 1, "category_id": 2, "bbox": [30, 20, 15, 12], "area": 180, "iscrowd": 0},
               {"id": 3, "image_id": 2, "category_id": 2, "bbox": [2, 2, 10, 10], "area": 50, "iscrowd": 0,
                "segmentation": [[2, 2, 12, 2, 12, 12]]},
               {"id": 4, "image_id": 2, "category_id": 1, "bbox": [30, 10, 15, 10], "area": float(blob.sum()),
                "iscrowd": 1, "segmentation": _rle(blob)}]}
    (tmp_path / "toy.json").write_text(json.dumps(doc))
    con = qmdb.connect(tmp_path / "toy.duckdb")
    qmdb.import_dataset(con, "coco", tmp_path / "toy.json", name="toy", root=root)
    con.execute("INSERT INTO labels (image_id, class, source_id) SELECT image_id, 'dog', 'tag-1' FROM images "
                "WHERE path = 'im2.png'")
    con.close()
    return tmp_path / "toy.duckdb"


@pytest.fixture
def toy(toy_db, tmp_path):
    """A connection to a copy of the small project."""
    shutil.copy(toy_db, tmp_path / "toy.duckdb")
    con = qmdb.connect(tmp_path / "toy.duckdb")
    yield con
    con.close()
