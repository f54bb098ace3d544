import json

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

import qmdb
from qmdb.importers import import_dataset, import_metadata, import_predictions

from .conftest import snapshot


@pytest.fixture
def scenes_project(project, coco_file):
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    return project


def _results(scenes, jitter: float) -> list[dict]:
    """Predictions = the true boxes shifted by `jitter` pixels, scored by how far they moved."""
    out = []
    for i, scene in enumerate(scenes, start=1):
        for b in scene["boxes"]:
            x, y, w, h = b["bbox"]
            out.append({"image_id": i, "category_id": b["class"] + 1, "bbox": [x + jitter, y, w, h],
                        "score": round(1 / (1 + jitter), 6)})
    return out


def test_coco_results_for_two_models(scenes_project, scenes, tmp_path):
    for model, jitter in (("m1", 0.0), ("m2", 3.0)):
        path = tmp_path / f"{model}.json"
        path.write_text(json.dumps(_results(scenes, jitter)))
        report = import_predictions(scenes_project, "coco", path, model=model, dataset="scenes")
        assert report.predictions == sum(len(s["boxes"]) for s in scenes)
    again = import_predictions(scenes_project, "coco", tmp_path / "m2.json", model="m2", dataset="scenes")
    assert again.removed == 0
    rows = scenes_project.sql("SELECT model, count(*), avg(p.x - l.x), min(score) FROM predictions p JOIN labels l "
                              "USING (image_id, class) WHERE p.y = l.y GROUP BY 1 ORDER BY 1").fetchall()
    assert [(m, n, round(d, 6), s) for m, n, d, s in rows] == [("m1", 13, 0.0, 1.0), ("m2", 13, 3.0, 0.25)]
    assert scenes_project.sql("SELECT count(*) FROM models").fetchall() == [(2,)]


@pytest.mark.parametrize("edit, message", [
    (lambda r: r[0].update(category_id=42), "results[0].category_id: unknown category id (dataset 'scenes' has"),
    (lambda r: r[1].update(image_id=999), "results[1].image_id: no image with source_id 999 in dataset 'scenes'"),
    (lambda r: r[2].update(score=1.5), "results[2].score: expected a score in [0, 1], got 1.5"),
    (lambda r: r[3].pop("bbox"), "results[3].bbox: required field is missing"),
])
def test_bad_coco_results(scenes_project, scenes, tmp_path, edit, message):
    before = snapshot(scenes_project)
    results = _results(scenes, 1.0)
    edit(results)
    path = tmp_path / "res.json"
    path.write_text(json.dumps(results))
    with pytest.raises(qmdb.InputError) as raised:
        import_predictions(scenes_project, "coco", path, model="m", dataset="scenes")
    assert str(raised.value).startswith(f"{path}: {message}"), str(raised.value)
    assert snapshot(scenes_project) == before


def test_yolo_predictions_with_confidence(scenes_project, scenes, tmp_path):
    folder = tmp_path / "preds"
    folder.mkdir()
    for s in scenes:
        w, h = s["width"], s["height"]
        lines = [f"{b['class'] + 1} {(b['bbox'][0] + b['bbox'][2] / 2) / w} {(b['bbox'][1] + b['bbox'][3] / 2) / h} "
                 f"{b['bbox'][2] / w} {b['bbox'][3] / h} 0.75" for b in s["boxes"]]
        (folder / (s["file_name"].rsplit(".", 1)[0] + ".txt")).write_text("\n".join(lines))
    report = import_predictions(scenes_project, "yolo", folder, model="y", dataset="scenes")
    assert report.predictions == 13
    diff = scenes_project.sql("SELECT max(abs(p.x - l.x) + abs(p.w - l.w)), count(*) FROM predictions p JOIN labels l "
                              "USING (image_id, class) WHERE abs(p.y - l.y) < 1e-6").fetchall()[0]
    assert diff[0] < 1e-6 and diff[1] == 13


def write_digits(root, n: int):
    """The first `n` scikit-learn digits as PNGs in class folders under `root`."""
    from PIL import Image

    digits = load_digits()
    for k in range(n):
        (root / str(digits.target[k])).mkdir(parents=True, exist_ok=True)
        Image.fromarray((digits.images[k] * 16).astype(np.uint8)).save(root / str(digits.target[k]) / f"{k}.png")
    return root


