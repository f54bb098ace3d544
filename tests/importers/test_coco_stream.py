"""The streamed COCO reader: any section order, batches, errors at file indices, bounded memory."""

import json
import tracemalloc

import numpy as np
import pytest

import qmdb
from qmdb.importers import coco, import_dataset, jsonstream

from .conftest import snapshot


def _reordered(coco_file, order):
    data = json.loads(coco_file.read_text())
    path = coco_file.with_name("reordered.json")
    path.write_text(json.dumps({"info": {"description": "x"}, **{k: data[k] for k in order}, "licenses": []}))
    return path


@pytest.mark.parametrize("batch", [coco.BATCH, 2])
def test_annotations_before_images_import_identically(coco_file, batch, monkeypatch):
    monkeypatch.setattr(coco, "BATCH", batch)  # 2: every section in several batches
    shuffled = _reordered(coco_file, ["annotations", "categories", "images"])
    results = []
    for path in (coco_file, shuffled):
        con = qmdb.connect()
        import_dataset(con, "coco", path, root=coco_file.parent / "images", name="scenes")
        tables = snapshot(con)
        results.append({t: tables[t] for t in ("images", "labels", "classes")})
        con.close()
    assert results[0] == results[1]
    assert len(results[0]["labels"][1]) == len(json.loads(coco_file.read_text())["annotations"]) > 2


def test_errors_name_the_record_in_the_whole_file(coco_file, monkeypatch):
    monkeypatch.setattr(coco, "BATCH", 2)
    data = json.loads(coco_file.read_text())
    data["annotations"][5]["bbox"] = [1, 2, 3]
    data["annotations"][7]["id"] = data["annotations"][1]["id"]
    coco_file.write_text(json.dumps(data))
    with pytest.raises(qmdb.InputError, match=r"annotations\[5\]\.bbox: expected 4 numbers, got 3"):
        coco.read(coco_file)
    data["annotations"][5]["bbox"] = [1, 2, 3, 4]
    coco_file.write_text(json.dumps(data))
    with pytest.raises(qmdb.InputError, match=r"annotations\[7\]\.id: duplicate id \d+ \(also annotations\[1\]\)"):
        coco.read(coco_file)
    data["annotations"][7]["id"] = 10_000
    data["annotations"][6]["image_id"] = 99
    coco_file.write_text(json.dumps(_order(data, ["annotations", "images", "categories"])))
    with pytest.raises(qmdb.InputError, match=r"annotations\[6\]\.image_id: unknown image id 99"):
        coco.read(coco_file)


def _order(data, keys):
    return {k: data[k] for k in keys}


def test_malformed_inside_a_section_names_line_and_column(coco_file):
    text = coco_file.read_text()
    cut = text.index('"annotations"') + 40
    coco_file.write_text(text[:cut] + "}" + text[cut:])
    with pytest.raises(qmdb.InputError, match=r"line 1 column \d+: invalid JSON"):
        coco.read(coco_file)


@pytest.mark.parametrize("edit", [lambda t: t.replace("}, {", "} {", 1), lambda t: t.replace("}]", "},]", 1),
                                  lambda t: t.replace("[{", "[,{", 1)], ids=["no comma", "trailing comma", "lead comma"])
@pytest.mark.parametrize("batch", [1, 2, coco.BATCH])
def test_a_missing_or_stray_comma_between_records_is_invalid_json(coco_file, monkeypatch, edit, batch):
    monkeypatch.setattr(coco, "BATCH", batch)  # 1 and 2: the comma falls between two blocks, or inside one
    data = json.loads(coco_file.read_text())
    coco_file.write_text(edit(json.dumps({"categories": data["categories"], "images": data["images"],
                                          "annotations": data["annotations"]})))
    with pytest.raises(qmdb.InputError, match=r"line 1 column \d+: invalid JSON"):
        coco.read(coco_file)


def _synthetic(path, images, seed=0):
    rng = np.random.default_rng(seed)
    count = rng.poisson(10, images)
    owner = np.repeat(np.arange(1, images + 1), count)
    anns = [{"id": i + 1, "image_id": int(o), "category_id": int(c), "bbox": [float(x), float(y), 20.5, 10.25],
             "area": 210.125, "iscrowd": 0}
            for i, (o, c, x, y) in enumerate(zip(owner, rng.integers(1, 11, len(owner)),
                                                 rng.random(len(owner)) * 600, rng.random(len(owner)) * 400))]
    data = {"annotations": anns,  # first: the images come later
            "images": [{"id": i, "file_name": f"{i:06d}.jpg", "width": 640, "height": 480} for i in range(1, images + 1)],
            "categories": [{"id": c, "name": f"c{c}"} for c in range(1, 11)]}
    path.write_text(json.dumps(data))
    return len(anns)


