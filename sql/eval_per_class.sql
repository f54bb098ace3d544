-- description: Per model and class at one IoU threshold: labels, TP/FP/FN counting predictions scoring at least min_score, precision and recall with Wilson 95% intervals, F1, and COCO's AP at that threshold (score-free, maxDets 100).
-- param: model_name VARCHAR = NULL -- one model; NULL reads every evaluated model
-- param: iou_threshold DOUBLE = 0.5 -- one of COCO's 0.50, 0.55, ..., 0.95 (ignored for classifiers)
-- param: min_score DOUBLE = 0.0 -- predictions scoring below it are not counted
-- param: iou_type_name VARCHAR = 'bbox' -- which evaluation: 'bbox' (boxes, classifiers), 'segm' (masks) or 'keypoints'
-- needs: tables
WITH m AS (
    SELECT * FROM matches
    WHERE (model_name IS NULL OR model = model_name)
      AND (threshold IS NULL OR abs(threshold - iou_threshold) < 1e-9)
      AND NOT ignored
      AND iou_type = iou_type_name
),
counts AS (
    SELECT
        model,
        class,
        count(*) FILTER (WHERE item_type = 'label') AS labels,
        count(*) FILTER (WHERE item_type = 'prediction' AND outcome = 'TP' AND score >= min_score) AS tp,
        count(*) FILTER (WHERE item_type = 'prediction' AND outcome = 'FP' AND score >= min_score) AS fp,
        count(*) FILTER (WHERE item_type = 'label' AND NOT coalesce(outcome = 'TP' AND score >= min_score, false)) AS fn
    FROM m
    GROUP BY model, class
)
SELECT
    c.model,
    c.class,
    c.labels,
    c.tp,
    c.fp,
    c.fn,
    c.tp / nullif(c.tp + c.fp, 0) AS precision,
    wilson_low(c.tp, c.tp + c.fp) AS precision_low,
    wilson_high(c.tp, c.tp + c.fp) AS precision_high,
    (c.labels - c.fn) / nullif(c.labels, 0) AS recall,
    wilson_low(c.labels - c.fn, c.labels) AS recall_low,
    wilson_high(c.labels - c.fn, c.labels) AS recall_high,
    2 * c.tp / nullif(2 * c.tp + c.fp + c.fn, 0) AS f1,
    a.ap
FROM counts c
LEFT JOIN eval_ap a
    ON a.model = c.model AND a.class = c.class AND abs(a.threshold - iou_threshold) < 1e-9
   AND a.area_range = 'all' AND a.iou_type = iou_type_name
   AND a.max_dets = CASE WHEN iou_type_name = 'keypoints' THEN 20 ELSE 100 END
ORDER BY c.model, c.class
