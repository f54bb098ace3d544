-- description: Probably wrong classes on boxes: labels whose best-overlapping confident prediction (IoU at least iou_threshold) is of another class, while no prediction of the label's class overlaps it as well; most likely faults first (fault_score: the other class's calibrated score × (1 − the label class's best score there), so a place where the model also sees the label's class ranks below one where it sees only the other).
-- param: model_name VARCHAR = NULL -- detector whose predictions to read; NULL reads each model on its own
-- param: min_score DOUBLE = 0.5 -- the other-class prediction must be at least this confident
-- param: iou_threshold DOUBLE = 0.5 -- a prediction overlaps a label from this IoU up
-- param: hide_reviewed BOOLEAN = true -- hide labels with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: tables
WITH other AS (    -- per label, the most confident other-class prediction overlapping it from iou_threshold up
    SELECT model, label_id,
           arg_max(predicted_class, score) AS suggested_class,
           max(score) AS other_score,
           arg_max(prediction_id, score) AS prediction_id,
           arg_max(inter / (area_sum - inter), score) AS iou
    FROM box_pairs    -- a label whose best other class is below min_score is not a swap: read only those above
    WHERE score >= min_score AND predicted_class <> label_class AND (model_name IS NULL OR model = model_name)
      AND inter / (area_sum - inter) >= iou_threshold
    GROUP BY model, label_id
),
same AS (    -- the label class's best score at those labels only: their boxes against the predictions of their class
    SELECT o.model, o.label_id, max(p.score) AS same_score
    FROM other o
    JOIN labels l ON l.label_id = o.label_id
    JOIN predictions p ON p.image_id = l.image_id AND p.class = l.class AND p.model = o.model
    WHERE p.x < l.x + l.w AND l.x < p.x + p.w AND p.y < l.y + l.h AND l.y < p.y + p.h    -- box_pairs' test and IoU
      AND (least(p.x + p.w, l.x + l.w) - greatest(p.x, l.x)) * (least(p.y + p.h, l.y + l.h) - greatest(p.y, l.y))
          / (p.w * p.h + l.w * l.h
             - (least(p.x + p.w, l.x + l.w) - greatest(p.x, l.x)) * (least(p.y + p.h, l.y + l.h) - greatest(p.y, l.y)))
          >= iou_threshold
    GROUP BY o.model, o.label_id
),
best AS (
    SELECT o.*, coalesce(s.same_score, 0) AS same_score
    FROM other o
    LEFT JOIN same s ON s.model = o.model AND s.label_id = o.label_id
)
SELECT
    b.model,
    l.label_id,
    l.image_id,
    i.dataset,
    i.path,
    l.class,
    b.suggested_class,
    b.other_score AS score,
    b.iou,
    b.prediction_id,
    l.annotator,
    printf('labelled %s but the model sees %s here (p=%.2f, IoU %.2f)', l.class, b.suggested_class, b.other_score, b.iou) AS reason,
    b.same_score,
    b.other_score * (1 - b.same_score) AS fault_score
FROM best b
JOIN labels l ON l.label_id = b.label_id
JOIN images i ON i.image_id = l.image_id
WHERE b.other_score >= min_score AND b.other_score > b.same_score
  AND NOT (hide_reviewed AND EXISTS (
      SELECT 1 FROM select_reviewed r WHERE r.item_type = 'label' AND r.item_id = l.label_id))
ORDER BY b.model, fault_score DESC, score DESC, l.label_id