def test_peak_python_memory_stays_bounded(tmp_path, monkeypatch):
    """Parsing holds one batch of Python records at a time: the traced peak is a fraction of what
    `json.loads` of the same file holds (the reader before streaming), and does not grow with the file."""
    monkeypatch.setattr(coco, "BATCH", 1_000)
    monkeypatch.setattr(jsonstream, "_READ", 1 << 16)  # the byte scan's buffer (16 MiB by default, numpy)
    peaks = {}
    for images in (1_000, 4_000):
        path = tmp_path / f"big{images}.json"
        boxes = _synthetic(path, images)
        tracemalloc.start()
        batch = coco.read(path, root=tmp_path / "none")
        streamed = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert batch.labels.num_rows == boxes
        tracemalloc.start()
        json.loads(path.read_text())
        whole = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        peaks[images] = streamed, whole
    (small, small_whole), (big, big_whole) = peaks[1_000], peaks[4_000]
    assert big_whole > 3 * small_whole  # the whole file's objects grow with it (4x the records)...
    assert big - small < 0.25 * (big_whole - small_whole)  # ...the streamed reader's much less (one batch)
    assert big < 0.5 * big_whole


def test_chunked_write_records_only_changes_and_rolls_back_a_late_error(coco_file, monkeypatch):
    from qmdb.importers import staged

    monkeypatch.setattr(coco, "BATCH", 2)
    monkeypatch.setattr(staged, "CHUNK", 2)  # several chunks, each a part of the one batch
    root = coco_file.parent / "images"
    con = qmdb.connect()
    import_dataset(con, "coco", coco_file, root=root, name="scenes")
    data = json.loads(coco_file.read_text())
    n = len(data["annotations"])
    assert con.sql("SELECT count(*), count(DISTINCT batch_id) FROM label_versions").fetchall() == [(n, 1)]
    data["annotations"][-1]["bbox"] = [1.0, 2.0, 3.0, 4.0]
    coco_file.write_text(json.dumps(data))
    import_dataset(con, "coco", coco_file, root=root, name="scenes")
    assert con.sql("SELECT op, changed FROM label_versions WHERE version = 2").fetchall() == [("update", ["x", "y", "w", "h"])]
    before = snapshot(con)["labels"]
    data["annotations"][-1]["bbox"] = [1, 2, 3]
    coco_file.write_text(json.dumps(data))
    with pytest.raises(qmdb.InputError, match=rf"annotations\[{n - 1}\]\.bbox: expected 4 numbers, got 3"):
        import_dataset(con, "coco", coco_file, root=root, name="scenes")
    assert snapshot(con)["labels"] == before


def test_first_import_writes_the_versions_the_diff_writes(coco_file, monkeypatch):
    from qmdb.importers import staged

    data = json.loads(coco_file.read_text())
    for i, ann in enumerate(data["annotations"]):
        ann["reviewed"] = i % 2 == 0  # a metadata field: a column of its own, in the versions' JSON
    data["annotations"][0].pop("segmentation")
    coco_file.write_text(json.dumps(data))
    root = coco_file.parent / "images"
    rows = []
    for first in (True, False):
        monkeypatch.setattr(staged, "unlabelled", lambda con, images, first=first: first)
        con = qmdb.connect()
        import_dataset(con, "coco", coco_file, root=root, name="scenes")
        rows.append(con.sql("SELECT label_id, version, op, changed, old, new, author, source, reason, "
                            "(SELECT changes FROM label_batches b WHERE b.batch_id = v.batch_id) "
                            "FROM label_versions v ORDER BY label_id").fetchall())
        con.close()
    assert rows[0] == rows[1]
    assert len(rows[0]) == len(data["annotations"]) and {r[2] for r in rows[0]} == {"insert"}
    assert '"reviewed":true' in rows[0][0][5] and "mask" in rows[0][1][3] and "mask" not in rows[0][0][3]
