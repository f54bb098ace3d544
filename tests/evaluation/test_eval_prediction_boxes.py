"""Box metrics of predictions (`prediction_metrics`): measured as the label metrics are, and a slice."""

import cv2
import numpy as np
import pytest
from sklearn.datasets import load_sample_images

import qmdb
from qmdb.udfs.prediction_boxes import compute_prediction_metrics


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """sklearn's two photographs, three labels and six predictions (hits, a shifted box, false positives)."""
    root = tmp_path_factory.mktemp("photos")
    con = qmdb.connect(str(root / "p.duckdb"))
    con.execute("INSERT INTO datasets (name, root, format, task) VALUES ('photos', ?, 'coco', 'detection')", [str(root)])
    for i, (name, rgb) in enumerate(zip(("china.jpg", "flower.jpg"), load_sample_images().images), start=1):
        cv2.imwrite(str(root / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        con.execute("INSERT INTO images (image_id, dataset, path, width, height) VALUES (?, 'photos', ?, ?, ?)",
                    [i, name, rgb.shape[1], rgb.shape[0]])
    con.executemany("INSERT INTO labels (label_id, image_id, class, x, y, w, h, area, iscrowd, source_id) "
                    "VALUES ($1, $2, 'thing', $3, $4, $5, $6, $7, false, CAST($1 AS VARCHAR))",
                    [[1, 1, 120, 60, 200, 150, 30000], [2, 1, 400, 250, 90, 60, 5400], [3, 2, 150, 100, 300, 260, 78000]])
    con.execute("INSERT INTO models (model, task, dataset) VALUES ('det', 'detection', 'photos')")
    con.executemany("INSERT INTO predictions (prediction_id, model, image_id, class, score, x, y, w, h, source_id) "
                    "VALUES ($1, 'det', $2, 'thing', $3, $4, $5, $6, $7, CAST($1 AS VARCHAR))",
                    [[1, 1, 0.9, 122, 61, 198, 150], [2, 1, 0.8, 0, 0, 40, 30], [3, 1, 0.7, 410, 250, 90, 60],
                     [4, 2, 0.95, 150, 100, 300, 260], [5, 2, 0.6, 600, 400, 30, 20], [6, 2, 0.5, 5, 300, 20, 60]])
    qmdb.evaluate(con, "det", progress=False)
    assert compute_prediction_metrics(con, "det") == 6
    yield con, root
    con.close()


def test_geometry_and_brightness_are_the_label_metrics_on_the_predicted_box(photos):
    con, root = photos
    rows = con.sql("SELECT p.x, p.y, p.w, p.h, i.width, i.height, i.path, m.* FROM prediction_metrics m "
                   "JOIN predictions p USING (prediction_id) JOIN images i USING (image_id) "
                   "ORDER BY prediction_id").to_arrow_table().to_pylist()
    for r in rows:
        x, y, w, h, W, H = (r[k] for k in ("x", "y", "w", "h", "width", "height"))
        assert r["pred_box_area"] == pytest.approx(w * h)
        assert r["pred_aspect_ratio"] == pytest.approx(w / h)
        assert r["pred_area_rel"] == pytest.approx(w * h / (W * H))
        assert r["pred_border_distance"] == pytest.approx(min(x, y, W - x - w, H - y - h))
        gray = cv2.cvtColor(cv2.imread(str(root / r["path"])), cv2.COLOR_BGR2GRAY)
        crop = gray[int(np.floor(y)):int(np.ceil(y + h)), int(np.floor(x)):int(np.ceil(x + w))]
        assert r["pred_brightness"] == pytest.approx(crop.mean() / 255, abs=1e-9)
    assert len({round(r["pred_brightness"], 6) for r in rows}) == 6         # six different crops


def test_precision_sliced_by_the_predicted_box(photos):
    con, _ = photos
    small = qmdb.evaluate.slice(con, where="pred_box_area < 2000").to_arrow_table().to_pylist()
    part = {r["part"]: r for r in small}
    # predictions 2 (1,200 px²) and 5 (600 px²) are small and both false positives; 6 (1,200 px²) too
    assert (part["slice"]["tp"], part["slice"]["fp"]) == (0, 3)
    assert part["slice"]["precision"] == 0.0
    assert (part["rest"]["tp"], part["rest"]["fp"]) == (3, 0)
