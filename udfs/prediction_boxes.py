"""Box metrics of predictions: the label metrics' geometry and pixels, measured on a model's boxes.

`compute_prediction_metrics(con, model)` fills `prediction_metrics` (one row per boxed
prediction) with the label metrics named in `METRICS`, computed by the very functions
that fill `label_metrics` (so a prediction's `pred_box_area` means what a label's
`box_area` does), each column prefixed ``pred_``. Each image is decoded once for all
its predictions. The slices of `qmdb.evaluate.slice` and the checks can then name
them (``pred_box_area < 1024``): precision and false positives by the predicted box,
not only recall by the label's.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from . import registry
from .boxes import Boxes
from .compute import label_values
from .pixels import DecodeError, read

# label metric -> column of prediction_metrics
METRICS = {"box_area": "pred_box_area", "box_aspect_ratio": "pred_aspect_ratio",
           "border_distance": "pred_border_distance", "area_rel": "pred_area_rel",
           "box_brightness": "pred_brightness"}

_PREDICTIONS = """
    SELECT p.prediction_id, p.model, p.image_id, p.class, p.x, p.y, p.w, p.h, i.width, i.height
    FROM predictions p JOIN images i USING (image_id)
    WHERE ($model IS NULL OR p.model = $model) AND p.w IS NOT NULL
    ORDER BY p.image_id, p.prediction_id
"""


def compute_prediction_metrics(con: duckdb.DuckDBPyConnection, model: str | None = None) -> int:
    """Measure every boxed prediction of `model` (default: every model); replaces their rows, returns how many.

    An image that cannot be decoded leaves its predictions' pixel metrics NULL and is a row of `errors`.
    """
    from qmdb.images import files
    from qmdb.transaction import transaction

    registry.load_modules()
    metrics = [registry.get("label", name) for name in METRICS]
    t = con.sql(_PREDICTIONS, params={"model": model}).to_arrow_table()
    col = {name: t[name].to_numpy(zero_copy_only=False) for name in t.column_names}
    images, first = np.unique(col["image_id"], return_index=True)
    bounds = np.r_[first, len(col["image_id"])]
    where = files(con, images.tolist())
    out = {name: np.ma.masked_all(t.num_rows) for name in METRICS}
    problems = []
    for k, image_id in enumerate(images):              # one decode per image, all its boxes at once
        lo, hi = bounds[k], bounds[k + 1]
        xywh = np.stack([col[c][lo:hi] for c in "xywh"], 1).astype(float)
        file = where.get(int(image_id), (None, None))[0]
        try:
            image = read(file) if file else None
        except DecodeError as error:
            problems.append((int(image_id), file, str(error)))
            image = None
        width, height = (image.width, image.height) if image is not None else (col["width"][lo], col["height"][lo])
        boxes = Boxes(xywh, col["class"][lo:hi], int(width or 0), int(height or 0))
        wanted = metrics if image is not None else [m for m in metrics if m.name != "box_brightness"]
        values, failed = label_values(image, boxes, wanted)
        problems += [(int(image_id), file, message) for message in failed]
        for name, value in values.items():
            out[name][lo:hi] = value
    table = pa.table({"prediction_id": col["prediction_id"], "model": col["model"],
                      **{METRICS[n]: pa.array(v.filled(np.nan), mask=np.ma.getmaskarray(v)) for n, v in out.items()}})
    errors = pa.table({"image_id": pa.array([p[0] for p in problems], pa.int64()),
                       "file": pa.array([p[1] for p in problems], pa.string()),
                       "message": pa.array([p[2] for p in problems], pa.string())})
    with transaction(con, _qmdb_pred_metrics=table, _qmdb_pred_errors=errors):
        con.execute("DELETE FROM prediction_metrics WHERE $model IS NULL OR model = $model", {"model": model})
        con.execute("INSERT INTO prediction_metrics BY NAME SELECT * FROM _qmdb_pred_metrics")
        con.execute("INSERT INTO errors (image_id, file, stage, message) "
                    "SELECT image_id, coalesce(file, ''), 'prediction_metrics', message FROM _qmdb_pred_errors")
    return table.num_rows
