-- description: Probably missing labels: confident box predictions that overlap no label of their image (IoU below max_iou with every label, any class), most confident first.
-- param: model_name VARCHAR = NULL -- detector whose predictions to read; NULL reads each model on its own
-- param: min_score DOUBLE = 0.5 -- a prediction counts from this confidence up
-- param: max_iou DOUBLE = 0.1 -- a prediction overlapping a label at this IoU or more is not a missing label
-- param: hide_reviewed BOOLEAN = true -- hide predictions with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: tables
WITH label_overlap AS (
    SELECT prediction_id, max(inter / (area_sum - inter)) AS best_iou
    FROM box_pairs    -- the overlapping label boxes (a disjoint label's IoU is 0)
    WHERE score >= min_score AND (model_name IS NULL OR model = model_name)
    GROUP BY prediction_id
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
    coalesce(o.best_iou, 0) AS best_iou,
    printf('%s predicted at p=%.2f where no label overlaps (best IoU %.2f)', p.class, p.score, coalesce(o.best_iou, 0)) AS reason
FROM predictions p
JOIN images i ON i.image_id = p.image_id
LEFT JOIN label_overlap o ON o.prediction_id = p.prediction_id
WHERE p.w IS NOT NULL AND p.score >= min_score AND (model_name IS NULL OR p.model = model_name)
  AND coalesce(o.best_iou, 0) < max_iou
  AND NOT (hide_reviewed AND EXISTS (
      SELECT 1 FROM select_reviewed r WHERE r.item_type = 'prediction' AND r.item_id = p.prediction_id))
ORDER BY p.model, p.score DESC, p.prediction_id
