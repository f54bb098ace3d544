"""Several annotators' boxes of the same images: one more annotator's file imported beside the others
(`qmdb import … --annotator NAME`), consensus boxes by IoU grouping, and each annotator's box quality."""

import shutil

import cv2
import numpy as np
import pytest

import qmdb
from qmdb.cli import main
from qmdb.errors import InputError
from qmdb.importers import import_dataset
from qmdb.importers.annotators import import_annotator

# (annotator, image, class, x, y, w, h): "a" and "b" agree up to a pixel or two; "c" misses the cat
# of one.png, calls one digit a 7 and draws a box around nothing.
BOXES = [
    ("a", "one.png", "dog", 10, 10, 50, 50), ("a", "one.png", "cat", 100, 100, 60, 40),
    ("a", "two.png", "7", 20, 30, 40, 80),
    ("b", "one.png", "dog", 12, 10, 50, 50), ("b", "one.png", "cat", 102, 98, 60, 44),
    ("b", "two.png", "7", 22, 30, 40, 78),
    ("c", "one.png", "cat", 11, 12, 50, 48), ("c", "one.png", "dog", 150, 10, 30, 30),
    ("c", "two.png", "1", 20, 32, 42, 80),
]


def _csv(path, rows):
    lines = ["path,class,x,y,w,h"] + [",".join(map(str, r[1:])) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The project folder, built once: "a" imported as the dataset, "b" and "c" as more annotators."""
    folder = tmp_path_factory.mktemp("boxes")
    for name in ("one.png", "two.png"):
        cv2.imwrite(str(folder / name), np.full((200, 200, 3), 90, np.uint8))
    first = [r for r in BOXES if r[0] == "a"]
    (folder / "a.csv").write_text("path,class,x,y,w,h,annotator\n" + "".join(
        ",".join(map(str, [*r[1:], r[0]])) + "\n" for r in first))
    with qmdb.connect(folder / "p.duckdb") as con:
        import_dataset(con, "table", folder / "a.csv", name="boxes")
        for who in ("b", "c"):
            import_annotator(con, "table", _csv(folder / f"{who}.csv", [r for r in BOXES if r[0] == who]),
                             annotator=who, name="boxes")
    return folder


@pytest.fixture
def project(built, tmp_path):
    """A copy of the built project for one test, in tmp_path (beside its images and files)."""
    shutil.copytree(built, tmp_path, dirs_exist_ok=True)
    con = qmdb.connect(tmp_path / "p.duckdb")
    con.execute("UPDATE datasets SET root = ?", [str(tmp_path.resolve())])
    yield con
    con.close()


def test_annotators_stored_side_by_side(project):
    rows = project.sql("SELECT annotator, count(*), list(DISTINCT source_id ORDER BY source_id) FROM labels "
                       "GROUP BY 1 ORDER BY 1").fetchall()
    assert rows == [("a", 3, ["0", "1"]), ("b", 3, ["b:0", "b:1"]), ("c", 3, ["c:0", "c:1"])]


def test_consensus_boxes_group_across_annotators_and_classes(project):
    objects = project.sql("SELECT path, class, x, y, w, h, annotators, agreement, class_agreement, is_consensus "
                          "FROM consensus_boxes() ORDER BY path, x").fetchall()
    assert objects == [
        ("one.png", "dog", 11.0, 10.0, 50.0, 50.0, 3, 1.0, 2 / 3, True),     # c's "cat" grouped with the dog
        ("one.png", "cat", 101.0, 99.0, 60.0, 42.0, 2, 2 / 3, 1.0, True),    # medians of two: the means
        ("one.png", "dog", 150.0, 10.0, 30.0, 30.0, 1, 1 / 3, 1.0, False),   # c alone: not consensus
        ("two.png", "7", 20.0, 30.0, 42.0, 80.0, 3, 1.0, 2 / 3, True),    # corner medians: x2 of 60, 62, 62
    ]
    mean = project.sql("SELECT x, w FROM consensus_boxes(statistic := 'mean') WHERE path = 'two.png'").fetchall()
    assert mean == [(pytest.approx(62 / 3), pytest.approx(122 / 3))]
    strict = project.sql("SELECT count(*) FROM consensus_boxes(iou_threshold := 0.95)").fetchall()[0][0]
    assert strict == 9                                                       # nothing overlaps that much: every box alone


def test_annotator_box_quality_finds_the_careless_one(project):
    rows = project.sql("SELECT annotator, precision, recall, class_agreement FROM annotator_box_quality()").fetchall()
    assert [r[0] for r in rows][0] == "c"
    assert rows[0][1:] == (pytest.approx(2 / 3), pytest.approx(2 / 3), 0.0)
    assert {r[0]: r[1:] for r in rows[1:]} == {"a": (1.0, 1.0, 1.0), "b": (1.0, 1.0, 1.0)}


def test_reimporting_an_annotator_replaces_only_theirs(project, tmp_path):
    kept = project.sql("SELECT label_id FROM labels WHERE annotator <> 'c' ORDER BY 1").fetchall()
    report = import_annotator(project, "table", _csv(tmp_path / "c2.csv", [r for r in BOXES if r[0] == "c"][:1]),
                              annotator="c", name="boxes")
    assert report.removed == 1 and report.labels == 1                      # two.png is not in the file: kept
    assert project.sql("SELECT label_id FROM labels WHERE annotator <> 'c' ORDER BY 1").fetchall() == kept
    assert project.sql("SELECT count(*) FROM labels WHERE annotator = 'c'").fetchall()[0][0] == 2
    ops = project.sql("SELECT v.op, count(*) FROM label_versions v JOIN label_batches b USING (batch_id) "
                      "WHERE b.author = 'c' AND b.source LIKE 'import:table:%c2.csv' GROUP BY 1").fetchall()
    assert dict(ops) == {"delete": 1}                                       # the label history saw the re-import


def test_an_image_outside_the_dataset_is_one_clear_error(project, tmp_path):
    cv2.imwrite(str(tmp_path / "three.png"), np.zeros((50, 50, 3), np.uint8))
    before = project.sql("SELECT count(*) FROM labels").fetchall()
    with pytest.raises(InputError, match=r"d\.csv.*path.*three\.png.*not in dataset 'boxes'"):
        import_annotator(project, "table", _csv(tmp_path / "d.csv", [("d", "three.png", "x", 1, 1, 5, 5)]),
                         annotator="d", name="boxes")
    with pytest.raises(InputError, match="dataset 'nope' is not in the project"):
        import_annotator(project, "table", tmp_path / "b.csv", annotator="d", name="nope")
    assert project.sql("SELECT count(*) FROM labels").fetchall() == before


def test_cli_annotator_option(project, tmp_path, capsys):
    db = tmp_path / "p.duckdb"
    project.close()
    assert main(["import", str(db), "table", str(tmp_path / "b.csv"), "--name", "boxes", "--annotator", "e"]) == 0
    assert "table (e) import into 'boxes'" in capsys.readouterr().out
    with qmdb.connect(db) as con:
        assert con.sql("SELECT count(*) FROM labels WHERE annotator = 'e' AND source_id LIKE 'e:%'").fetchall() == [(3,)]
