-- description: Badly drawn masks: labels whose best same-class confident prediction overlaps their box, but whose mask IoU with the label's mask is below good_iou (between min_iou and good_iou), and is not the mask of another label; most likely faults first (fault_score: the prediction's confidence × (1 − mask IoU)), with the predicted mask as the suggested fix.
-- param: model_name VARCHAR = NULL -- model whose predicted masks to read; NULL reads each model on its own
-- param: min_score DOUBLE = 0.5 -- the same-class prediction must be at least this confident
-- param: good_iou DOUBLE = 0.5 -- a mask whose best same-class prediction reaches this mask IoU is well drawn (COCO segm's match)
-- param: min_iou DOUBLE = 0.1 -- below this mask IoU the prediction is about another object (errors_missing_masks' max_iou)
-- param: other_label_iou DOUBLE = 0.5 -- a prediction whose mask matches another label's this much is that label's detection, not this one's fix
-- param: hide_reviewed BOOLEAN = true -- hide labels with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: qmdb
WITH candidates AS (   -- same class, confident, boxes overlapping: only these pairs decode their masks
    SELECT p.model, l.label_id, l.image_id, p.prediction_id, p.score, p.mask AS p_mask, l.mask AS l_mask,
           [p.x, p.y, p.w, p.h] AS p_box
    FROM labels l
    JOIN predictions p ON p.image_id = l.image_id AND p.class = l.class AND p.mask IS NOT NULL
    WHERE l.mask IS NOT NULL AND p.score >= min_score AND (model_name IS NULL OR p.model = model_name)
      AND p.x < l.x + l.w AND l.x < p.x + p.w AND p.y < l.y + l.h AND l.y < p.y + p.h
),
pairs AS (
    SELECT *, mask_iou(l_mask, p_mask) AS iou FROM candidates
),
claimed AS (           -- predictions that are the mask of some other label of their image
    SELECT DISTINCT q.label_id, q.prediction_id
    FROM pairs q
    JOIN labels o ON o.image_id = q.image_id AND o.label_id <> q.label_id AND o.mask IS NOT NULL
    WHERE q.p_box[1] < o.x + o.w AND o.x < q.p_box[1] + q.p_box[3]
      AND q.p_box[2] < o.y + o.h AND o.y < q.p_box[2] + q.p_box[4]
      AND mask_iou(o.mask, q.p_mask) >= other_label_iou
),
best AS (
    SELECT model, label_id,
           max(iou) AS iou,
           arg_max(prediction_id, iou) AS prediction_id,
           arg_max(p_mask, iou) AS suggested_mask,
           arg_max(p_box, iou) AS suggested_box,
           arg_max(score, iou) AS prediction_score
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
    b.suggested_mask,
    b.suggested_box,
    b.iou,
    1 - b.iou AS score,
    b.prediction_score * (1 - b.iou) AS fault_score,
    b.prediction_id,
    b.prediction_score,
    l.annotator,
    printf('the best %s prediction (p=%.2f) matches this mask at mask IoU %.2f only', l.class, b.prediction_score, b.iou) AS reason
FROM best b
JOIN labels l ON l.label_id = b.label_id
JOIN images i ON i.image_id = l.image_id
WHERE b.iou >= min_iou AND b.iou < good_iou
  AND NOT (hide_reviewed AND EXISTS (
      SELECT 1 FROM select_reviewed r WHERE r.item_type = 'label' AND r.item_id = l.label_id))
ORDER BY b.model, fault_score DESC, l.label_id
