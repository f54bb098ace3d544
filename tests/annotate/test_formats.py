"""qmdb.annotate on a small project it builds: CVAT / Label Studio / COCO round trips, matching, attribution, bad input."""

import json
import xml.etree.ElementTree as ET

import pytest

import qmdb
from qmdb.annotate import export_cvat, export_labelstudio, load_annotations, read_changes
from qmdb.errors import InputError

pytest.importorskip("pycocotools")


def _labels(con):
    return con.sql("SELECT label_id, image_id, class, round(x, 6), round(y, 6), round(w, 6), round(h, 6), polygon, "
                   "mask FROM labels ORDER BY label_id").fetchall()


def test_cvat_round_trip_is_no_change(toy, toy_db, tmp_path):
    report = export_cvat(toy, tmp_path / "task", query="SELECT image_id FROM images", owner="ana")
    assert (report.images, report.labels) == (3, 5)
    root = ET.parse(tmp_path / "task" / "annotations.xml").getroot()
    kinds = sorted(el.tag for image in root.iter("image") for el in image)
    assert kinds == ["box", "box", "mask", "polygon", "tag"]
    link = tmp_path / "task" / "images" / "im0.png"
    assert link.is_symlink() and link.resolve() == (toy_db.parent / "data" / "im0.png").resolve()
    changes, scope = read_changes(toy, tmp_path / "task" / "annotations.xml")
    assert scope.num_rows == 3 and changes.num_rows == 0


def test_cvat_mask_comes_back_pixel_exact(toy, tmp_path):
    export_cvat(toy, tmp_path / "task", query="SELECT image_id FROM images", images="copy")
    file = tmp_path / "task" / "annotations.xml"
    tree = ET.parse(file)
    mask = next(tree.getroot().iter("mask"))
    mask.set("label", "dog")                           # a class fix on a mask: only the class changes
    tree.write(file)
    changes, _ = read_changes(toy, file)
    (row,) = changes.to_pylist()
    stored = toy.sql("SELECT mask, x, y, w, h FROM labels WHERE label_id = $id", params={"id": row["label_id"]}).fetchall()[0]
    assert (row["op"], row["class"], row["mask"], (row["x"], row["y"], row["w"], row["h"])) == \
        ("update", "dog", stored[0], stored[1:])


def test_ids_dropped_are_matched_by_iou(toy, tmp_path):
    """A tool that drops the label_id attributes: boxes still match (IoU, then regardless of class)."""
    export_cvat(toy, tmp_path / "task", query="SELECT image_id FROM images WHERE path = 'im0.png'")
    file = tmp_path / "task" / "annotations.xml"
    text = file.read_text()
    tree = ET.ElementTree(ET.fromstring(text))
    boxes = list(tree.getroot().iter("box"))
    for box in boxes:
        for attribute in box.findall("attribute"):
            box.remove(attribute)
    boxes[0].set("xtl", str(float(boxes[0].get("xtl")) + 2))            # moved a little
    boxes[1].set("label", "cat")                                        # class fixed
    tree.write(file)
    changes = read_changes(toy, file)[0].to_pylist()
    assert sorted(c["op"] for c in changes) == ["update", "update"]
    by_id = {c["label_id"]: c for c in changes}
    first, second = toy.sql("SELECT label_id, x FROM labels l JOIN images i USING (image_id) WHERE i.path = 'im0.png' "
                            "ORDER BY label_id").fetchall()
    assert by_id[first[0]]["x"] == pytest.approx(first[1] + 2) and by_id[second[0]]["class"] == "cat"


