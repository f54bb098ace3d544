import json

import numpy as np
import pytest
from pycocotools.coco import COCO

import qmdb
from qmdb.importers import import_dataset


def test_import_fills_tables_from_headers_and_bytes(project, coco_file, scenes):
    report = import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes", split="train")
    assert (report.images, report.labels, report.errors) == (6, sum(len(s["boxes"]) for s in scenes), 0)
    rows = project.sql("SELECT path, width, height, file_size, sha256, status, split, camera FROM images ORDER BY path").fetchall()
    import hashlib

    for (path, w, h, size, digest, status, split, camera), scene in zip(rows, scenes):
        data = (coco_file.parent / "images" / path).read_bytes()
        assert (path, w, h, size, status, split) == (scene["file_name"], scene["width"], scene["height"], len(data), "ok", "train")
        assert digest == hashlib.sha256(data).hexdigest()
        assert camera in ("cam-a", "cam-b")
    assert project.sql("SELECT task, format FROM datasets").fetchall() == [("detection", "coco")]
    assert project.sql("SELECT count(*), min(class_id), max(class_id) FROM classes").fetchall() == [(10, 1, 10)]
    assert project.sql("SELECT count(DISTINCT annotator), bool_or(iscrowd) FROM labels").fetchall() == [(2, False)]


def test_reimport_is_idempotent_with_stable_ids(project, coco_file):
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    labels = "SELECT label_id, source_id, image_id, class, x, y, w, h, polygon FROM labels ORDER BY label_id"
    before = project.sql(labels).fetchall()
    images = project.sql("SELECT image_id, path FROM images ORDER BY 1").fetchall()
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    assert project.sql(labels).fetchall() == before
    assert project.sql("SELECT image_id, path FROM images ORDER BY 1").fetchall() == images
    # an annotation deleted from the source disappears, the others keep their ids
    data = json.loads(coco_file.read_text())
    removed = data["annotations"].pop(0)
    coco_file.write_text(json.dumps(data))
    report = import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    assert report.removed == 1
    assert project.sql(labels).fetchall() == [r for r in before if r[1] != str(removed["id"])]


def test_round_trip_keeps_every_box(project, coco_file, tmp_path):
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    out = tmp_path / "out.json"
    qmdb.export_coco(project, out, query="SELECT image_id FROM images")
    a, b = json.loads(coco_file.read_text()), json.loads(out.read_text())
    key = lambda ann: ann["id"]  # noqa: E731
    assert [x["id"] for x in sorted(a["annotations"], key=key)] == [x["id"] for x in sorted(b["annotations"], key=key)]
    for x, y in zip(sorted(a["annotations"], key=key), sorted(b["annotations"], key=key)):
        np.testing.assert_allclose(x["bbox"], y["bbox"], atol=1e-6)
        np.testing.assert_allclose(x["segmentation"][0], y["segmentation"][0], atol=1e-6)
        assert (x["image_id"], x["category_id"], x["area"], x["iscrowd"], x["annotator"]) == \
            (y["image_id"], y["category_id"], y["area"], y["iscrowd"], y["annotator"])
    assert [(i["id"], i["file_name"], i["width"], i["camera"]) for i in a["images"]] == \
        [(i["id"], i["file_name"], i["width"], i["camera"]) for i in b["images"]]
    assert a["categories"] == b["categories"]
    assert len(COCO(str(out)).getAnnIds()) == len(a["annotations"])  # pycocotools reads it


def test_missing_and_unreadable_images_are_error_rows(project, coco_file):
    data = json.loads(coco_file.read_text())
    data["images"][1]["file_name"] = "gone.png"
    broken = coco_file.parent / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    data["images"][2]["file_name"] = "../broken.jpg"
    coco_file.write_text(json.dumps(data))
    report = import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    assert report.errors == 2 and report.images == 6
    rows = project.sql("SELECT i.path, i.status, e.file, e.stage FROM errors e JOIN images i USING (image_id) ORDER BY 1").fetchall()
    assert [(r[0], r[1], r[3]) for r in rows] == [("../broken.jpg", "unreadable", "import"), ("gone.png", "missing", "import")]
    assert rows[1][2].endswith("gone.png")
    # labels of the missing image are kept, checked against the JSON's declared size
    assert project.sql("SELECT count(*) FROM labels JOIN images USING (image_id) WHERE path = 'gone.png'").fetchall()[0][0] > 0
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    assert project.sql("SELECT count(*) FROM errors").fetchall() == [(2,)]  # re-import: no duplicate error rows


def test_declared_size_disagreeing_with_the_file_is_recorded(project, coco_file):
    data = json.loads(coco_file.read_text())
    data["images"][0]["width"] += 10
    coco_file.write_text(json.dumps(data))
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    (message,) = project.sql("SELECT message FROM errors").fetchall()[0]
    assert "the JSON says" in message and project.sql("SELECT width FROM images WHERE source_id = '1'").fetchall() == \
        [(data["images"][0]["width"] - 10,)]


@pytest.mark.parametrize("field", ["path", "Width"])
def test_metadata_field_colliding_with_core_column_is_refused(project, coco_file, field):
    data = json.loads(coco_file.read_text())
    data["images"][0][field] = "x"
    coco_file.write_text(json.dumps(data))
    with pytest.raises(qmdb.InputError, match=f"{field}: metadata field collides with the core column images.{field.lower()}"):
        import_dataset(project, "coco", coco_file, root=coco_file.parent / "images")
