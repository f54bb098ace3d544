-- description: Semantic segmentation per model: mIoU (mean of the per-class IoU of eval_semantic over classes in the labels or predictions), pixel accuracy (TP pixels over labelled pixels), mean class accuracy, frequency-weighted IoU (IoU weighted by each class's share of labelled pixels), classes, labelled pixels and images.
-- param: model_name VARCHAR = NULL -- one model; NULL reads every semantic model
-- needs: qmdb
SELECT model,
       avg(iou) AS miou,
       sum(tp) / nullif(sum(label_pixels), 0) AS pixel_accuracy,
       avg(accuracy) AS mean_accuracy,
       sum(label_pixels * iou) FILTER (WHERE label_pixels > 0) / nullif(sum(label_pixels), 0) AS fw_iou,
       count(iou) AS classes,
       sum(label_pixels)::BIGINT AS label_pixels,
       (SELECT count(DISTINCT image_id) FROM eval_semantic_confusion(model_name := model_name) c WHERE c.model = e.model) AS images
FROM eval_semantic(model_name := model_name) e
GROUP BY model
ORDER BY model
