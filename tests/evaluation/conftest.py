"""Detection projects built from seeded, real-shaped cases (qmdb.evaluation.synthetic)."""

import numpy as np
import pyarrow as pa
import pytest

import qmdb
from qmdb.evaluation.synthetic import detection_case


def load_case(con, gt, dt, image_ids, n_classes, *, dataset="det", model="det-model", images_extra=None):
    """Write a case into a project: image ids and label/prediction ids as the case's (COCO ids)."""
    con.execute("INSERT INTO datasets (name, root, format, task) VALUES (?, '.', 'coco', 'detection')", [dataset])
    images = pa.table({"image_id": image_ids, "dataset": [dataset] * len(image_ids),
                       "path": [f"{i}.png" for i in image_ids], "width": np.full(len(image_ids), 640),
                       "height": np.full(len(image_ids), 480), **(images_extra or {})})
    names = np.array([f"c{k:02d}" for k in range(n_classes)], dtype=object)
    labels = pa.table({"label_id": gt.order + 1, "image_id": gt.image, "class": names[gt.cls],
                       "x": gt.box[:, 0], "y": gt.box[:, 1], "w": gt.box[:, 2], "h": gt.box[:, 3],
                       "area": gt.area, "iscrowd": gt.crowd, "source_id": (gt.order + 1).astype(str)})
    preds = pa.table({"prediction_id": dt.order + 1, "model": [model] * len(dt), "image_id": dt.image,
                      "class": names[dt.cls], "score": dt.score, "x": dt.box[:, 0], "y": dt.box[:, 1],
                      "w": dt.box[:, 2], "h": dt.box[:, 3], "source_id": (dt.order + 1).astype(str)})
    for name in images_extra or {}:
        con.execute(f'ALTER TABLE images ADD COLUMN IF NOT EXISTS "{name}" VARCHAR')
    con.register("_img", images)
    con.execute("INSERT INTO images BY NAME SELECT * FROM _img")
    con.register("_lab", labels)
    con.execute("INSERT INTO labels BY NAME SELECT * FROM _lab")
    con.execute("INSERT INTO models (model, task, dataset) VALUES (?, 'detection', ?)", [model, dataset])
    con.register("_pred", preds)
    con.execute("INSERT INTO predictions BY NAME SELECT * FROM _pred")
    for name in ("_img", "_lab", "_pred"):
        con.unregister(name)


@pytest.fixture(scope="module")
def detection_project():
    """A project with one detection dataset and one model: 150 images, ~8 boxes each, 6 classes, crowds."""
    con = qmdb.connect()
    gt, dt, images = detection_case(seed=11, n_images=150, boxes_per_image=8, n_classes=6, crowd_rate=0.05)
    load_case(con, gt, dt, images, 6)
    yield con, (gt, dt, images, 6)
    con.close()
