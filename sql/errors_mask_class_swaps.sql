-- description: Probably wrong classes on masks: labels whose mask a confident prediction of another class matches (mask IoU at least match_iou), while no prediction of the label's class matches it as well; most likely faults first (fault_score: the other class's score × (1 − the label class's best score there)).
-- param: model_name VARCHAR = NULL -- model whose predicted masks to read; NULL reads each model on its own
-- param: min_score DOUBLE = 0.5 -- the other-class prediction must be at least this confident
-- param: match_iou DOUBLE = 0.5 -- a predicted mask matches a label's from this mask IoU up
-- param: hide_reviewed BOOLEAN = true -- hide labels with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: qmdb
WITH candidates AS (   -- boxes overlapping: only these pairs decode their masks
    SELECT p.model, l.label_id, l.class AS label_class, p.prediction_id, p.class AS predicted_class, p.score,
           p.mask AS p_mask, l.mask AS l_mask
    FROM labels l
    JOIN predictions p ON p.image_id = l.image_id AND p.mask IS NOT NULL
    WHERE l.mask IS NOT NULL AND (model_name IS NULL OR p.model = model_name)
      AND p.x < l.x + l.w AND l.x < p.x + p.w AND p.y < l.y + l.h AND l.y < p.y + p.h
),
matching AS (
    SELECT * EXCLUDE (p_mask, l_mask), mask_iou(l_mask, p_mask) AS iou FROM candidates
),
best AS (
    SELECT model, label_id,
           arg_max(predicted_class, score) FILTER (WHERE predicted_class <> label_class) AS suggested_class,
           max(score) FILTER (WHERE predicted_class <> label_class) AS other_score,
           arg_max(prediction_id, score) FILTER (WHERE predicted_class <> label_class) AS prediction_id,
           arg_max(iou, score) FILTER (WHERE predicted_class <> label_class) AS iou,
           coalesce(max(score) FILTER (WHERE predicted_class = label_class), 0) AS same_score
    FROM matching
    WHERE iou >= match_iou
    GROUP BY model, label_id
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
    printf('labelled %s but the model sees %s in this mask (p=%.2f, mask IoU %.2f)', l.class, b.suggested_class, b.other_score, b.iou) AS reason,
    b.same_score,
    b.other_score * (1 - b.same_score) AS fault_score
FROM best b
JOIN labels l ON l.label_id = b.label_id
JOIN images i ON i.image_id = l.image_id
WHERE b.other_score >= min_score AND b.other_score > b.same_score
  AND NOT (hide_reviewed AND EXISTS (
      SELECT 1 FROM select_reviewed r WHERE r.item_type = 'label' AND r.item_id = l.label_id))
ORDER BY b.model, fault_score DESC, score DESC, l.label_id
