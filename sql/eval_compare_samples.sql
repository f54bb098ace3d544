-- description: Per label, where one model is right and the other wrong: each model's outcome (TP/FN at one IoU threshold and min_score), score and IoU, and 'only_a', 'only_b', 'both' or 'neither' — a plain join of the two models' label rows in matches.
-- param: model_a VARCHAR = NULL -- the baseline; NULL takes the first evaluated model by name
-- param: model_b VARCHAR = NULL -- the challenger; NULL takes the second evaluated model by name
-- param: iou_threshold DOUBLE = 0.5 -- one of COCO's 0.50, 0.55, ..., 0.95 (ignored for classifiers)
-- param: min_score DOUBLE = 0.0 -- predictions scoring below it are not counted
-- param: iou_type_name VARCHAR = 'bbox' -- which evaluation: 'bbox' (boxes, classifiers), 'segm' (masks) or 'keypoints'
-- needs: tables
WITH pick AS (
    SELECT coalesce(model_a, (SELECT model FROM evaluations ORDER BY model LIMIT 1)) AS a,
           coalesce(model_b, (SELECT model FROM evaluations ORDER BY model LIMIT 1 OFFSET 1)) AS b
),
side AS (
    SELECT mt.model, mt.label_id, mt.image_id, mt.class, mt.score, mt.iou, mt.prediction_id,
           coalesce(mt.outcome = 'TP' AND mt.score >= min_score, false) AS hit
    FROM matches mt
    WHERE mt.item_type = 'label' AND NOT mt.ignored AND mt.iou_type = iou_type_name
      AND (mt.threshold IS NULL OR abs(mt.threshold - iou_threshold) < 1e-9)
)
SELECT
    p.a AS model_a,
    p.b AS model_b,
    x.label_id,
    x.image_id,
    x.class,
    CASE WHEN x.hit THEN 'TP' ELSE 'FN' END AS outcome_a,
    CASE WHEN y.hit THEN 'TP' ELSE 'FN' END AS outcome_b,
    CASE WHEN x.hit AND y.hit THEN 'both' WHEN x.hit THEN 'only_a' WHEN y.hit THEN 'only_b' ELSE 'neither' END AS agreement,
    x.prediction_id AS prediction_a,
    y.prediction_id AS prediction_b,
    x.score AS score_a,
    y.score AS score_b,
    x.iou AS iou_a,
    y.iou AS iou_b
FROM pick p
JOIN side x ON x.model = p.a
JOIN side y ON y.model = p.b AND y.label_id = x.label_id
ORDER BY x.hit = y.hit, x.image_id, x.label_id
