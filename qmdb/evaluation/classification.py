"""Classification models: top-1 against the image's label, as SQL; the probabilities stay in `label_score`.

A classifier has at most one counted prediction per image (its highest score,
the argmax class); it is a TP when that class is the image's label. Each label
row says whether the image's top-1 was its class, and `label_score` keeps the
probability the model gave the labeled class (from `predictions.probs`), which
is what label-error finding and calibration read.
"""

from __future__ import annotations

import duckdb

_ROWS = """
WITH img AS (SELECT image_id FROM images WHERE dataset = $dataset),
top AS (
    SELECT p.*, row_number() OVER (PARTITION BY p.image_id ORDER BY p.score DESC, p.prediction_id) AS det_rank
    FROM predictions p JOIN img USING (image_id)
    WHERE p.model = $model AND p.w IS NULL
),
lab AS (
    SELECT l.label_id, l.image_id, l.class
    FROM labels l JOIN img USING (image_id)
    WHERE l.w IS NULL
    QUALIFY row_number() OVER (PARTITION BY l.image_id ORDER BY l.label_id) = 1
)
SELECT $model AS model, CAST(NULL AS DOUBLE) AS threshold, 'prediction' AS item_type, t.image_id, t.class,
       t.prediction_id, l.label_id, t.score, CAST(NULL AS DOUBLE) AS iou,
       CASE WHEN t.class = l.class THEN 'TP' ELSE 'FP' END AS outcome,
       t.det_rank > 1 OR l.label_id IS NULL AS ignored, CAST(t.det_rank AS INTEGER) AS det_rank,
       coalesce(t.probs[l.class], CASE WHEN t.class = l.class THEN t.score END) AS label_score
FROM top t LEFT JOIN lab l USING (image_id)
UNION ALL
SELECT $model, NULL, 'label', l.image_id, l.class, t.prediction_id, l.label_id, t.score, NULL,
       CASE WHEN t.class = l.class THEN 'TP' ELSE 'FN' END, false, NULL,
       coalesce(t.probs[l.class], CASE WHEN t.class = l.class THEN t.score END)
FROM lab l LEFT JOIN top t ON t.image_id = l.image_id AND t.det_rank = 1
"""


def classification_rows(con: duckdb.DuckDBPyConnection, model: str, dataset: str) -> duckdb.DuckDBPyRelation:
    """The `matches` rows of a classifier, as a relation (not yet written)."""
    return con.sql(_ROWS, params={"model": model, "dataset": dataset})
