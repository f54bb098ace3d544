-- description: Semantic segmentation per class: label pixels, predicted pixels (inside labelled pixels), true-positive pixels, IoU = TP / (label + predicted - TP), accuracy = TP / label pixels (per-class recall), and the images holding the class (from eval_semantic_confusion).
-- param: model_name VARCHAR = NULL -- one model; NULL reads every semantic model
-- needs: qmdb
WITH c AS (
    SELECT * FROM eval_semantic_confusion(model_name := model_name)
),
lab AS (
    SELECT model, label_class AS class, sum(pixels) AS label_pixels, count(DISTINCT image_id) AS images,
           sum(pixels) FILTER (WHERE predicted_class = label_class) AS tp
    FROM c GROUP BY ALL
),
pred AS (
    SELECT model, predicted_class AS class, sum(pixels) AS predicted_pixels
    FROM c WHERE predicted_class IS NOT NULL GROUP BY ALL
),
joined AS (
    SELECT coalesce(lab.model, pred.model) AS model, coalesce(lab.class, pred.class) AS class,
           coalesce(lab.label_pixels, 0)::BIGINT AS label_pixels, coalesce(pred.predicted_pixels, 0)::BIGINT AS predicted_pixels,
           coalesce(lab.tp, 0)::BIGINT AS tp, coalesce(lab.images, 0) AS images
    FROM lab FULL JOIN pred ON pred.model = lab.model AND pred.class = lab.class
)
SELECT model, class, label_pixels, predicted_pixels, tp,
       tp / nullif(label_pixels + predicted_pixels - tp, 0) AS iou,
       tp / nullif(label_pixels, 0) AS accuracy,
       images
FROM joined
ORDER BY model, iou NULLS LAST, class
