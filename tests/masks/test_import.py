import json
import shutil

import cv2

import numpy as np
import pytest
from pycocotools import mask as mask_api
from pycocotools.coco import COCO

import qmdb
from qmdb.importers import import_dataset, import_predictions


def _mask(m) -> np.ndarray:
    return mask_api.decode({"size": m["size"], "counts": m["counts"].encode()})


def _snapshot(con) -> dict:
    return {t: sorted(map(repr, con.table(t).fetchall())) for t in ("images", "labels", "classes", "predictions", "models")}


def _import(con, files, name="instances"):
    return import_dataset(con, "coco", files[name], root=files[name].parent / "images", name=name)


def test_every_segmentation_form_is_stored_as_the_rle_cocotools_makes(con, segm_files):
    _import(con, segm_files)
    coco = COCO(str(segm_files["instances"]))
    rows = con.sql("SELECT source_id, mask, polygon, area, x, y, w, h, iscrowd FROM labels ORDER BY label_id").fetchall()
    assert len(rows) == len(coco.anns)
    forms = set()
    for source_id, mask, polygon, area, x, y, w, h, crowd in rows:
        ann = coco.anns[int(source_id)]
        forms.add("polygon" if isinstance(ann["segmentation"], list) else
                  "rle" if isinstance(ann["segmentation"]["counts"], str) else "uncompressed")
        np.testing.assert_array_equal(_mask(mask), coco.annToMask(ann))
        assert (polygon is not None) == isinstance(ann["segmentation"], list)
        assert (area, [x, y, w, h], crowd) == (ann["area"], ann["bbox"], bool(ann["iscrowd"]))
    assert forms == {"polygon", "rle", "uncompressed"}


def test_box_and_area_come_from_the_mask_when_absent(con, segm_files):
    data = json.loads(segm_files["instances"].read_text())
    for ann in data["annotations"]:
        del ann["bbox"], ann["area"]
    segm_files["instances"].write_text(json.dumps(data))
    _import(con, segm_files)
    coco = COCO(str(segm_files["instances"]))
    for source_id, area, x, y, w, h in con.sql("SELECT source_id, area, x, y, w, h FROM labels").fetchall():
        rle = coco.annToRLE(coco.anns[int(source_id)])
        assert area == float(mask_api.area(rle)) and [x, y, w, h] == mask_api.toBbox(rle).tolist()


def test_export_round_trips_masks_and_keypoints_pixel_exact(con, segm_files, tmp_path):
    _import(con, segm_files)
    _import(con, segm_files, "keypoints")
    for name in ("instances", "keypoints"):
        out = tmp_path / f"{name}-out.json"
        qmdb.export_coco(con, out, query=f"SELECT image_id FROM images WHERE dataset = '{name}'")
        a, b = COCO(str(segm_files[name])), COCO(str(out))
        assert sorted(a.anns) == sorted(b.anns)
        for i, ann in a.anns.items():
            np.testing.assert_array_equal(b.annToMask(b.anns[i]), a.annToMask(ann))
            if isinstance(ann["segmentation"], list):
                np.testing.assert_allclose(np.concatenate(b.anns[i]["segmentation"]),
                                           np.concatenate(ann["segmentation"]), atol=1e-6)
            if "keypoints" in ann:
                assert (b.anns[i]["keypoints"], b.anns[i]["num_keypoints"]) == (ann["keypoints"], ann["num_keypoints"])
        cats = json.loads(out.read_text())["categories"]
        assert cats == json.loads(segm_files[name].read_text())["categories"]


def test_keypoints_and_category_skeleton_are_stored(con, segm_files):
    _import(con, segm_files, "keypoints")
    data = json.loads(segm_files["keypoints"].read_text())
    rows = dict(con.sql("SELECT source_id, struct_pack(k := keypoints, n := num_keypoints) FROM labels").fetchall())
    for ann in data["annotations"]:
        assert rows[str(ann["id"])] == {"k": ann["keypoints"], "n": ann["num_keypoints"]}
    assert con.sql("SELECT keypoints, skeleton FROM classes").fetchall() == \
        [(data["categories"][0]["keypoints"], data["categories"][0]["skeleton"])]
    assert any(a["num_keypoints"] == 0 for a in data["annotations"])


