import shutil
from pathlib import Path

import numpy as np
import pytest

import qmdb
from qmdb.importers import import_dataset

from .conftest import snapshot

NAMES = [f"digit_{d}" for d in range(10)]


@pytest.fixture
def yolo_dir(tmp_path, scenes_dir, scenes) -> Path:
    root = tmp_path / "yolo"
    for i, scene in enumerate(scenes):
        split = "train" if i < 4 else "val"
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        shutil.copy(scenes_dir / "images" / scene["file_name"], root / "images" / split / scene["file_name"])
        w, h = scene["width"], scene["height"]
        lines = [f"{b['class']} {(b['bbox'][0] + b['bbox'][2] / 2) / w!r} {(b['bbox'][1] + b['bbox'][3] / 2) / h!r} "
                 f"{b['bbox'][2] / w!r} {b['bbox'][3] / h!r}" for b in scene["boxes"]]
        (root / "labels" / split / Path(scene["file_name"]).with_suffix(".txt")).write_text("\n".join(lines) + "\n")
    (root / "data.yaml").write_text("train: images/train\nval: images/val\nnames:\n" + "".join(f"  - {n}\n" for n in NAMES))
    return root


def _read(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): np.loadtxt(p, ndmin=2) for p in sorted(folder.rglob("*.txt"))}


def test_yolo_import_converts_to_pixels(project, yolo_dir, scenes):
    report = import_dataset(project, "yolo", yolo_dir, name="y")
    assert (report.images, report.labels, report.errors) == (6, sum(len(s["boxes"]) for s in scenes), 0)
    got = project.sql("SELECT i.path, l.class, l.x, l.y, l.w, l.h FROM labels l JOIN images i USING (image_id) "
                      "ORDER BY i.path, CAST(l.source_id AS INT)").fetchall()
    want = sorted(((f"images/{'train' if i < 4 else 'val'}/{s['file_name']}", NAMES[b["class"]], *b["bbox"])
                   for i, s in enumerate(scenes) for b in s["boxes"]), key=lambda t: t[0])
    assert [g[:2] for g in got] == [w[:2] for w in want]
    np.testing.assert_allclose([g[2:] for g in got], [w[2:] for w in want], atol=1e-9)
    assert project.sql("SELECT split, count(*) FROM images GROUP BY 1 ORDER BY 1").fetchall() == [("train", 4), ("val", 2)]


def test_yolo_round_trip_keeps_every_box(project, yolo_dir, tmp_path):
    import_dataset(project, "yolo", yolo_dir, name="y")
    report = qmdb.export_yolo(project, tmp_path / "out", query="SELECT image_id FROM images", images="copy")
    assert report.images == 6
    a, b = _read(yolo_dir / "labels"), _read(tmp_path / "out" / "labels")
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_allclose(a[name], b[name], atol=1e-6)
    assert sorted(p.name for p in (tmp_path / "out" / "images").rglob("*.*")) == \
        sorted(p.name for p in (yolo_dir / "images").rglob("*.*"))
    import yaml

    assert yaml.safe_load((tmp_path / "out" / "data.yaml").read_text())["names"] == dict(enumerate(NAMES))
    # and back again: the exported folder imports to the same boxes
    import_dataset(project, "yolo", tmp_path / "out", name="again")
    q = "SELECT class, x, y, w, h FROM labels JOIN images USING (image_id) WHERE dataset = ? ORDER BY class, x, y"
    np.testing.assert_allclose([r[1:] for r in project.execute(q, ["y"]).fetchall()],
                               [r[1:] for r in project.execute(q, ["again"]).fetchall()], atol=1e-6)


def test_missing_image_skips_its_labels_with_an_error_row(project, yolo_dir):
    (yolo_dir / "images/val/scene_05.jpg").unlink()
    (yolo_dir / "labels/val/ghost.txt").write_text("1 0.5 0.5 0.1 0.1\n")  # a label file without image is ignored
    report = import_dataset(project, "yolo", yolo_dir, name="y")
    assert report.images == 5 and report.errors == 0
    shutil.copy(yolo_dir / "images/val/scene_04.png", yolo_dir / "images/val/scene_05.jpg")
    (yolo_dir / "images/val/scene_05.jpg").write_bytes(b"")  # present but unreadable
    report = import_dataset(project, "yolo", yolo_dir, name="y")
    assert report.errors == 2
    assert project.sql("SELECT status FROM images WHERE path LIKE '%scene_05%'").fetchall() == [("unreadable",)]
    assert project.sql("SELECT count(*) FROM labels JOIN images USING (image_id) WHERE path LIKE '%scene_05%'").fetchall() == [(0,)]


@pytest.mark.parametrize("line, message", [
    ("3 0.5 0.5 0.1", "line 2: expected 5 numbers (class cx cy w h), got 4"),
    ("3 0.5 zero 0.1 0.1", "line 2: expected numbers, got '3 0.5 zero 0.1 0.1'"),
    ("12 0.5 0.5 0.1 0.1", "line 2: class 12 is not in the class names (0..9)"),
    ("3 0.95 0.5 0.2 0.1", "line 2: box ["),
])
def test_bad_label_line_is_an_error_and_changes_nothing(project, yolo_dir, line, message):
    import_dataset(project, "yolo", yolo_dir, name="y")
    before = snapshot(project)
    txt = yolo_dir / "labels/train/scene_00.txt"
    txt.write_text(txt.read_text().splitlines()[0] + "\n" + line + "\n")
    with pytest.raises(qmdb.InputError) as raised:  # strict: the box outside the image is refused too
        import_dataset(project, "yolo", yolo_dir, name="y", strict=True)
    assert str(raised.value).startswith(f"{txt}: {message}")
    assert snapshot(project) == before


def test_class_names_are_required(project, yolo_dir):
    (yolo_dir / "data.yaml").unlink()
    with pytest.raises(qmdb.InputError, match="data.yaml: no data.yaml or classes.txt"):
        import_dataset(project, "yolo", yolo_dir)
    (yolo_dir / "classes.txt").write_text("\n".join(NAMES))
    assert import_dataset(project, "yolo", yolo_dir).labels > 0
