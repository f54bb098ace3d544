-- description: Probably missing masks: confident predicted masks that no label mask of their image overlaps (mask IoU below max_iou with every label, any class), most confident first.
-- param: model_name VARCHAR = NULL -- model whose predicted masks to read; NULL reads each model on its own
-- param: min_score DOUBLE = 0.5 -- a prediction counts from this confidence up
-- param: max_iou DOUBLE = 0.1 -- a prediction whose mask overlaps a label's at this mask IoU or more is not a missing mask
-- param: hide_reviewed BOOLEAN = true -- hide predictions with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: qmdb
WITH candidates AS (   -- boxes overlapping: only these pairs decode their masks (disjoint boxes: IoU 0)
    SELECT p.prediction_id, p.mask AS p_mask, l.mask AS l_mask
    FROM predictions p
    JOIN labels l ON l.image_id = p.image_id AND l.mask IS NOT NULL
    WHERE p.mask IS NOT NULL AND p.score >= min_score AND (model_name IS NULL OR p.model = model_name)
      AND p.x < l.x + l.w AND l.x < p.x + p.w AND p.y < l.y + l.h AND l.y < p.y + p.h
),
label_overlap AS (
    SELECT prediction_id, max(mask_iou(l_mask, p_mask)) AS best_iou FROM candidates GROUP BY prediction_id
)
SELECT
    p.model,
    p.prediction_id,
    p.image_id,
    i.dataset,
    i.path,
    p.class,
    p.score,
    p.x, p.y, p.w, p.h,
    p.mask,
    coalesce(o.best_iou, 0) AS best_iou,
    printf('%s mask predicted at p=%.2f where no label mask overlaps (best mask IoU %.2f)', p.class, p.score, coalesce(o.best_iou, 0)) AS reason
FROM predictions p
JOIN images i ON i.image_id = p.image_id
LEFT JOIN label_overlap o ON o.prediction_id = p.prediction_id
WHERE p.mask IS NOT NULL AND p.score >= min_score AND (model_name IS NULL OR p.model = model_name)
  AND coalesce(o.best_iou, 0) < max_iou
  AND NOT (hide_reviewed AND EXISTS (
      SELECT 1 FROM select_reviewed r WHERE r.item_type = 'prediction' AND r.item_id = p.prediction_id))
ORDER BY p.model, p.score DESC, p.prediction_id
