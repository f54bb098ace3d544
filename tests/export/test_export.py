import json
import sys
from pathlib import Path

import numpy as np
import pytest

import qmdb
from qmdb.cli import main

sys.path.insert(0, str(Path(__file__).parents[1] / "importers"))
from conftest import coco_json, make_scenes  # noqa: E402


@pytest.fixture(scope="module")
def scenes_coco(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    scenes = make_scenes(folder, count=8, seed=3)
    path = folder / "train.json"
    path.write_text(json.dumps(coco_json(scenes, site=["north", "south"] * 4)))
    return path


@pytest.fixture
def db(tmp_path, scenes_coco):
    path = tmp_path / "p.duckdb"
    assert main(["import", str(path), "coco", str(scenes_coco), "--root", str(scenes_coco.parent / "images"),
                 "--name", "scenes"]) == 0
    return path


def test_label_selection_exports_only_those_labels(db, tmp_path, scenes_coco):
    con = qmdb.connect(db)
    out = tmp_path / "big.json"
    report = qmdb.export_coco(con, out, query="SELECT label_id FROM labels WHERE w >= 40")
    data = json.loads(out.read_text())
    want = con.sql("SELECT count(*), count(DISTINCT image_id) FROM labels WHERE w >= 40").fetchall()[0]
    assert (len(data["annotations"]), len(data["images"])) == want == (report.labels, report.images)
    assert all(a["bbox"][2] >= 40 for a in data["annotations"])
    source = {a["id"]: a["bbox"] for a in json.loads(scenes_coco.read_text())["annotations"]}
    for a in data["annotations"]:
        np.testing.assert_allclose(a["bbox"], source[a["id"]], atol=1e-6)
    con.close()


def test_view_with_parameter_exports_a_slice(db, tmp_path):
    con = qmdb.connect(db)
    qmdb.save_view(con, "site_images", "SELECT image_id FROM images WHERE site = site_name", "Images of one site",
                   {"site_name": ("VARCHAR", "'north'")})
    con.close()
    out = tmp_path / "south.json"
    assert main(["export", str(db), "--view", "site_images", "-p", "site_name=south", "--format", "coco", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    assert len(data["images"]) == 4 and {i["site"] for i in data["images"]} == {"south"}
    yolo = tmp_path / "yolo"
    assert main(["export", str(db), "--view", "site_images", "--format", "yolo", "-o", str(yolo), "--images", "none"]) == 0
    assert len(list((yolo / "labels").glob("*.txt"))) == 4 and (yolo / "data.yaml").exists()


def test_query_without_ids_is_refused(db, tmp_path, capsys):
    assert main(["export", str(db), "--query", "SELECT path FROM images", "--format", "coco", "-o", str(tmp_path / "x.json")]) == 1
    assert "returns no image_id or label_id column (it returns path)" in capsys.readouterr().err


def test_cli_imports_predictions_and_metadata(db, tmp_path, scenes_coco, capsys):
    results = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 0.5}
               for a in json.loads(scenes_coco.read_text())["annotations"]]
    (tmp_path / "res.json").write_text(json.dumps(results))
    assert main(["import", str(db), "predictions", "coco", str(tmp_path / "res.json"), "--model", "m", "--dataset", "scenes"]) == 0
    (tmp_path / "meta.csv").write_text("source_id,weather\n1,rain\n2,sun\n")
    assert main(["import", str(db), "metadata", str(tmp_path / "meta.csv"), "--dataset", "scenes", "--key", "source_id"]) == 0
    out = capsys.readouterr().out
    assert f"{len(results)} predictions" in out and "new columns weather" in out
    assert main(["import", str(db), "predictions", "coco", str(tmp_path / "res.json")]) == 1


def test_a_coco_export_reimports_as_is_without_null_fields(tmp_path, scenes_coco):
    data = json.loads(scenes_coco.read_text())
    for k, annotation in enumerate(data["annotations"]):
        if k % 2:
            del annotation["annotator"]
    data["images"][0]["site"] = None
    source = scenes_coco.parent / "partial.json"
    source.write_text(json.dumps(data))
    con = qmdb.connect()
    qmdb.import_dataset(con, "coco", source, root=scenes_coco.parent / "images", name="scenes")
    out = tmp_path / "elsewhere" / "export.json"
    qmdb.export_coco(con, out, query="SELECT image_id FROM images")
    exported = json.loads(out.read_text())
    assert [("annotator" in a) for a in sorted(exported["annotations"], key=lambda a: a["id"])] == \
        [("annotator" in a) for a in sorted(data["annotations"], key=lambda a: a["id"])]
    assert "site" not in exported["images"][0] and exported["images"][1]["site"] == "south"
    assert not any(v is None for a in exported["annotations"] for v in a.values())
    assert exported["info"]["root"] == str((scenes_coco.parent / "images").resolve())

    again = qmdb.connect()
    report = qmdb.import_dataset(again, "coco", out)  # no root: the one the file records
    assert report.errors == 0 and report.images == len(data["images"])
    assert again.sql("SELECT count(*) FROM images WHERE status = 'ok'").fetchall() == [(len(data["images"]),)]
    boxes = "SELECT i.path, l.class, l.x, l.y, l.w, l.h, l.annotator FROM labels l JOIN images i USING (image_id) ORDER BY ALL"
    assert again.sql(boxes).fetchall() == con.sql(boxes).fetchall()
    con.close()
    again.close()
