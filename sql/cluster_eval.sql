-- description: Which cluster a model fails on: per embedding model (column embedding), evaluated model and image cluster, the labels and how many the model found (recall with a Wilson 95% interval), its predictions and precision (Wilson), and the cluster's recall minus the model's overall recall; worst recall first. Clusters are slices like any metric.
-- param: embedding_model VARCHAR = NULL -- embedding model whose image clusters to read; NULL reads each model
-- param: model_name VARCHAR = NULL -- one evaluated model; NULL reads every evaluated model
-- param: iou_threshold DOUBLE = 0.5 -- one of COCO's 0.50, 0.55, ..., 0.95 (ignored for classifiers)
-- param: min_score DOUBLE = 0.0 -- predictions scoring below it are not counted
-- param: iou_type_name VARCHAR = 'bbox' -- which evaluation: 'bbox' (boxes, classifiers), 'segm' (masks) or 'keypoints'
-- needs: tables
WITH m AS (
    SELECT c.model AS embedding, c.cluster, x.model, x.item_type, x.outcome, x.score
    FROM matches x JOIN clusters c ON c.item_type = 'image' AND c.item_id = x.image_id
    WHERE (model_name IS NULL OR x.model = model_name)
      AND (embedding_model IS NULL OR c.model = embedding_model)
      AND (x.threshold IS NULL OR abs(x.threshold - iou_threshold) < 1e-9)
      AND NOT x.ignored AND x.iou_type = iou_type_name
),
rates AS (
    SELECT embedding, model, cluster,
           count(*) FILTER (WHERE item_type = 'label') AS labels,
           count(*) FILTER (WHERE item_type = 'label' AND coalesce(outcome = 'TP' AND score >= min_score, false)) AS found,
           count(*) FILTER (WHERE item_type = 'prediction' AND outcome = 'TP' AND score >= min_score) AS tp,
           count(*) FILTER (WHERE item_type = 'prediction' AND outcome = 'FP' AND score >= min_score) AS fp
    FROM m GROUP BY ALL
)
SELECT embedding, model, cluster, labels, found,
       found / nullif(labels, 0) AS recall, wilson_low(found, labels) AS recall_low,
       wilson_high(found, labels) AS recall_high,
       tp + fp AS predictions, tp / nullif(tp + fp, 0) AS precision,
       wilson_low(tp, tp + fp) AS precision_low, wilson_high(tp, tp + fp) AS precision_high,
       found / nullif(labels, 0)
         - sum(found) OVER (PARTITION BY embedding, model) / nullif(sum(labels) OVER (PARTITION BY embedding, model), 0)
         AS recall_vs_overall
FROM rates
ORDER BY embedding, model, recall NULLS LAST, cluster
