-- description: Probably missing labels: confident box predictions that overlap no label of their image (IoU below max_iou with every label, any class), most confident first.
-- param: model_name VARCHAR = NULL -- detector whose predictions to read; NULL reads each model on its own
-- param: min_score DOUBLE = 0.5 -- a prediction counts from this confidence up
-- param: max_iou DOUBLE = 0.1 -- a prediction overlapping a label at this IoU or more is not a missing label
-- param: hide_reviewed BOOLEAN = true -- hide predictions with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: tables
WITH unmatched AS (    -- confident predictions that no label overlaps at max_iou or more (one pass, no grouping)
    SELECT p.model, p.prediction_id, p.image_id, p.class, p.score, p.x, p.y, p.w, p.h
    FROM predictions p
    ANTI JOIN labels l ON l.image_id = p.image_id
        AND p.x < l.x + l.w AND l.x < p.x + p.w AND p.y < l.y + l.h AND l.y < p.y + p.h    -- box_pairs' test and IoU
        AND (least(p.x + p.w, l.x + l.w) - greatest(p.x, l.x)) * (least(p.y + p.h, l.y + l.h) - greatest(p.y, l.y))
            / (p.w * p.h + l.w * l.h
               - (least(p.x + p.w, l.x + l.w) - greatest(p.x, l.x)) * (least(p.y + p.h, l.y + l.h) - greatest(p.y, l.y)))
            >= max_iou
    WHERE p.w IS NOT NULL AND p.score >= min_score AND (model_name IS NULL OR p.model = model_name)
),
label_overlap AS (    -- their best IoU with a label (a disjoint label's IoU is 0)
    SELECT u.prediction_id,
           max((least(u.x + u.w, l.x + l.w) - greatest(u.x, l.x)) * (least(u.y + u.h, l.y + l.h) - greatest(u.y, l.y))
               / (u.w * u.h + l.w * l.h
                  - (least(u.x + u.w, l.x + l.w) - greatest(u.x, l.x)) * (least(u.y + u.h, l.y + l.h) - greatest(u.y, l.y))))
           AS best_iou
    FROM unmatched u
    JOIN labels l ON l.image_id = u.image_id
    WHERE u.x < l.x + l.w AND l.x < u.x + u.w AND u.y < l.y + l.h AND l.y < u.y + u.h
    GROUP BY u.prediction_id
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
FROM unmatched p
JOIN images i ON i.image_id = p.image_id
LEFT JOIN label_overlap o ON o.prediction_id = p.prediction_id
WHERE coalesce(o.best_iou, 0) < max_iou
  AND NOT (hide_reviewed AND EXISTS (
      SELECT 1 FROM select_reviewed r WHERE r.item_type = 'prediction' AND r.item_id = p.prediction_id))
ORDER BY p.model, p.score DESC, p.prediction_id
