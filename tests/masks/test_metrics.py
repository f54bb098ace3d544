import json

import numpy as np
import pytest
from pycocotools import mask as mask_api
from pycocotools.coco import COCO

import qmdb
from qmdb.importers import import_dataset
from qmdb.udfs import mask_registry
from qmdb.udfs.mask_registry import compute_mask_metrics, mask_metric


def _import(con, files):
    return import_dataset(con, "coco", files["instances"], root=files["instances"].parent / "images", name="instances")


def _metrics(con):
    return {r[0]: r[1:] for r in con.sql(
        "SELECT l.source_id, l.class, l.iscrowd, m.mask_area, m.mask_fill, m.mask_outside_box, m.mask_parts, "
        "m.mask_holes, m.mask_vertices, m.mask_circularity FROM mask_metrics m JOIN labels l USING (label_id)").fetchall()}


def test_mask_metrics_measure_the_drawn_shapes(con, segm_files):
    _import(con, segm_files)
    assert compute_mask_metrics(con) == con.sql("SELECT count(*) FROM labels").fetchall()[0][0]
    coco = COCO(str(segm_files["instances"]))
    rows = _metrics(con)
    for source_id, (cls, crowd, area, fill, outside, parts, holes, vertices, circ) in rows.items():
        ann = coco.anns[int(source_id)]
        assert area == float(mask_api.area(coco.annToRLE(ann)))
        assert fill == pytest.approx(area / (ann["bbox"][2] * ann["bbox"][3]), abs=1e-12)
        assert outside == 0.0                                    # COCO's box is the mask's bounds
        if crowd:                                                # a filled rectangle
            assert (fill, parts, holes, vertices) == (1.0, 1, 0, 4)
        elif cls == "ring":                                      # a disc with a disc cut out
            assert (parts, holes) == (1, 1) and circ < 0.6
        else:
            assert holes == 0 and parts >= 1 and 0 < circ <= 1
    rings = [v for v in rows.values() if v[0] == "ring"]
    blobs = [v for v in rows.values() if v[0] == "blob"]
    assert rings and blobs and min(v[8] for v in blobs) > max(v[8] for v in rings)  # ellipses rounder than rings


def test_sql_functions_equal_the_materialized_columns(con, segm_files):
    _import(con, segm_files)
    compute_mask_metrics(con)
    mask_registry.register(con)
    rows = con.sql("SELECT m.mask_area = mask_area(l.mask), m.mask_fill = mask_fill(l.mask, l.x, l.y, l.w, l.h), "
                   "m.mask_holes = mask_holes(l.mask), m.mask_vertices = mask_vertices(l.mask) "
                   "FROM labels l JOIN mask_metrics m USING (label_id)").fetchall()
    assert rows and all(all(r) for r in rows)
    assert con.sql("SELECT mask_area(NULL::STRUCT(size INTEGER[], counts VARCHAR))").fetchall() == [(None,)]


def test_only_changed_masks_and_new_versions_are_recomputed(con, segm_files):
    _import(con, segm_files)
    compute_mask_metrics(con)
    assert compute_mask_metrics(con) == 0
    data = json.loads(segm_files["instances"].read_text())
    target = next(a for a in data["annotations"] if isinstance(a["segmentation"], list))
    h, w = next((i["height"], i["width"]) for i in data["images"] if i["id"] == target["image_id"])
    empty = mask_api.encode(np.zeros((h, w), np.uint8, order="F"))
    target["segmentation"] = {"size": [h, w], "counts": empty["counts"].decode()}
    shifted = next(a for a in data["annotations"] if a is not target and not a["iscrowd"])
    shifted["bbox"] = [shifted["bbox"][0] + shifted["bbox"][2] / 2, *shifted["bbox"][1:]]
    segm_files["instances"].write_text(json.dumps(data))
    _import(con, segm_files)
    assert compute_mask_metrics(con) == 2                        # only the changed mask and box
    ids = lambda view: [r[0] for r in con.sql(  # noqa: E731
        f"SELECT l.source_id FROM {view} v JOIN labels l ON l.label_id = v.item_id").fetchall()]
    assert ids("errors_mask_empty") == [str(target["id"])]
    assert ids("errors_mask_outside_box()") == [str(shifted["id"])]
    row = con.sql("SELECT score, reason FROM errors_mask_outside_box()").fetchall()[0]
    assert 0.3 < row[0] < 0.7 and "outside its" in row[1]

    @mask_metric(version=1, type="BOOLEAN")
    def mask_touches_corner(item):
        """Whether the mask covers the image's top-left pixel."""
        return bool(item.mask[0, 0])

    try:
        assert compute_mask_metrics(con) == con.sql("SELECT count(*) FROM labels").fetchall()[0][0]
        assert con.sql("SELECT count(*) FILTER (mask_touches_corner = false) FROM mask_metrics").fetchall() == \
            [(con.sql("SELECT count(*) FROM labels").fetchall()[0][0],)]
    finally:
        mask_registry._REGISTRY.pop("mask_touches_corner")


def test_a_half_described_mask_metric_is_refused():
    def mask_nothing(item):
        return 0.0

    with pytest.raises(qmdb.QmdbError, match="docstring"):
        mask_metric(version=1)(mask_nothing)
    with pytest.raises(qmdb.QmdbError, match="version"):
        mask_metric(version=0)(mask_area_again)
    assert "mask_nothing" not in mask_registry._REGISTRY


def mask_area_again(item):
    """Area again."""
    return float(item.mask.sum())