def test_segmentation_results_are_stored_with_loadres_area(con, segm_files):
    _import(con, segm_files)
    import_predictions(con, "coco", segm_files["results"], model="m", dataset="instances")
    results = json.loads(segm_files["results"].read_text())
    rows = con.sql("SELECT source_id, mask, area, x, y, w, h, score FROM predictions ORDER BY prediction_id").fetchall()
    assert len(rows) == len(results)
    for source_id, mask, area, x, y, w, h, score in rows:
        r = results[int(source_id)]
        rle = {"size": r["segmentation"]["size"], "counts": r["segmentation"]["counts"].encode()}
        assert mask == r["segmentation"] and score == r["score"]
        assert area == float(mask_api.area(rle)) and [x, y, w, h] == mask_api.toBbox(rle).tolist()


def _corrupt(file, edit):
    data = json.loads(file.read_text())
    edit(data)
    file.write_text(json.dumps(data))


BAD = {
    "odd polygon": ("instances", lambda d: next(a for a in d["annotations"] if isinstance(a["segmentation"], list))
                    ["segmentation"][0].append(3.0), "annotations[{i}].segmentation[0]: a polygon needs x, y pairs"),
    "rle size": ("instances", lambda d: next(a for a in d["annotations"] if isinstance(a["segmentation"], dict))
                 ["segmentation"].update(size=[10, 10]), "annotations[{i}].segmentation.size: RLE size 10x10"),
    "keypoint count": ("keypoints", lambda d: d["annotations"][2]["keypoints"].extend([1.0, 2.0, 2]),
                       "annotations[{i}].keypoints: 18 keypoints, the category declares 17"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_masks_and_keypoints_name_file_and_field_and_change_nothing(con, segm_files, case):
    name, edit, message = BAD[case]
    _import(con, segm_files, name)
    before = _snapshot(con)
    original = json.loads(segm_files[name].read_text())["annotations"]
    _corrupt(segm_files[name], edit)
    changed = json.loads(segm_files[name].read_text())["annotations"]
    i = next(k for k, (a, b) in enumerate(zip(original, changed)) if a != b)
    with pytest.raises(qmdb.InputError) as raised:
        _import(con, segm_files, name)
    assert str(raised.value).startswith(f"{segm_files[name]}: {message.format(i=i)}"), str(raised.value)
    assert "\n" not in str(raised.value)
    assert _snapshot(con) == before


def test_rle_results_of_the_wrong_size_are_refused(con, segm_files):
    _import(con, segm_files)
    _corrupt(segm_files["results"], lambda d: d[1]["segmentation"].update(size=[5, 5]))
    with pytest.raises(qmdb.InputError, match=r"results\[1\]\.segmentation\.size: RLE size 5x5 .* disagrees"):
        import_predictions(con, "coco", segm_files["results"], model="m", dataset="instances")
    assert con.sql("SELECT count(*) FROM predictions").fetchall() == [(0,)]


def test_yolo_segmentation_labels_and_predictions(con, segm_files, tmp_path):
    coco = COCO(str(segm_files["instances"]))
    folder = tmp_path / "yolo"
    shutil.copytree(segm_files["instances"].parent / "images", folder / "images")
    (folder / "labels").mkdir()
    (folder / "preds").mkdir()
    (folder / "data.yaml").write_text("names: [ring, blob, star]\n")
    expected = {}
    for img in coco.imgs.values():
        w, h = img["width"], img["height"]
        lines, preds = [], []
        for ann in coco.imgToAnns[img["id"]]:
            if not isinstance(ann["segmentation"], list):
                continue
            ring = np.array(ann["segmentation"][0]).reshape(-1, 2) / [w, h]
            lines.append(" ".join([str(ann["category_id"] - 1)] + [f"{v:.6f}" for v in ring.ravel()]))
            preds.append(lines[-1] + " 0.75")
            expected[("images/" + img["file_name"], len(lines))] = ring * [w, h]
        stem = img["file_name"].rsplit(".", 1)[0]
        (folder / "labels" / f"{stem}.txt").write_text("\n".join(lines))
        (folder / "preds" / f"{stem}.txt").write_text("\n".join(preds))
    import_dataset(con, "yolo", folder, name="y")
    rows = con.sql("SELECT i.path, l.source_id, l.polygon, l.mask, l.x, l.y, l.w, l.h, l.area "
                   "FROM labels l JOIN images i USING (image_id)").fetchall()
    assert len(rows) == len(expected) > 0
    for path, line, polygon, mask, x, y, w, h, area in rows:
        ring = expected[(path, int(line))]
        np.testing.assert_allclose(np.array(polygon[0]).reshape(-1, 2), ring, atol=1e-3)
        rle = mask_api.merge(mask_api.frPyObjects(polygon, *mask["size"]))
        assert mask["counts"] == rle["counts"].decode() and area == float(mask_api.area(rle))
        points = np.array(polygon[0]).reshape(-1, 2)
        np.testing.assert_allclose([x, y, x + w, y + h], [*points.min(0), *points.max(0)], atol=1e-9)
    import_predictions(con, "yolo", folder / "preds", model="seg", dataset="y")
    assert con.sql("SELECT count(*), count(mask), min(score), max(score) FROM predictions").fetchall() == \
        [(len(expected), len(expected), 0.75, 0.75)]
    (folder / "labels" / "img_0.txt").write_text("0 0.1 0.1 0.2 0.1 0.2 0.2 0.3\n")
    with pytest.raises(qmdb.InputError, match=r"img_0.txt: line 1: a polygon needs x y pairs"):
        import_dataset(con, "yolo", folder, name="y")


def test_yolo_segments_export_round_trips_polygons_and_traces_masks(con, segm_files, tmp_path):
    _import(con, segm_files)
    out = tmp_path / "yolo-out"
    report = qmdb.export_yolo(con, out, query="SELECT image_id FROM images", images="copy", segments=True)
    assert report.labels == con.sql("SELECT count(*) FROM labels").fetchall()[0][0]
    import_dataset(con, "yolo", out, name="back")
    pairs = con.sql("""
        WITH a AS (SELECT l.*, ia.path, row_number() OVER (PARTITION BY l.image_id ORDER BY l.source_id::INT) AS line
                   FROM labels l JOIN images ia USING (image_id) WHERE ia.dataset = 'instances')
        SELECT a.polygon, a.mask, b.polygon, b.mask FROM a
        JOIN images ib ON ib.dataset = 'back' AND ib.path = 'images/' || a.path
        JOIN labels b ON b.image_id = ib.image_id AND b.class = a.class AND b.source_id = CAST(a.line AS VARCHAR)
        """).fetchall()
    assert len(pairs) == con.sql("SELECT count(*) FROM labels WHERE image_id IN "
                                 "(SELECT image_id FROM images WHERE dataset = 'instances')").fetchall()[0][0]
    traced = 0
    for poly_a, mask_a, poly_b, mask_b in pairs:
        if poly_a is not None and len(poly_a) == 1:
            np.testing.assert_allclose(poly_b[0], poly_a[0], rtol=0, atol=1e-6)
            np.testing.assert_array_equal(_mask(mask_b), _mask(mask_a))
        elif poly_a is None:                                      # an RLE mask, traced as its outer contour
            a, b = _mask(mask_a), _mask(mask_b)
            filled = np.zeros(a.shape, np.uint8)                   # a YOLO segment has no holes
            contours, _ = cv2.findContours(a, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            cv2.drawContours(filled, contours, -1, 1, -1)
            # the contour runs through boundary pixel centres: small shapes lose part of their rim
            assert (a & b).sum() / a.sum() > 0.8 and (filled & b).sum() / (filled | b).sum() > 0.8
            traced += 1
    assert traced > 0
