"""COCO's tie rule: tied scores across images are taken in ascending COCO image id, not in import order."""

import json

import numpy as np

import qmdb
from qmdb.evaluation.reference import cocoeval


def _case(tmp_path):
    """60 images listed out of id order, one box each; one prediction per image, all scoring 0.5."""
    rng = np.random.default_rng(7)
    ids = rng.permutation(np.arange(1, 61) * 7)              # listing order != id order
    hit = rng.random(60) < 0.5                               # a hit on the box, or a miss beside it
    images = [{"id": int(i), "file_name": f"{i}.png", "width": 100, "height": 100} for i in ids]
    annotations = [{"id": n + 1, "image_id": int(i), "category_id": 1, "bbox": [10.0, 10.0, 40.0, 40.0],
                    "area": 1600.0, "iscrowd": 0} for n, i in enumerate(ids)]
    results = [{"image_id": int(i), "category_id": 1, "score": 0.5,
                "bbox": [10.0, 10.0, 40.0, 40.0] if h else [55.0, 55.0, 40.0, 40.0]} for i, h in zip(ids, hit)]
    dataset = {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "thing"}]}
    (tmp_path / "gt.json").write_text(json.dumps(dataset))
    (tmp_path / "dt.json").write_text(json.dumps(results))
    return dataset, results


def test_tied_scores_follow_coco_image_ids(tmp_path):
    dataset, results = _case(tmp_path)
    reference = cocoeval(dataset, results)
    con = qmdb.connect()
    qmdb.import_dataset(con, "coco", tmp_path / "gt.json", name="ties")
    qmdb.import_predictions(con, "coco", tmp_path / "dt.json", model="tied", dataset="ties")
    report = qmdb.evaluate(con, "tied", progress=False)
    # qmdb's own image ids follow the listing; the COCO ids do not: the order of ties matters here
    listed = [i for (i,) in con.sql("SELECT CAST(source_id AS INTEGER) FROM images ORDER BY image_id").fetchall()]
    assert listed != sorted(listed)
    np.testing.assert_allclose(list(report.stats.values()), reference.stats, rtol=0, atol=1e-12)
    ap50 = con.sql("SELECT ap50 FROM eval_summary WHERE model = 'tied'").fetchall()[0][0]
    assert abs(ap50 - reference.stats[1]) < 1e-12
    con.close()