def test_labelstudio_round_trip_edits_and_annotator(toy, tmp_path):
    con = toy
    con.execute("INSERT INTO models (model, task) VALUES ('det', 'detection')")
    image = con.sql("SELECT image_id FROM images WHERE path = 'im0.png'").fetchall()[0][0]
    con.execute("INSERT INTO predictions (model, image_id, class, score, x, y, w, h, source_id) "
                "VALUES ('det', ?, 'dog', 0.8, 1, 1, 8, 8, 'p1')", [image])
    report = export_labelstudio(con, tmp_path / "ls", query="SELECT image_id FROM images", images="url",
                                url="http://localhost:8000")
    assert report.labels == 5
    tasks = json.loads((tmp_path / "ls" / "tasks.json").read_text())
    first = next(t for t in tasks if t["data"]["qmdb_image_id"] == image)
    assert first["data"]["image"] == f"http://localhost:8000/images/{image}"
    (prediction,) = first["predictions"]
    assert prediction["model_version"] == "det" and prediction["result"][0]["score"] == pytest.approx(0.8)
    assert "<Choices" in (tmp_path / "ls" / "label_config.xml").read_text()
    assert read_changes(con, tmp_path / "ls" / "tasks.json")[0].num_rows == 0
    # the annotator's work, as Label Studio exports it
    annotation = first["annotations"][0]
    annotation.update(completed_by={"id": 3, "email": "eve@example.org"}, updated_at="2026-01-01T00:00:00Z")
    boxes = annotation["result"]
    boxes[0]["value"]["rectanglelabels"] = ["dog"]
    removed = boxes.pop(1)
    new = dict(prediction["result"][0], id="Xy12ab")
    boxes.append(new)
    for task in tasks:
        if task is not first:
            task["annotations"] = []                 # nobody opened them: no change, no deletion
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    batch_report = load_annotations(con, tmp_path / "export.json", author="fallback")
    assert (batch_report.updated, batch_report.added, batch_report.deleted) == (1, 1, 1)
    rows = con.sql("SELECT op, author, source FROM label_versions WHERE batch_id = $b ORDER BY op",
                   params={"b": batch_report.batch}).fetchall()
    assert rows == [(op, "eve@example.org", "labelstudio:export.json") for op in ("delete", "insert", "update")]
    assert not con.sql("SELECT count(*) FROM labels WHERE label_id = $id",
                       params={"id": int(removed["id"][1:])}).fetchall()[0][0]
    assert con.sql("SELECT annotator, w FROM labels WHERE source_id LIKE 'labelstudio-%'").fetchall() == [
        ("eve@example.org", pytest.approx(8))]


def test_coco_from_the_tool(toy, tmp_path):
    """COCO as CVAT exports it: label ids in `attributes`; without them, boxes match by IoU."""
    qmdb.export_coco(toy, tmp_path / "out.json", query="SELECT image_id FROM images")
    doc = json.loads((tmp_path / "out.json").read_text())
    assert read_changes(toy, tmp_path / "out.json")[0].num_rows == 0
    doc["annotations"] = [a for a in doc["annotations"] if a["category_id"] != 1 or a.get("iscrowd")]
    (tmp_path / "edited.json").write_text(json.dumps(doc))
    (row,) = read_changes(toy, tmp_path / "edited.json")[0].to_pylist()
    assert row["op"] == "delete" and row["class"] == "cat"


@pytest.mark.parametrize("edit, field", [
    (lambda t: t.replace("<box", "<box oops", 1), "line"),
    (lambda t: t.replace('<box label="cat"', '<box label="cta"', 1), "class 'cta' is not a class of dataset 'toy'"),
    (lambda t: t.replace('xtl="', 'xtl="x', 1), "xtl"),
    (lambda t: t.replace('name="im0.png"', 'name="nowhere.png"', 1), "image 'nowhere.png'"),
])
def test_bad_input_is_one_line_and_applies_nothing(toy, tmp_path, edit, field):
    export_cvat(toy, tmp_path / "task", query="SELECT image_id FROM images")
    file = tmp_path / "task" / "annotations.xml"
    file.write_text(edit(file.read_text()))
    before = _labels(toy)
    with pytest.raises(InputError) as error:
        load_annotations(toy, file, author="ana")
    message = str(error.value)
    assert message.startswith(str(file)) and field in message and "\n" not in message
    assert _labels(toy) == before


def test_a_bad_coco_mask_is_named(toy, tmp_path):
    doc = {"images": [{"id": 1, "file_name": "im0.png", "width": 64, "height": 48}],
           "categories": [{"id": 1, "name": "cat"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
                            "segmentation": {"size": [48, 64], "counts": "!!bad"}}]}
    (tmp_path / "c.json").write_text(json.dumps(doc))
    before = _labels(toy)
    with pytest.raises(InputError, match=r"c.json: annotations\[0\].segmentation.counts: not a valid compressed RLE"):
        load_annotations(toy, tmp_path / "c.json")
    assert _labels(toy) == before
