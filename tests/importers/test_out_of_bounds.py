"""Boxes reaching past their image are imported as written and flagged by `errors_out_of_bounds`
(pycocotools evaluates such files as they are); `strict=True` refuses them as before."""

import json

import pytest

import qmdb
from qmdb.importers import import_dataset

from .conftest import snapshot
from .test_voc import voc_dir  # noqa: F401 - fixture
from .test_yolo import yolo_dir  # noqa: F401 - fixture


def _flagged(con) -> list[tuple]:
    result = qmdb.run_view(con, "errors_out_of_bounds")
    names = result.columns
    return sorted(tuple(row[names.index(c)] for c in ("path", "x", "y", "w", "h")) for row in result.fetchall())


def test_coco_box_outside_is_stored_as_written_and_flagged(project, coco_file):
    data = json.loads(coco_file.read_text())
    data["annotations"][0]["bbox"] = [300, 10, 100, 20]   # scene_00.png is 320x240
    data["annotations"][1]["bbox"] = [-5, -3, 10, 10]
    coco_file.write_text(json.dumps(data))
    report = import_dataset(project, "coco", coco_file, root=coco_file.parent / "images")
    assert report.labels == len(data["annotations"]) and report.errors == 0
    flagged = _flagged(project)
    assert (data["images"][0]["file_name"], 300.0, 10.0, 100.0, 20.0) in flagged
    assert any(row[1:] == (-5.0, -3.0, 10.0, 10.0) for row in flagged) and len(flagged) == 2
    result = qmdb.run_view(project, "errors_out_of_bounds")
    assert result.fetchall()[0][result.columns.index("reason")] == "box reaches 80.0 px outside the 320 x 240 image"


def test_strict_refuses_and_changes_nothing(project, coco_file):
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    before = snapshot(project)
    data = json.loads(coco_file.read_text())
    data["annotations"][0]["bbox"] = [300, 10, 100, 20]
    coco_file.write_text(json.dumps(data))
    with pytest.raises(qmdb.InputError, match=r"annotations\[0\].bbox: box \[300, 10, 100, 20\] .* lies outside the 320x240"):
        import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes", strict=True)
    assert snapshot(project) == before


def test_table_box_outside(project, coco_file, tmp_path):
    table = tmp_path / "labels.csv"
    table.write_text("path,class,x,y,w,h\nscene_00.png,a,310,1,20,2\nscene_00.png,a,1,1,2,2\n")
    report = import_dataset(project, "table", table, root=coco_file.parent / "images")
    assert report.labels == 2
    assert _flagged(project) == [("scene_00.png", 310.0, 1.0, 20.0, 2.0)]
    with pytest.raises(qmdb.InputError, match=r"rows\[0\]: box .* lies outside"):
        import_dataset(project, "table", table, root=coco_file.parent / "images", strict=True)


def test_yolo_box_outside(project, yolo_dir):  # noqa: F811
    label = sorted((yolo_dir / "labels" / "train").glob("*.txt"))[0]
    label.write_text(label.read_text() + "3 0.95 0.5 0.3 0.1\n")
    report = import_dataset(project, "yolo", yolo_dir)
    assert report.errors == 0
    flagged = _flagged(project)
    assert len(flagged) == 1 and flagged[0][0].rsplit(".", 1)[0].endswith(label.stem)
    with pytest.raises(qmdb.InputError, match="lies outside"):
        import_dataset(project, "yolo", yolo_dir, strict=True)


def test_voc_box_outside(project, voc_dir):  # noqa: F811
    xml = sorted((voc_dir / "Annotations").glob("*.xml"))[0]
    text = xml.read_text()
    start = text.index("<xmax>") + len("<xmax>")
    xml.write_text(text[:start] + "2000" + text[text.index("</xmax>"):])
    import_dataset(project, "voc", voc_dir / "Annotations")
    assert len(_flagged(project)) == 1
    with pytest.raises(qmdb.InputError, match=r"object\[0\].bndbox: box .* lies outside"):
        import_dataset(project, "voc", voc_dir / "Annotations", strict=True)
