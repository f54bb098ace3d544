"""`qmdb annotate send|load` and `qmdb export --tag`, through the CLI."""

import shutil
import xml.etree.ElementTree as ET

import pytest

import qmdb
from qmdb.annotate import export_cvat
from qmdb.cli import main

pytest.importorskip("pycocotools")


def test_send_edit_load_by_tag(toy_db, tmp_path, capsys):
    db = tmp_path / "p.duckdb"
    shutil.copy(toy_db, db)
    with qmdb.connect(db) as con:
        (label_id,) = con.sql("SELECT label_id FROM labels WHERE class = 'dog' AND polygon IS NULL "
                              "AND x IS NOT NULL").fetchall()[0]
        qmdb.tag(con, "label", label_id, "recheck")
    assert main(["annotate", "send", str(db), "--tag", "recheck", "--to", "cvat", "-o", str(tmp_path / "t"),
                 "--images", "copy", "--owner", "ana"]) == 0
    assert "cvat export" in capsys.readouterr().out
    assert (tmp_path / "t" / "images" / "im0.png").is_file() and not (tmp_path / "t" / "images" / "im0.png").is_symlink()
    file = tmp_path / "t" / "annotations.xml"
    tree = ET.parse(file)
    (box,) = [b for b in tree.getroot().iter("box") if b.find("attribute").text == str(label_id)]
    box.set("label", "cat")
    tree.write(file)
    assert main(["annotate", "load", str(db), str(file), "--dry-run"]) == 0
    assert "1 updated, 0 added, 0 deleted (nothing applied)" in capsys.readouterr().out
    assert main(["annotate", "load", str(db), str(file), "--reason", "recheck"]) == 0
    assert "1 updated" in capsys.readouterr().out
    with qmdb.connect(db) as con:
        assert con.sql("SELECT l.class, v.author, v.reason FROM labels l JOIN label_versions v USING (label_id) "
                       "WHERE label_id = $id AND v.op = 'update'", params={"id": label_id}).fetchall() == [
            ("cat", "ana", "recheck")]
    assert main(["export", str(db), "--tag", "recheck", "-f", "coco", "-o", str(tmp_path / "c.json")]) == 0
    assert "1 images, 1 labels" in capsys.readouterr().out


def test_bad_file_is_one_line(toy_db, tmp_path, capsys):
    db = tmp_path / "p.duckdb"
    shutil.copy(toy_db, db)
    bad = tmp_path / "bad.json"
    bad.write_text("[{\"data\": {}}]")
    assert main(["annotate", "load", str(db), str(bad)]) != 0
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{bad}: [0].data.image: the task names no image") and "\n" not in err


def test_a_tag_on_images_exports_them_with_all_their_labels(toy, tmp_path):
    from qmdb.errors import QmdbError

    image, labels = toy.sql("SELECT image_id, count(*) FROM labels GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchall()[0]
    qmdb.tag(toy, "image", image, "send")
    assert (qmdb.export_coco(toy, tmp_path / "c.json", tag="send").images, ) == (1, )
    report = export_cvat(toy, tmp_path / "t", tag="send")
    assert (report.images, report.labels) == (1, labels)
    with pytest.raises(QmdbError, match="no image, label or prediction is tagged 'nothing'"):
        qmdb.export_coco(toy, tmp_path / "d.json", tag="nothing")
