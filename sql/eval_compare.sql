-- description: Two models on the same slices: per class and overall ('*'), labels, recall and precision of each at one IoU threshold and min_score, their differences (b - a) with Wilson 95% intervals, and COCO's AP at that threshold for each.
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
m AS (
    SELECT s.side, mt.*
    FROM matches mt
    JOIN (SELECT 'a' AS side, a AS model FROM pick UNION ALL SELECT 'b', b FROM pick) s ON s.model = mt.model
    WHERE (mt.threshold IS NULL OR abs(mt.threshold - iou_threshold) < 1e-9)
      AND NOT mt.ignored
      AND mt.iou_type = iou_type_name
),
counts AS (
    SELECT
        coalesce(class, '*') AS class,
        count(*) FILTER (WHERE side = 'a' AND item_type = 'label') AS labels,
        count(*) FILTER (WHERE side = 'a' AND item_type = 'label' AND coalesce(outcome = 'TP' AND score >= min_score, false)) AS found_a,
        count(*) FILTER (WHERE side = 'b' AND item_type = 'label' AND coalesce(outcome = 'TP' AND score >= min_score, false)) AS found_b,
        count(*) FILTER (WHERE side = 'b' AND item_type = 'label') AS labels_b,
        count(*) FILTER (WHERE side = 'a' AND item_type = 'prediction' AND score >= min_score) AS preds_a,
        count(*) FILTER (WHERE side = 'b' AND item_type = 'prediction' AND score >= min_score) AS preds_b,
        count(*) FILTER (WHERE side = 'a' AND item_type = 'prediction' AND score >= min_score AND outcome = 'TP') AS tp_a,
        count(*) FILTER (WHERE side = 'b' AND item_type = 'prediction' AND score >= min_score AND outcome = 'TP') AS tp_b
    FROM m
    GROUP BY GROUPING SETS ((class), ())
),
ap AS (
    SELECT coalesce(class, '*') AS class,
           avg(ap) FILTER (WHERE e.model = p.a) AS ap_a,
           avg(ap) FILTER (WHERE e.model = p.b) AS ap_b
    FROM eval_ap e CROSS JOIN pick p
    WHERE abs(e.threshold - iou_threshold) < 1e-9 AND e.area_range = 'all' AND e.max_dets = 100
    GROUP BY GROUPING SETS ((class), ())
)
SELECT
    (SELECT a FROM pick) AS model_a,
    (SELECT b FROM pick) AS model_b,
    c.class,
    c.labels,
    c.found_a / nullif(c.labels, 0) AS recall_a,
    wilson_low(c.found_a, c.labels) AS recall_a_low,
    wilson_high(c.found_a, c.labels) AS recall_a_high,
    c.found_b / nullif(c.labels_b, 0) AS recall_b,
    wilson_low(c.found_b, c.labels_b) AS recall_b_low,
    wilson_high(c.found_b, c.labels_b) AS recall_b_high,
    c.found_b / nullif(c.labels_b, 0) - c.found_a / nullif(c.labels, 0) AS recall_delta,
    c.tp_a / nullif(c.preds_a, 0) AS precision_a,
    c.tp_b / nullif(c.preds_b, 0) AS precision_b,
    c.tp_b / nullif(c.preds_b, 0) - c.tp_a / nullif(c.preds_a, 0) AS precision_delta,
    a.ap_a,
    a.ap_b,
    a.ap_b - a.ap_a AS ap_delta
FROM counts c
LEFT JOIN ap a USING (class)
ORDER BY c.class = '*' DESC, c.class