def test_classifier_probabilities(project, tmp_path):
    digits = load_digits()
    root = write_digits(tmp_path / "digits", 120)
    import_dataset(project, "folders", root, name="digits")
    probs = cross_val_predict(LogisticRegression(max_iter=500), digits.data[:120], digits.target[:120], cv=3,
                              method="predict_proba")
    header = "path," + ",".join(str(c) for c in range(10))
    lines = [f"{digits.target[k]}/{k}.png," + ",".join(repr(float(p)) for p in probs[k]) for k in range(120)]
    (tmp_path / "probs.csv").write_text(header + "\n" + "\n".join(lines) + "\n")
    import_predictions(project, "probs", tmp_path / "probs.csv", model="logreg", dataset="digits")
    got = project.sql("SELECT i.path, p.class, p.score, p.probs FROM predictions p JOIN images i USING (image_id) ORDER BY i.path").fetchall()
    by_path = {path: (c, s, m) for path, c, s, m in got}
    for k in range(120):
        c, s, m = by_path[f"{digits.target[k]}/{k}.png"]
        assert c == str(probs[k].argmax()) and s == pytest.approx(probs[k].max())
        assert [m[str(j)] for j in range(10)] == pytest.approx(list(probs[k]))
    (tmp_path / "bad.csv").write_text("path,0,1,eleven\n0/0.png,0.5,0.5,0\n")
    with pytest.raises(qmdb.InputError, match="bad.csv: eleven: not a class of dataset 'digits'"):
        import_predictions(project, "probs", tmp_path / "bad.csv", model="logreg", dataset="digits")


def test_metadata_table_becomes_columns(scenes_project, scenes, tmp_path):
    meta = tmp_path / "meta.csv"
    meta.write_text("path,site,exposure_ms\n" + "".join(f"{s['file_name']},site-{i % 3},{10 * (i + 1)}\n"
                                                          for i, s in enumerate(scenes)))
    report = import_metadata(scenes_project, meta, dataset="scenes")
    assert report.columns_added == ["site", "exposure_ms"]
    assert scenes_project.sql("SELECT site, sum(exposure_ms) FROM images GROUP BY 1 ORDER BY 1").fetchall() == \
        [("site-0", 10 + 40), ("site-1", 20 + 50), ("site-2", 30 + 60)]
    before = snapshot(scenes_project)
    meta.write_text("path,site\nnot_there.png,x\n")
    with pytest.raises(qmdb.InputError, match=r"meta.csv: rows\[0\].path: no image with path 'not_there.png'"):
        import_metadata(scenes_project, meta, dataset="scenes")
    meta.write_text("path,status\nscene_00.png,x\n")
    with pytest.raises(qmdb.InputError, match="meta.csv: status: metadata field collides with the core column images.status"):
        import_metadata(scenes_project, meta, dataset="scenes")
    assert snapshot(scenes_project) == before


def test_a_model_is_not_moved_to_another_dataset(project, coco_file, scenes, tmp_path):
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="train")
    path = tmp_path / "res.json"
    path.write_text(json.dumps(_results(scenes, 1.0)))
    import_predictions(project, "coco", path, model="detector", dataset="scenes")
    before = snapshot(project)
    with pytest.raises(qmdb.InputError, match="model 'detector' already holds 13 predictions on dataset 'scenes', "
                                              "not 'train'"):
        import_predictions(project, "coco", path, model="detector", dataset="train")
    assert snapshot(project) == before
    import_predictions(project, "coco", path, model="detector", dataset="scenes")  # re-importing stays allowed
    import_predictions(project, "coco", path, model="detector-train", dataset="train")
    assert project.sql("SELECT model, dataset FROM models ORDER BY 1").fetchall() == [
        ("detector", "scenes"), ("detector-train", "train")]


@pytest.fixture
def digits_project(project, tmp_path):
    digits = load_digits()
    root = write_digits(tmp_path / "digits", 30)
    import_dataset(project, "folders", root, name="digits")
    probs = np.random.default_rng(0).dirichlet(np.ones(10), 30)
    return project, [f"{digits.target[k]}/{k}.png" for k in range(30)], probs


def _probs_csv(path, keys, probs, header):
    path.write_text(",".join(["path", *header]) + "\n" + "".join(
        f"{key}," + ",".join(repr(float(p)) for p in row) + "\n" for key, row in zip(keys, probs)))
    return path


def _stored(con) -> dict:
    return {p: m for p, m in con.sql("SELECT i.path, p.probs FROM predictions p JOIN images i USING (image_id)").fetchall()}


