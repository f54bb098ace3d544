import shutil

import pytest

import qmdb
from qmdb.importers import import_dataset

from .conftest import snapshot

OBJECT = ("<object><name>digit_{c}</name><pose>Unspecified</pose><difficult>{d}</difficult>"
          "<bndbox><xmin>{x0:g}</xmin><ymin>{y0:g}</ymin><xmax>{x1:g}</xmax><ymax>{y1:g}</ymax></bndbox></object>")


@pytest.fixture
def voc_dir(tmp_path, scenes_dir, scenes):
    root = tmp_path / "VOC"
    (root / "Annotations").mkdir(parents=True)
    shutil.copytree(scenes_dir / "images", root / "JPEGImages")
    for scene in scenes:
        objects = "".join(OBJECT.format(c=b["class"], d=k % 2, x0=b["bbox"][0], y0=b["bbox"][1],
                                         x1=b["bbox"][0] + b["bbox"][2], y1=b["bbox"][1] + b["bbox"][3])
                          for k, b in enumerate(scene["boxes"]))
        (root / "Annotations" / (scene["file_name"].rsplit(".", 1)[0] + ".xml")).write_text(
            f"<annotation><folder>VOC</folder><filename>{scene['file_name']}</filename><site>lab</site>"
            f"<size><width>{scene['width']}</width><height>{scene['height']}</height><depth>3</depth></size>"
            f"{objects}</annotation>")
    return root


def test_voc_boxes_classes_and_tags(project, voc_dir, scenes):
    report = import_dataset(project, "voc", voc_dir / "Annotations")
    assert report.images == 6 and report.errors == 0 and report.labels == sum(len(s["boxes"]) for s in scenes)
    got = sorted(project.sql("SELECT path, class, x, y, w, h FROM labels JOIN images USING (image_id)").fetchall())
    want = sorted((s["file_name"], f"digit_{b['class']}", *b["bbox"]) for s in scenes for b in s["boxes"])
    assert got == want  # x = xmin, w = xmax - xmin: exact
    assert project.sql("SELECT name FROM datasets").fetchall() == [("VOC",)]
    assert project.sql("SELECT DISTINCT site FROM images").fetchall() == [("lab",)]
    assert project.sql("SELECT typeof(difficult), sum(difficult) FROM labels GROUP BY 1").fetchall()[0][0] == "BIGINT"


@pytest.mark.parametrize("edit, field, message", [
    (lambda t: t.replace("<xmax>", "<xmax>x", 1), "object[0].bndbox.xmax", "expected a number"),
    (lambda t: t.replace("<filename>", "<notname>").replace("</filename>", "</notname>"), "filename", "required field is missing"),
    (lambda t: t[: len(t) // 2], "line 1 column", "invalid XML"),
    (lambda t: t.replace("<bndbox><xmin>", "<bndbox><xmin>900", 1), "object[0].bndbox", "below xmin"),
])
def test_bad_voc_file_is_an_error_and_changes_nothing(project, voc_dir, edit, field, message):
    import_dataset(project, "voc", voc_dir / "Annotations")
    before = snapshot(project)
    xml = voc_dir / "Annotations" / "scene_00.xml"
    xml.write_text(edit(xml.read_text()))
    with pytest.raises(qmdb.InputError) as raised:
        import_dataset(project, "voc", voc_dir / "Annotations")
    assert str(raised.value).startswith(f"{xml}: {field}") and message in str(raised.value)
    assert snapshot(project) == before
