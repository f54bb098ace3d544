import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

import qmdb
from qmdb.importers import import_dataset

from .conftest import snapshot


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory):
    """60 real digits upscaled to 32x32 PNG in root/<split>/<class>/."""
    root = tmp_path_factory.mktemp("digits")
    digits = load_digits()
    for k in range(60):
        folder = root / ("train" if k < 45 else "val") / str(digits.target[k])
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((digits.images[k] * 255 / 16).astype(np.uint8)).resize((32, 32)).save(folder / f"{k:04d}.png")
    return root


def test_class_folders_with_splits(project, digits_dir):
    report = import_dataset(project, "folders", digits_dir, name="digits")
    assert (report.images, report.labels) == (60, 60)
    target = load_digits().target[:60]
    got = project.sql("SELECT i.path, i.split, l.class, l.x, i.width FROM labels l JOIN images i USING (image_id) ORDER BY i.path").fetchall()
    assert sorted(int(p.split("/")[-1][:4]) for p, *_ in got) == list(range(60))
    assert all(c == str(target[int(p.split("/")[-1][:4])]) and x is None and w == 32 for p, _, c, x, w in got)
    assert project.sql("SELECT split, count(*) FROM images GROUP BY 1 ORDER BY 1").fetchall() == [("train", 45), ("val", 15)]
    assert project.sql("SELECT task FROM datasets").fetchall() == [("classification",)]
    import_dataset(project, "folders", digits_dir, name="digits")
    assert project.sql("SELECT count(*), count(DISTINCT label_id) FROM labels").fetchall() == [(60, 60)]


def test_label_table_with_boxes_and_extra_columns(project, coco_file, scenes, tmp_path):
    rows = ["path,class,x,y,w,h,reviewer"] + [
        f"{s['file_name']},digit_{b['class']},{b['bbox'][0]},{b['bbox'][1]},{b['bbox'][2]},{b['bbox'][3]},r{k % 2}"
        for s in scenes for k, b in enumerate(s["boxes"])]
    table = tmp_path / "labels.csv"
    table.write_text("\n".join(rows) + "\n")
    report = import_dataset(project, "table", table, root=coco_file.parent / "images", name="t")
    assert report.labels == len(rows) - 1 and report.columns_added == ["labels.reviewer"]
    got = sorted(project.sql("SELECT path, class, x, y, w, h FROM labels JOIN images USING (image_id)").fetchall())
    assert got == sorted((s["file_name"], f"digit_{b['class']}", *b["bbox"]) for s in scenes for b in s["boxes"])
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    pq.write_table(pacsv.read_csv(table), tmp_path / "labels.parquet")
    import_dataset(project, "table", tmp_path / "labels.parquet", root=coco_file.parent / "images", name="t")
    assert project.sql("SELECT count(*) FROM labels").fetchall() == [(len(rows) - 1,)]
    del pa


@pytest.mark.parametrize("content, message", [
    ("path,x,y,w,h\nscene_00.png,1,1,2,2\n", "labels.csv: class: required column is missing"),
    ("path,class,x,y,w,h\nscene_00.png,a,1,1,two,2\n", "labels.csv: rows[0].w: expected a number, got 'two'"),
    ("path,class,x,y,w,h\nscene_00.png,a,1,1,2,2\nscene_00.png,b,1,1,,2\n", "labels.csv: rows[1].w: empty while other box columns"),
    ("path,class,x,y,w,h\nscene_00.png,a,310,1,20,2\n", "labels.csv: rows[0]: box [310, 1, 20, 2] (x, y, w, h) lies outside the 320x240 image"),
    ("", "labels.csv: empty file"),
    ("path,class,image_id\nscene_00.png,a,3\n", "labels.csv: image_id: metadata field collides with the core column labels.image_id"),
])
def test_bad_label_table(project, coco_file, tmp_path, content, message):
    table = tmp_path / "labels.csv"
    table.write_text("path,class\nscene_01.jpg,a\n")
    import_dataset(project, "table", table, root=coco_file.parent / "images", name="t")
    before = snapshot(project)
    table.write_text(content)
    with pytest.raises(qmdb.InputError) as raised:
        import_dataset(project, "table", table, root=coco_file.parent / "images", name="t", strict=True)
    assert str(raised.value).startswith(str(tmp_path / message)), str(raised.value)
    assert snapshot(project) == before
