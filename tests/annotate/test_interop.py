"""Independent readers and writers: datumaro reads the CVAT and COCO qmdb writes, qmdb reads the CVAT and COCO
datumaro writes; label-studio-converter accepts the Label Studio tasks. (`pip install --no-deps -r requirements-interop.txt` installs them.)"""

import json
import warnings

import numpy as np
import pytest

import qmdb
from qmdb.annotate import export_cvat, export_labelstudio, read_changes

pytest.importorskip("pycocotools")
dm = pytest.importorskip("datumaro", reason="datumaro is not installed (pip install --no-deps -r requirements-interop.txt)")

BOXES = "SELECT image_id FROM images WHERE path <> 'im1.png'"     # boxes and an image-level class
WHOLE = "SELECT image_id FROM images"                             # also a polygon and a mask


def _import(path, fmt):
    from datumaro.components.dataset import Dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Dataset.import_from(str(path), fmt)


def _what_datumaro_sees(dataset):
    """{(image, class, kind): box or None} of every annotation, and the decoded masks."""
    from datumaro.components.annotation import AnnotationType

    names = dataset.categories()[AnnotationType.label]
    seen, masks = set(), {}
    for item in dataset:
        for ann in item.annotations:
            cls = names[ann.label].name
            image = item.id.split("/")[-1]
            if ann.type == AnnotationType.mask:
                masks[(image, cls)] = ann.image.astype(np.uint8)
            box = None if ann.type == AnnotationType.label else tuple(round(v, 6) for v in ann.get_bbox())
            seen.add((image, cls, ann.type.name, None if ann.type == AnnotationType.mask else box))
    return seen, masks


def _what_qmdb_holds(con, query):
    from pycocotools import mask as api

    rows = con.sql(f"""SELECT parse_filename(i.path, true), l.class, l.x, l.y, l.w, l.h, l.polygon, l.mask
                       FROM labels l JOIN images i USING (image_id) WHERE l.image_id IN ({query})""").fetchall()
    seen, masks = set(), {}
    for image, cls, x, y, w, h, polygon, mask in rows:
        if x is None:
            seen.add((image, cls, "label", None))
        elif polygon:
            seen.add((image, cls, "polygon", tuple(round(v, 6) for v in (x, y, w, h))))
        elif mask:
            seen.add((image, cls, "mask", None))
            masks[(image, cls)] = api.decode({"size": mask["size"], "counts": mask["counts"].encode()})
        else:
            seen.add((image, cls, "bbox", tuple(round(v, 6) for v in (x, y, w, h))))
    return seen, masks


def test_datumaro_reads_our_cvat(toy, tmp_path):
    export_cvat(toy, tmp_path / "task", query=WHOLE)
    seen, masks = _what_datumaro_sees(_import(tmp_path / "task", "cvat"))
    held, held_masks = _what_qmdb_holds(toy, WHOLE)
    assert seen == held and len(seen) == 5
    assert masks.keys() == held_masks.keys() and all((masks[k] == held_masks[k]).all() for k in masks)


def test_datumaro_reads_our_coco(toy, tmp_path):
    qmdb.export_coco(toy, tmp_path / "coco" / "annotations" / "instances_default.json", query=BOXES)
    (tmp_path / "coco" / "images" / "default").mkdir(parents=True)     # datumaro's layout (no files needed)
    seen, _ = _what_datumaro_sees(_import(tmp_path / "coco", "coco_instances"))
    held, _ = _what_qmdb_holds(toy, BOXES)
    assert seen == {h for h in held if h[2] != "label"} and len(seen) == 2    # COCO has no image-level labels


@pytest.mark.parametrize("fmt, file", [("cvat", "*.xml"), ("coco_instances", "annotations/instances_*.json")])
def test_we_read_what_datumaro_writes(toy, tmp_path, fmt, file):
    from datumaro.components.annotation import AnnotationType, Bbox

    export_cvat(toy, tmp_path / "task", query=BOXES)
    dataset = _import(tmp_path / "task", "cvat")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset.export(str(tmp_path / "dm"), fmt, save_media=False)
    (written,) = (tmp_path / "dm").glob(file)
    assert read_changes(toy, written)[0].num_rows == 0
    # an independent edit: datumaro moves one box 3 px right and drops its label_id
    item = next(i for i in dataset if any(a.type == AnnotationType.bbox for a in i.annotations))
    box = next(a for a in item.annotations if a.type == AnnotationType.bbox)
    others = [a for a in item.annotations if a is not box]
    dataset.put(item.wrap(annotations=[*others, Bbox(box.x + 3, box.y, box.w, box.h, label=box.label)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset.export(str(tmp_path / "dm2"), fmt, save_media=False)
    (change,) = read_changes(toy, next((tmp_path / "dm2").glob(file)))[0].to_pylist()
    assert change["op"] == "update" and change["label_id"] == int(box.attributes["label_id"])
    assert change["x"] == pytest.approx(box.x + 3)


def test_label_studio_converter_accepts_our_tasks(toy, tmp_path):
    converter = pytest.importorskip("label_studio_converter", reason="label-studio-converter is not installed "
                                                                      "(pip install --no-deps -r requirements-interop.txt)")
    export_labelstudio(toy, tmp_path / "ls", query=BOXES)
    config = (tmp_path / "ls" / "label_config.xml").read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converter.Converter(config=config, project_dir=None).convert_to_coco(
            input_data=str(tmp_path / "ls" / "tasks.json"), output_dir=str(tmp_path / "coco"), is_dir=False)
    doc = json.loads((tmp_path / "coco" / "result.json").read_text())
    names = {c["id"]: c["name"] for c in doc["categories"]}
    files = {i["id"]: i["file_name"] for i in doc["images"]}
    got = sorted((names[a["category_id"]], *(round(v, 6) for v in a["bbox"])) for a in doc["annotations"])
    want = sorted(tuple(r) for r in toy.sql(f"SELECT class, round(x, 6), round(y, 6), round(w, 6), round(h, 6) FROM labels "
                                            f"WHERE x IS NOT NULL AND image_id IN ({BOXES})").fetchall())
    assert got == want and all("images/" in f for f in files.values())
