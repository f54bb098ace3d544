"""Every malformed input gives a clear error naming the file and field, and leaves the database unchanged."""

import json

import pytest

import qmdb
from qmdb.importers import import_dataset

from .conftest import snapshot


def _edit(fn):
    def apply(path):
        data = json.loads(path.read_text())
        fn(data)
        path.write_text(json.dumps(data))
    return apply


def _raw(data: bytes):
    return lambda path: path.write_bytes(data)


def _delete(obj, key):
    del obj[key]


CASES = {
    "missing field": (_edit(lambda d: (_delete(d["annotations"][3], "bbox"), _delete(d["annotations"][3], "segmentation"))),
                      "train.json: annotations[3].bbox: required field is missing"),
    "missing section": (_edit(lambda d: _delete(d, "images")), "train.json: images: required field is missing"),
    "wrong type": (_edit(lambda d: d["annotations"][2].update(bbox="12 13 4 4")),
                   "train.json: annotations[2].bbox: expected a list of 4 numbers, got string '12 13 4 4'"),
    "wrong id type": (_edit(lambda d: d["images"][1].update(id="2")), "train.json: images[1].id: expected a number, got string '2'"),
    "bbox with 3 numbers": (_edit(lambda d: d["annotations"][4].update(bbox=[1, 2, 3])),
                            "train.json: annotations[4].bbox: expected 4 numbers, got 3"),
    "bbox outside the image": (_edit(lambda d: d["annotations"][0].update(bbox=[300, 10, 100, 20])),
                               "train.json: annotations[0].bbox: box [300, 10, 100, 20] (x, y, w, h) lies outside the 320x240 image"),
    "negative size": (_edit(lambda d: d["annotations"][0].update(bbox=[3, 10, -5, 20])),
                      "train.json: annotations[0].bbox: width and height must be finite and >= 0"),
    "unknown category id": (_edit(lambda d: d["annotations"][1].update(category_id=99)),
                            "train.json: annotations[1].category_id: unknown category id 99"),
    "unknown image id": (_edit(lambda d: d["annotations"][1].update(image_id=77)),
                         "train.json: annotations[1].image_id: unknown image id 77"),
    "duplicate annotation ids": (_edit(lambda d: d["annotations"][5].update(id=d["annotations"][2]["id"])),
                                 "train.json: annotations[5].id: duplicate id 102 (also annotations[2])"),
    "duplicate image ids": (_edit(lambda d: d["images"][3].update(id=1)), "train.json: images[3].id: duplicate id 1 (also images[0])"),
    "duplicate category names": (_edit(lambda d: d["categories"][2].update(name="digit_0")),
                                 "train.json: categories[2].name: duplicate id digit_0 (also categories[0])"),
    "not an object": (_edit(lambda d: d["annotations"].__setitem__(6, [1, 2])),
                      "train.json: annotations[6]: expected an object, got list"),
    "bad iscrowd": (_edit(lambda d: d["annotations"][0].update(iscrowd=2)), "train.json: annotations[0].iscrowd: expected 0 or 1, got 2"),
    "non-UTF-8": (_raw('{"images": [{"file_name": "caf\xe9.png"}]}'.encode("latin-1")),
                  "train.json: not UTF-8 text (byte 0xe9 at offset 30)"),
    "truncated JSON": (lambda p: p.write_text(p.read_text()[: len(p.read_text()) // 2]), "train.json: line 1 column"),
    "empty file": (_raw(b""), "train.json: empty file, expected a COCO object"),
    "not a COCO object": (_raw(b"[1, 2]"), "train.json: expected a COCO object with images, annotations and categories, got list"),
    "metadata type clash": (_edit(lambda d: [i.update(exposure="long", lens="wide") for i in d["images"]]),
                            "train.json: a metadata field does not fit the type of its existing column"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_coco_leaves_the_database_unchanged(project, coco_file, case):
    good = json.loads(coco_file.read_text())
    for image in good["images"]:
        image["exposure"] = 100 + image["id"]
    coco_file.write_text(json.dumps(good))
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    before = snapshot(project)
    corrupt, message = CASES[case]
    corrupt(coco_file)
    with pytest.raises(qmdb.InputError) as raised:  # strict: a box outside the image is refused too
        import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes", strict=True)
    assert str(raised.value).startswith(str(coco_file.parent / message.split(":")[0])) or message in str(raised.value)
    assert message.split(": ", 1)[1] in str(raised.value), str(raised.value)
    assert snapshot(project) == before


def test_errors_are_one_line_in_the_cli(tmp_path, coco_file, capsys):
    from qmdb.cli import main

    data = json.loads(coco_file.read_text())
    data["annotations"][4]["bbox"] = [1, 2, 3]
    coco_file.write_text(json.dumps(data))
    db = tmp_path / "p.duckdb"
    assert main(["import", str(db), "coco", str(coco_file), "--root", str(coco_file.parent / "images")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"qmdb: error: {coco_file}: annotations[4].bbox: expected 4 numbers, got 3"]
    import duckdb

    assert duckdb.connect(str(db)).sql("SELECT count(*) FROM images").fetchall() == [(0,)]
