"""qmdb.evaluate.slice: any WHERE over metrics and metadata, with intervals and support."""

import numpy as np
import pytest

import qmdb
from qmdb.errors import QmdbError
from qmdb.evaluation.slices import condition_sql

from .conftest import load_case
from qmdb.evaluation.synthetic import detection_case


@pytest.fixture(scope="module")
def cameras():
    """Images from two cameras; camera 'B' images get their detections shifted (a real degradation)."""
    con = qmdb.connect()
    gt, dt, images = detection_case(seed=21, n_images=120, boxes_per_image=6, n_classes=4)
    camera = np.where(np.arange(len(images)) % 3 == 0, "B", "A")
    on_b = np.isin(dt.image, images[camera == "B"])
    dt.box[on_b, 0] += 0.25 * dt.box[on_b, 2]
    load_case(con, gt, dt, images, 4, images_extra={"camera": camera})
    qmdb.evaluate(con, "det-model", progress=False)
    yield con
    con.close()


def test_slice_finds_the_degraded_camera(cameras):
    rows = qmdb.evaluate.slice(cameras, "camera = 'B'", n_boot=100).fetchall()
    cols = [d[0] for d in qmdb.evaluate.slice(cameras, "camera = 'B'", n_boot=5).description]
    part = {r[cols.index("part")]: dict(zip(cols, r)) for r in rows}
    b, a = part["slice"], part["rest"]
    assert b["images"] == 40 and a["images"] + b["images"] <= 120
    assert b["labels"] + a["labels"] == cameras.sql("SELECT count(*) FROM labels WHERE NOT iscrowd").fetchall()[0][0]
    assert b["recall_high"] < a["recall_low"]                 # the drop is real: the intervals do not overlap
    assert b["ap_high"] < a["ap_low"]
    for p in (a, b):
        assert p["recall_low"] <= p["recall"] <= p["recall_high"] and p["ap_low"] <= p["ap_high"]


def test_slice_with_min_score_counts_fewer_predictions(cameras):
    low = {r[1]: r[4] for r in qmdb.evaluate.slice(cameras, "camera = 'A'", n_boot=5).fetchall()}
    high = {r[1]: r[4] for r in qmdb.evaluate.slice(cameras, "camera = 'A'", min_score=0.5, n_boot=5).fetchall()}
    assert 0 < high["slice"] < low["slice"]


@pytest.mark.parametrize("where, message", [
    ("1 = 1; DROP TABLE labels", "one SQL expression"),
    ("image_id IN (SELECT image_id FROM images)", "subqueries"),
    ("camera = ", "cannot parse"),
])
def test_bad_conditions_are_refused(cameras, where, message):
    with pytest.raises(QmdbError, match=message):
        qmdb.evaluate.slice(cameras, where)


def test_unknown_column_names_the_condition(cameras):
    with pytest.raises(QmdbError, match="nope"):
        qmdb.evaluate.slice(cameras, "nope > 1")


def test_condition_is_regenerated_not_pasted():
    assert condition_sql("camera='B'  and  brightness<0.2") == "camera = 'B' AND brightness < 0.2"
