-- description: Probably wrong classes on boxes: labels whose best-overlapping confident prediction (IoU at least iou_threshold) is of another class, while no prediction of the label's class overlaps it as well; most likely faults first (fault_score: the other class's calibrated score × (1 − the label class's best score there), so a place where the model also sees the label's class ranks below one where it sees only the other).
-- param: model_name VARCHAR = NULL -- detector whose predictions to read; NULL reads each model on its own
-- param: min_score DOUBLE = 0.5 -- the other-class prediction must be at least this confident
-- param: iou_threshold DOUBLE = 0.5 -- a prediction overlaps a label from this IoU up
-- param: hide_reviewed BOOLEAN = true -- hide labels with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: tables
WITH pairs AS (    -- the overlapping boxes: cheaper than testing inter > 0
    SELECT model, label_id, label_class, prediction_id, predicted_class, score, inter, area_sum
    FROM box_pairs
    WHERE model_name IS NULL OR model = model_name
),
overlapping AS (
    SELECT *, inter / (area_sum - inter) AS iou FROM pairs
),
best AS (
    SELECT model, label_id,
           arg_max(predicted_class, score) FILTER (WHERE predicted_class <> label_class) AS suggested_class,
           max(score) FILTER (WHERE predicted_class <> label_class) AS other_score,
           arg_max(prediction_id, score) FILTER (WHERE predicted_class <> label_class) AS prediction_id,
           arg_max(iou, score) FILTER (WHERE predicted_class <> label_class) AS iou,
           coalesce(max(score) FILTER (WHERE predicted_class = label_class), 0) AS same_score
    FROM overlapping
    WHERE iou >= iou_threshold
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
