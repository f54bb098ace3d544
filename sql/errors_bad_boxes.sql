-- description: Badly placed boxes: labels whose best same-class confident prediction overlaps them, but below good_iou (between min_iou and good_iou), worst overlap first, with the predicted box as the suggested fix.
-- param: model_name VARCHAR = NULL -- detector whose predictions to read; NULL reads each model on its own
-- param: min_score DOUBLE = 0.5 -- the same-class prediction must be at least this confident
-- param: good_iou DOUBLE = 0.75 -- a box whose best same-class prediction reaches this IoU is well placed
-- param: min_iou DOUBLE = 0.2 -- below this overlap the prediction is about another object, not this box
-- param: hide_reviewed BOOLEAN = true -- hide labels with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: tables
WITH pairs AS (
    SELECT p.model, l.label_id, p.prediction_id, p.score, p.x, p.y, p.w, p.h,
           greatest(0, least(p.x + p.w, l.x + l.w) - greatest(p.x, l.x))
           * greatest(0, least(p.y + p.h, l.y + l.h) - greatest(p.y, l.y)) AS inter,
           p.w * p.h + l.w * l.h AS area_sum
    FROM labels l
    JOIN predictions p ON p.image_id = l.image_id AND p.class = l.class AND p.w IS NOT NULL
    WHERE l.w IS NOT NULL AND p.score >= min_score AND (model_name IS NULL OR p.model = model_name)
),
best AS (
    SELECT model, label_id,
           max(inter / (area_sum - inter)) AS iou,
           arg_max(prediction_id, inter / (area_sum - inter)) AS prediction_id,
           arg_max([x, y, w, h], inter / (area_sum - inter)) AS suggested_box,
           arg_max(score, inter / (area_sum - inter)) AS prediction_score
    FROM pairs
    WHERE inter > 0
    GROUP BY model, label_id
)
SELECT
    b.model,
    l.label_id,
    l.image_id,
    i.dataset,
    i.path,
    l.class,
    l.x, l.y, l.w, l.h,
    b.suggested_box,
    b.iou,
    1 - b.iou AS score,
    b.prediction_id,
    b.prediction_score,
    l.annotator,
    printf('the best %s prediction (p=%.2f) overlaps this box at IoU %.2f only', l.class, b.prediction_score, b.iou) AS reason
FROM best b
JOIN labels l ON l.label_id = b.label_id
JOIN images i ON i.image_id = l.image_id
WHERE b.iou >= min_iou AND b.iou < good_iou
  AND NOT (hide_reviewed AND EXISTS (
      SELECT 1 FROM select_reviewed r WHERE r.item_type = 'label' AND r.item_id = l.label_id))
ORDER BY b.model, b.iou, l.label_id