@pytest.mark.parametrize("header, columns", [
    ([f"p{j}" for j in range(10)], "p"),                                       # a prefix
    ([f"prob_{j}" for j in range(10)] + ["logit_sum"], "prob_"),              # other columns ignored
    ([f"c{j}" for j in range(10)], [str(j) for j in range(10)]),              # a list in column order
    ([f"c{j}" for j in range(10)], ",".join(str(j) for j in range(10))),      # the same, as the CLI passes it
    ([f"c{j}" for j in range(10)], {f"c{j}": str(j) for j in range(10)}),     # a mapping
])
def test_probability_columns_mapped_to_classes(digits_project, tmp_path, header, columns):
    con, keys, probs = digits_project
    extra = np.ones((len(keys), len(header) - 10))
    csv = _probs_csv(tmp_path / "p.csv", keys, np.hstack([probs, extra]), header)
    with pytest.raises(qmdb.InputError, match=f"p.csv: {header[0]}: not a class of dataset 'digits'"):
        import_predictions(con, "probs", csv, model="m", dataset="digits")
    import_predictions(con, "probs", csv, model="m", dataset="digits", columns=columns)
    stored = _stored(con)
    for key, row in zip(keys, probs):
        assert [stored[key][str(j)] for j in range(10)] == pytest.approx(list(row))


def test_probability_columns_from_a_mapping_file(digits_project, tmp_path):
    con, keys, probs = digits_project
    csv = _probs_csv(tmp_path / "p.csv", keys, probs[:, ::-1], [f"col{j}" for j in range(10)])
    reversed_classes = [str(9 - j) for j in range(10)]
    for name, text in (("map.json", json.dumps({f"col{j}": c for j, c in enumerate(reversed_classes)})),
                       ("names.json", json.dumps(reversed_classes)),
                       ("map.csv", "column,class\n" + "".join(f"col{j},{c}\n" for j, c in enumerate(reversed_classes))),
                       ("classes.txt", "\n".join(reversed_classes) + "\n")):
        (tmp_path / name).write_text(text)
        import_predictions(con, "probs", csv, model="m", dataset="digits", columns=str(tmp_path / name))
        stored = _stored(con)
        assert [stored[keys[0]][str(j)] for j in range(10)] == pytest.approx(list(probs[0])), name
    with pytest.raises(qmdb.InputError, match="typo.json: no such file"):
        import_predictions(con, "probs", csv, model="m", dataset="digits", columns=str(tmp_path / "typo.json"))


@pytest.mark.parametrize("columns, message", [
    ("q", "p.csv: columns: no column starts with 'q'"),
    (["0", "1"], "p.csv: columns: 2 classes given for 10 probability columns"),
    ({"p0": "zero"}, "p.csv: p0 (zero): not a class of dataset 'digits'"),
    ({"p0": "1", "p1": "1"}, "p.csv: p1: class '1' is also column p0"),
    ({"nope": "1"}, "p.csv: nope: the mapping names a column the table lacks"),
])
def test_bad_column_mapping(digits_project, tmp_path, columns, message):
    con, keys, probs = digits_project
    csv = _probs_csv(tmp_path / "p.csv", keys, probs, [f"p{j}" for j in range(10)])
    with pytest.raises(qmdb.InputError) as raised:
        import_predictions(con, "probs", csv, model="m", dataset="digits", columns=columns)
    assert str(raised.value).startswith(f"{tmp_path / message}"), str(raised.value)
    with pytest.raises(qmdb.QmdbError, match="columns applies to probability tables"):
        import_predictions(con, "coco", csv, model="m", dataset="digits", columns=columns)


def test_cli_maps_probability_columns_and_refuses_outside_boxes_when_strict(tmp_path, capsys):
    from qmdb.cli import main

    digits = load_digits()
    root = write_digits(tmp_path / "digits", 12)
    db = str(tmp_path / "p.duckdb")
    assert main(["import", db, "folders", str(root), "--name", "digits"]) == 0
    keys = [f"{digits.target[k]}/{k}.png" for k in range(12)]
    probs = np.random.default_rng(1).dirichlet(np.ones(10), 12)
    csv = _probs_csv(tmp_path / "p.csv", keys, probs, [f"p{j}" for j in range(10)])
    assert main(["import", db, "predictions", "probs", str(csv), "--model", "m", "--dataset", "digits"]) == 1
    assert "p0: not a class of dataset 'digits'" in capsys.readouterr().err
    assert main(["import", db, "predictions", "probs", str(csv), "--model", "m", "--dataset", "digits",
                 "--columns", "p"]) == 0
    con = qmdb.connect(db)
    assert [_stored(con)[keys[0]][str(j)] for j in range(10)] == pytest.approx(list(probs[0]))
    con.close()
    table = tmp_path / "boxes.csv"
    table.write_text("path,class,x,y,w,h\n" + f"{keys[0]},zero,4,4,10,3\n")  # reaches 6 px past an 8 px image
    assert main(["import", db, "table", str(table), "--name", "boxes", "--root", str(root), "--strict"]) == 1
    assert "outside" in capsys.readouterr().err
    assert main(["import", db, "table", str(table), "--name", "boxes", "--root", str(root)]) == 0
