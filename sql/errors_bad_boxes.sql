-- description: Badly placed boxes: labels whose best same-class confident prediction overlaps them, but below good_iou (between min_iou and good_iou), and is not the detection of another label; most likely faults first (fault_score: the prediction's confidence × how far it is from the box), with the predicted box as the suggested fix.
-- param: model_name VARCHAR = NULL -- detector whose predictions to read; NULL reads each model on its own
-- param: min_score DOUBLE = 0.5 -- the same-class prediction must be at least this confident
-- param: good_iou DOUBLE = 0.5 -- a box whose best same-class prediction reaches this IoU is well placed (COCO's match: a prediction at IoU 0.5 is this box's detection; on the demo's two seeds 0.75 adds only the detector's loose boxes)
-- param: min_iou DOUBLE = 0.1 -- below this overlap the prediction is about another object, not this box (errors_missing_labels' max_iou: every confident prediction is one view's or the other's)
-- param: other_label_iou DOUBLE = 0.5 -- a prediction overlapping another label this much is that label's detection, not this one's fix
-- param: hide_reviewed BOOLEAN = true -- hide labels with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: tables
WITH loose AS (    -- labels with a same-class confident prediction between min_iou and good_iou: only they can be reported
    SELECT DISTINCT model, label_id    -- (their best unclaimed prediction is one of these)
    FROM box_pairs
    WHERE predicted_class = label_class AND score >= min_score AND (model_name IS NULL OR model = model_name)
      AND inter / (area_sum - inter) >= min_iou AND inter / (area_sum - inter) < good_iou
),
pairs AS (    -- those labels' overlapping same-class boxes from min_iou up (below it a prediction is never the best)
    SELECT model, label_id, image_id, prediction_id, score, x, y, w, h, inter, area_sum
    FROM (
        SELECT p.model, l.label_id, l.image_id, p.prediction_id, p.score, p.x, p.y, p.w, p.h,
               (least(p.x + p.w, l.x + l.w) - greatest(p.x, l.x))    -- box_pairs' test and areas
               * (least(p.y + p.h, l.y + l.h) - greatest(p.y, l.y)) AS inter,
               p.w * p.h + l.w * l.h AS area_sum
        FROM loose b
        JOIN labels l ON l.label_id = b.label_id
        JOIN predictions p ON p.image_id = l.image_id AND p.class = l.class AND p.model = b.model
        WHERE p.score >= min_score
          AND p.x < l.x + l.w AND l.x < p.x + p.w AND p.y < l.y + l.h AND l.y < p.y + p.h
    )
    WHERE inter / (area_sum - inter) >= min_iou
),
claimed AS (    -- predictions that are the detection of some other label of their image
    SELECT DISTINCT q.label_id, q.prediction_id
    FROM pairs q
    JOIN labels o ON o.image_id = q.image_id AND o.label_id <> q.label_id
    WHERE o.w IS NOT NULL AND other_label_iou <= 0
       OR q.x < o.x + o.w AND o.x < q.x + q.w AND q.y < o.y + o.h AND o.y < q.y + q.h
      AND (least(q.x + q.w, o.x + o.w) - greatest(q.x, o.x)) * (least(q.y + q.h, o.y + o.h) - greatest(q.y, o.y))
          >= other_label_iou * (q.w * q.h + o.w * o.h
             - (least(q.x + q.w, o.x + o.w) - greatest(q.x, o.x)) * (least(q.y + q.h, o.y + o.h) - greatest(q.y, o.y)))
),
best AS (
    SELECT model, label_id,
           max(inter / (area_sum - inter)) AS iou,
           arg_max(prediction_id, inter / (area_sum - inter)) AS prediction_id,
           arg_max([x, y, w, h], inter / (area_sum - inter)) AS suggested_box,
           arg_max(score, inter / (area_sum - inter)) AS prediction_score
    FROM pairs
    WHERE NOT EXISTS (SELECT 1 FROM claimed c WHERE c.label_id = pairs.label_id
                                                              AND c.prediction_id = pairs.prediction_id)
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
    b.prediction_score * (1 - b.iou) AS fault_score,
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
ORDER BY b.model, fault_score DESC, l.label_id
