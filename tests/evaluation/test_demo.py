"""On the demo's detection set with its real detector, qmdb equals pycocotools."""

import numpy as np
import pytest

import qmdb
from qmdb.evaluation import accumulate, match
from qmdb.evaluation.detection import load, to_boxes
from qmdb.evaluation.order import IMAGE_ORDER
from qmdb.evaluation.reference import coco_dicts, cocoeval


@pytest.mark.slow
def test_demo_detector_equals_pycocotools(request, tmp_path):
    try:
        demo_db = request.getfixturevalue("demo_db")
    except pytest.FixtureLookupError:
        pytest.skip("the demo_db fixture has not landed yet")
    import shutil

    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    con = qmdb.connect(path)
    model, dataset = con.sql("SELECT model, dataset FROM models WHERE task = 'detection' ORDER BY model LIMIT 1").fetchall()[0]
    report = qmdb.evaluate(con, model, dataset=dataset, progress=False)
    labels, preds, classes = load(con, model, dataset)
    gt, dt = to_boxes(labels, preds, classes)
    images = np.array([i for (i,) in con.sql(f"SELECT image_order FROM ({IMAGE_ORDER} WHERE i.dataset = ?)",
                                                params=[dataset]).fetchall()])  # Boxes.image is image_order
    reference = cocoeval(*coco_dicts(gt, dt, images, len(classes)))
    np.testing.assert_allclose(list(report.stats.values()), reference.stats, rtol=0, atol=1e-6)
    acc = accumulate(gt, dt, match(gt, dt), len(classes))
    np.testing.assert_allclose(acc.precision, reference.eval["precision"], rtol=0, atol=1e-12)
    assert report.stats["ap50"] > 0
