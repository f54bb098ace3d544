"""The loop: demo → error views → a CVAT task → an annotator's edits → corrections → the views forget them
→ history shows each change → undo restores them."""

import shutil
import xml.etree.ElementTree as ET

import pytest

import qmdb
from qmdb.annotate import export_cvat, load_annotations
from qmdb.history import undo

pytest.importorskip("pycocotools")


def _attr(shape, name):
    found = [a for a in shape.findall("attribute") if a.get("name") == name]
    return found[0].text if found else None


def test_fix_loop_through_cvat(demo_db, tmp_path):
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    con = qmdb.connect(db)
    try:
        _loop(con, tmp_path)
    finally:
        con.close()


def _loop(con, tmp_path):
    wrong = con.sql("SELECT label_id, image_id, class, suggested_class FROM errors_classification() "
                    "ORDER BY rank LIMIT 3").fetchall()
    dups = con.sql("SELECT label_id, kept_label_id, image_id FROM errors_duplicate_boxes() ORDER BY label_id LIMIT 2").fetchall()
    assert len(wrong) == 3 and len(dups) == 2
    fixed, deleted, moved = [w[0] for w in wrong], dups[0][0], dups[1][0]
    selection = ", ".join(str(i) for i in [*fixed, deleted, moved])
    before = con.sql("SELECT * FROM labels ORDER BY label_id").fetchall()

    report = export_cvat(con, tmp_path / "task", query=f"SELECT label_id FROM labels WHERE label_id IN ({selection})",
                         owner="ann")
    assert report.images == 5
    file = tmp_path / "task" / "annotations.xml"
    tree = ET.parse(file)
    shapes = {int(_attr(s, "label_id")): (image, s) for image in tree.getroot().iter("image") for s in image}
    suggested = {w[0]: w[3] for w in wrong}
    for label_id in fixed:                                   # fix the classes
        shapes[label_id][1].set("label", suggested[label_id])
    image, duplicate = shapes[deleted]                        # delete a duplicate
    image.remove(duplicate)
    box = shapes[moved][1]                                    # move a box off the one it duplicates
    width = float(box.get("xbr")) - float(box.get("xtl"))
    box.set("xtl", str(float(box.get("xtl")) + width))
    box.set("xbr", str(float(box.get("xbr")) + width))
    ET.SubElement(box, "attribute", name="annotator").text = "bob"
    image = shapes[deleted][0]                                # add a missed box
    ET.SubElement(image, "box", label=duplicate.get("label"), source="manual", occluded="0",
                  xtl="1", ytl="2", xbr="21", ybr="32", z_order="0")
    tree.write(file)

    result = load_annotations(con, file, author="fallback", reason="loop test")
    assert (result.updated, result.added, result.deleted) == (4, 1, 1)

    assert not con.sql(f"SELECT label_id FROM errors_classification() WHERE label_id IN ({selection})").fetchall()
    assert not con.sql(f"SELECT label_id FROM errors_duplicate_boxes() WHERE label_id IN ({selection})").fetchall()
    versions = con.sql("SELECT label_id, op, changed, author, source, reason FROM label_versions "
                       "WHERE batch_id = $b ORDER BY label_id", params={"b": result.batch}).fetchall()
    by_label = {v[0]: v for v in versions}
    for label_id in fixed:
        assert by_label[label_id][1:4] == ("update", ["class"], "ann")
    assert by_label[deleted][1] == "delete" and by_label[moved][1] == "update" and by_label[moved][3] == "bob"
    assert {"x"} <= set(by_label[moved][2])
    (added,) = [v for v in versions if v[1] == "insert"]
    assert added[3:] == ("ann", "cvat:annotations.xml", "loop test")
    assert con.sql("SELECT class, x, y, w, h, annotator FROM labels WHERE label_id = $id",
                   params={"id": added[0]}).fetchall() == [(duplicate.get("label"), 1.0, 2.0, 20.0, 30.0, "ann")]

    undo(con, result.batch, author="lead")
    assert con.sql("SELECT * FROM labels ORDER BY label_id").fetchall() == before
    assert {r[0] for r in con.sql("SELECT label_id FROM errors_duplicate_boxes()").fetchall()} >= {deleted, moved}
    assert set(fixed) <= {r[0] for r in con.sql("SELECT label_id FROM errors_classification()").fetchall()}
