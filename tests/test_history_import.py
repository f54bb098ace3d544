"""A re-import records what it changed in labels as one batch, instead of overwriting silently."""

import json

import numpy as np
import pytest
from PIL import Image

import qmdb
from qmdb.history import undo


@pytest.fixture
def coco(tmp_path):
    (tmp_path / "images").mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)).save(tmp_path / "images" / name)
    data = {
        "images": [{"id": 1, "file_name": "a.png", "width": 80, "height": 60},
                   {"id": 2, "file_name": "b.png", "width": 80, "height": 60}],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [{"id": 10, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 10]},
                        {"id": 11, "image_id": 1, "category_id": 2, "bbox": [30, 30, 20, 20]},
                        {"id": 12, "image_id": 2, "category_id": 2, "bbox": [5, 5, 8, 8]}],
    }
    path = tmp_path / "train.json"
    path.write_text(json.dumps(data))
    return path, data


def versions(con, batch=None):
    return con.sql("SELECT new->>'source_id', op, changed FROM label_versions WHERE batch_id = $b "
                   "ORDER BY coalesce(new->>'source_id', old->>'source_id')",
                   params={"b": batch}).fetchall()


def latest_batch(con):
    return con.sql("SELECT max(batch_id) FROM label_batches").fetchall()[0][0]


def test_first_import_is_version_one_and_a_reimport_records_the_diff(con, coco):
    path, data = coco
    qmdb.import_dataset(con, "coco", path, root=path.parent / "images", name="d")
    first = latest_batch(con)
    assert [(s, op) for s, op, _ in versions(con, first)] == [("10", "insert"), ("11", "insert"), ("12", "insert")]
    assert con.sql("SELECT source FROM label_batches WHERE batch_id = $b", params={"b": first}).fetchall()[0][0] \
        .startswith("import:coco:")
    before = con.sql("SELECT * FROM labels ORDER BY label_id").fetchall()

    qmdb.import_dataset(con, "coco", path, root=path.parent / "images", name="d")
    assert latest_batch(con) == first  # nothing changed: no batch

    data["annotations"][0]["category_id"] = 2                      # a class changed
    data["annotations"][2]["bbox"] = [6, 5, 8, 9]                  # a box moved
    data["annotations"].pop(1)                                     # a label removed
    data["annotations"].append({"id": 13, "image_id": 2, "category_id": 1, "bbox": [40, 40, 9, 9]})  # one added
    path.write_text(json.dumps(data))
    qmdb.import_dataset(con, "coco", path, root=path.parent / "images", name="d")
    second = latest_batch(con)
    changes = con.sql("SELECT coalesce(new->>'source_id', old->>'source_id'), op, changed, version "
                      "FROM label_versions WHERE batch_id = $b ORDER BY 1", params={"b": second}).fetchall()
    assert changes == [("10", "update", ["class"], 2), ("11", "delete", ["image_id", "class", "x", "y", "w", "h",
                        "area", "iscrowd", "source_id"], 2), ("12", "update", ["x", "h", "area"], 2),
                       ("13", "insert", ["image_id", "class", "x", "y", "w", "h", "area", "iscrowd", "source_id"], 1)]

    undo(con, second, author="me")  # the re-import undone: labels as the first import left them
    assert con.sql("SELECT * FROM labels ORDER BY label_id").fetchall() == before
