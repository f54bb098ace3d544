"""Gallery cards for result rows: each row's image, the item it is about, and every box, mask and
keypoint skeleton on that image.

A row is about an image when its result has an `image_id` column, about a label when it has
`label_id` (its box is the focus, drawn in context), about a prediction when it has
`prediction_id`. One SQL query resolves a whole page of rows at once.

>>> import qmdb
>>> con = qmdb.connect()
>>> _ = con.execute("INSERT INTO images (image_id, dataset, path, width, height) VALUES (1, 'd', 'a.png', 64, 48)")
>>> _ = con.execute("INSERT INTO labels (label_id, image_id, class, x, y, w, h, source_id) "
...                 "VALUES (5, 1, 'cat', 2, 3, 10, 12, 'a')")
>>> cards = annotate(con, ["label_id", "note"], [[5, "hi"]])
>>> cards[0]["image_id"], cards[0]["focus_type"], cards[0]["focus_id"], [b["class"] for b in cards[0]["labels"]]
(1, 'label', 5, ['cat'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from .shapes import add_shapes

ID_COLUMNS = ("image_id", "label_id", "prediction_id")

_SQL = """
WITH r AS (
    SELECT unnest(range(len($image_ids))) AS row,
           unnest(CAST($image_ids AS BIGINT[])) AS image_id,
           unnest(CAST($label_ids AS BIGINT[])) AS label_id,
           unnest(CAST($prediction_ids AS BIGINT[])) AS prediction_id
),
items AS (
    SELECT r.row, coalesce(r.image_id, l.image_id, p.image_id) AS image_id,
           CASE WHEN l.label_id IS NOT NULL THEN 'label'
                WHEN p.prediction_id IS NOT NULL THEN 'prediction' ELSE 'image' END AS focus_type,
           coalesce(l.label_id, p.prediction_id, coalesce(r.image_id, l.image_id, p.image_id)) AS focus_id
    FROM r
    LEFT JOIN labels l ON l.label_id = r.label_id
    LEFT JOIN predictions p ON p.prediction_id = r.prediction_id AND r.label_id IS NULL
),
lab AS (
    SELECT l.image_id,
           list({'id': l.label_id, 'class': l.class, 'x': l.x, 'y': l.y, 'w': l.w, 'h': l.h, 'annotator': l.annotator,
                  'polygon': l.polygon, 'mask': l.mask, 'keypoints': l.keypoints,
                  'skeleton': CASE WHEN l.keypoints IS NOT NULL THEN c.skeleton END}
                ORDER BY l.label_id) FILTER (WHERE l.w IS NOT NULL) AS boxes,
           list(l.class ORDER BY l.label_id) FILTER (WHERE l.w IS NULL) AS image_classes
    FROM labels l
    LEFT JOIN images im ON im.image_id = l.image_id
    LEFT JOIN classes c ON c.dataset = im.dataset AND c.class = l.class
    WHERE l.image_id IN (SELECT image_id FROM items) GROUP BY l.image_id
),
pred AS (
    SELECT p.image_id,
           list({'id': p.prediction_id, 'model': p.model, 'class': p.class, 'score': p.score, 'x': p.x, 'y': p.y,
                  'w': p.w, 'h': p.h, 'polygon': p.polygon, 'mask': p.mask, 'keypoints': p.keypoints,
                  'skeleton': CASE WHEN p.keypoints IS NOT NULL THEN c.skeleton END}
                ORDER BY p.score DESC, p.prediction_id) FILTER (WHERE p.w IS NOT NULL) AS boxes,
           list({'model': p.model, 'class': p.class, 'score': p.score} ORDER BY p.score DESC)
                FILTER (WHERE p.w IS NULL) AS image_classes
    FROM predictions p
    LEFT JOIN images im ON im.image_id = p.image_id
    LEFT JOIN classes c ON c.dataset = im.dataset AND c.class = p.class
    WHERE p.image_id IN (SELECT image_id FROM items)
      AND ($model IS NULL OR p.model = $model)
      AND (p.score >= $min_score OR p.prediction_id IN (SELECT focus_id FROM items WHERE focus_type = 'prediction'))
    GROUP BY p.image_id
)
SELECT items.row, items.image_id, i.dataset, d.task, i.path, i.split, i.width, i.height, i.status,
       items.focus_type, items.focus_id,
       coalesce(lab.boxes, []) AS labels, coalesce(lab.image_classes, []) AS label_classes,
       coalesce(pred.boxes, []) AS predictions, coalesce(pred.image_classes[:3], []) AS predicted_classes
FROM items
LEFT JOIN images i ON i.image_id = items.image_id
LEFT JOIN datasets d ON d.name = i.dataset
LEFT JOIN lab ON lab.image_id = items.image_id
LEFT JOIN pred ON pred.image_id = items.image_id
ORDER BY items.row
"""


def id_columns(columns: Sequence[str]) -> list[str]:
    """The id columns (`image_id`, `label_id`, `prediction_id`) a result has; empty: rows without images.

    >>> id_columns(["path", "label_id", "image_id"])
    ['image_id', 'label_id']
    """
    return [c for c in ID_COLUMNS if c in columns]


def annotate(con: duckdb.DuckDBPyConnection, columns: Sequence[str], rows: Sequence[Sequence[Any]],
             *, min_score: float = 0.5, model: str | None = None) -> list[dict]:
    """One card per row (same order): `image_id`, `path`, `width`, `height`, `status`, `focus_type`
    (`image`, `label`, `prediction`), `focus_id`, the image's `labels` and `predictions` boxes
    (predictions scoring at least `min_score`, of `model` or every model; a focused prediction
    always), each with `rings`, its polygon or mask outline (`qmdb.gallery.shapes`; None for a box
    only), `points` and `edges`, its keypoint skeleton (`qmdb.gallery.shapes.skeleton`; None
    without keypoints), its image-level `label_classes` and top `predicted_classes`, and the dataset's `task`. Rows with no id
    column get no card: the result is `[]`."""
    present = id_columns(columns)
    if not present or not rows:
        return []
    ids = {name: [None] * len(rows) for name in ID_COLUMNS}
    for name in present:
        index = list(columns).index(name)
        ids[name] = [row[index] for row in rows]
    cursor = con.cursor()
    try:
        table = cursor.sql(_SQL, params={
            "image_ids": ids["image_id"], "label_ids": ids["label_id"], "prediction_ids": ids["prediction_id"],
            "min_score": float(min_score), "model": model,
        }).to_arrow_table()
    finally:
        cursor.close()
    return add_shapes(table.to_pylist())
