-- description: Semantic segmentation per model and image: labelled pixels, pixel accuracy and the image's mIoU (over the classes in its label or prediction), the base of per-slice semantic evaluation (join image_metrics or images on image_id); worst first.
-- param: model_name VARCHAR = NULL -- one model; NULL reads every semantic model
-- needs: qmdb
WITH c AS (
    SELECT * FROM eval_semantic_confusion(model_name := model_name)
),
lab AS (
    SELECT model, image_id, label_class AS class, sum(pixels) AS label_pixels,
           coalesce(sum(pixels) FILTER (WHERE predicted_class = label_class), 0) AS tp
    FROM c GROUP BY ALL
),
pred AS (
    SELECT model, image_id, predicted_class AS class, sum(pixels) AS predicted_pixels
    FROM c WHERE predicted_class IS NOT NULL GROUP BY ALL
),
per_class AS (
    SELECT coalesce(lab.model, pred.model) AS model, coalesce(lab.image_id, pred.image_id) AS image_id,
           coalesce(lab.label_pixels, 0) AS label_pixels, coalesce(lab.tp, 0) AS tp,
           coalesce(lab.tp, 0) / nullif(coalesce(lab.label_pixels, 0) + coalesce(pred.predicted_pixels, 0) - coalesce(lab.tp, 0), 0) AS iou
    FROM lab FULL JOIN pred ON pred.model = lab.model AND pred.image_id = lab.image_id AND pred.class = lab.class
)
SELECT model, per_class.image_id, i.path, sum(label_pixels)::BIGINT AS label_pixels,
       sum(tp) / nullif(sum(label_pixels), 0) AS pixel_accuracy, avg(iou) AS miou, count(iou) AS classes
FROM per_class JOIN images i ON i.image_id = per_class.image_id
GROUP BY model, per_class.image_id, i.path
ORDER BY model, miou NULLS FIRST, per_class.image_id
