-- description: Which data property matters most to a model: for every image, label and prediction metric and every categorical column (image metadata such as camera or site, a label's annotator or class, an image's tags as 'tags'), its mutual information (bits, over quantile bins or categories) with success — TP vs FN for labels (target 'recall'), TP vs FP for predictions on image-level and prediction-level columns (target 'precision'; a prediction-level column such as pred_box_area, or a column of predictions such as its predicted class, is read from the prediction itself, and gives no recall row: a missed label has no prediction to read it from) — the Pearson correlation (numeric columns), and the success rate in the lowest and highest bin (for a categorical column: its worst and best category), ranked by mutual information per model and target. A name found at two levels is two rows (scope tells them apart). Non-ordinal columns (ids and *_id columns, paths, hashes such as phash, categorical columns of more than 50 values) are never ranked.
-- param: model_name VARCHAR = NULL -- one model; NULL reads every evaluated model
-- param: iou_threshold DOUBLE = 0.5 -- one of COCO's 0.50, 0.55, ..., 0.95 (ignored for classifiers)
-- param: min_score DOUBLE = 0.0 -- predictions scoring below it are not counted
-- param: bins INTEGER = 10 -- quantile bins for the mutual information (numeric columns)
-- param: iou_type_name VARCHAR = 'bbox' -- which evaluation: 'bbox' (boxes, classifiers), 'segm' (masks) or 'keypoints'
-- param: level VARCHAR = NULL -- rank only the columns of one level: 'image', 'label' or 'prediction'; NULL ranks them all
-- needs: tables
WITH image_values AS (
    -- hashes are not ordinal: a nearby value means nothing
    UNPIVOT (SELECT image_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('image_id', 'versions') AND c NOT ILIKE '%hash%'
                                                 AND c NOT ILIKE '%\_id' ESCAPE '\') AS DOUBLE)
             FROM image_metrics)
    ON COLUMNS(* EXCLUDE image_id) INTO NAME metric VALUE value
),
label_values AS (
    UNPIVOT (SELECT label_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('label_id', 'versions') AND c NOT ILIKE '%hash%'
                                                 AND c NOT ILIKE '%\_id' ESCAPE '\') AS DOUBLE)
             FROM label_metrics)
    ON COLUMNS(* EXCLUDE label_id) INTO NAME metric VALUE value
),
prediction_values AS (
    UNPIVOT (SELECT prediction_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('prediction_id', 'model', 'computed_at')
                                                      AND c NOT ILIKE '%hash%' AND c NOT ILIKE '%\_id' ESCAPE '\') AS DOUBLE)
             FROM prediction_metrics)
    ON COLUMNS(* EXCLUDE prediction_id) INTO NAME metric VALUE value
),
image_meta AS (
    SELECT * FROM (
        UNPIVOT (SELECT image_id, CAST(COLUMNS(lambda c: c NOT IN ('image_id', 'path', 'sha256', 'source_id')
                                                 AND c NOT ILIKE '%hash%' AND c NOT ILIKE '%\_id' ESCAPE '\') AS VARCHAR)
                 FROM images)
        ON COLUMNS(* EXCLUDE image_id) INTO NAME metric VALUE category
    ) WHERE metric NOT IN (SELECT DISTINCT metric FROM image_values)
    UNION ALL
    SELECT i.image_id, 'tags', coalesce(string_agg(DISTINCT t.tag, ', ' ORDER BY t.tag), '(none)')
    FROM images i LEFT JOIN tags t ON t.item_type = 'image' AND t.item_id = i.image_id GROUP BY i.image_id
),
label_meta AS (
    SELECT * FROM (
        UNPIVOT (SELECT label_id, CAST(COLUMNS(lambda c: c NOT IN ('label_id', 'image_id', 'source_id', 'x', 'y', 'w', 'h',
                                                                   'polygon', 'area')
                                                 AND c NOT ILIKE '%hash%' AND c NOT ILIKE '%\_id' ESCAPE '\') AS VARCHAR)
                 FROM labels)
        ON COLUMNS(* EXCLUDE label_id) INTO NAME metric VALUE category
    ) WHERE metric NOT IN (SELECT DISTINCT metric FROM label_values)
),
prediction_meta AS (  -- a prediction's own columns as text (its predicted class)
    UNPIVOT (SELECT prediction_id, CAST(COLUMNS(lambda c: c NOT IN ('prediction_id', 'model', 'image_id', 'score', 'source_id',
                                                                    'x', 'y', 'w', 'h', 'area', 'polygon', 'mask', 'probs',
                                                                    'keypoints')
                                             AND c NOT ILIKE '%hash%' AND c NOT ILIKE '%\_id' ESCAPE '\') AS VARCHAR)
             FROM predictions)
    ON COLUMNS(* EXCLUDE prediction_id) INTO NAME metric VALUE category
),
-- categorical columns of at most 50 values (more is an id or free text, not a slice to rank)
image_categories AS (
    SELECT * FROM image_meta WHERE metric IN (SELECT metric FROM image_meta GROUP BY metric HAVING count(DISTINCT category) <= 50)
),
label_categories AS (
    SELECT * FROM label_meta WHERE metric IN (SELECT metric FROM label_meta GROUP BY metric HAVING count(DISTINCT category) <= 50)
),
prediction_categories AS (
    SELECT * FROM prediction_meta
    WHERE metric IN (SELECT metric FROM prediction_meta GROUP BY metric HAVING count(DISTINCT category) <= 50)
),
m AS (
    SELECT model, item_type, image_id, label_id, prediction_id,
           CASE WHEN item_type = 'label' THEN coalesce(outcome = 'TP' AND score >= min_score, false)
                ELSE outcome = 'TP' END AS success
    FROM matches
    WHERE (model_name IS NULL OR model = model_name)
      AND (threshold IS NULL OR abs(threshold - iou_threshold) < 1e-9)
      AND NOT ignored
      AND iou_type = iou_type_name
      AND (item_type = 'label' OR score >= min_score)
),
obs AS (
    SELECT m.model, 'recall' AS target, 'image' AS scope, v.metric, v.value, m.success
    FROM m JOIN image_values v ON v.image_id = m.image_id WHERE m.item_type = 'label'
    UNION ALL
    SELECT m.model, 'recall', 'label', v.metric, v.value, m.success
    FROM m JOIN label_values v ON v.label_id = m.label_id WHERE m.item_type = 'label'
    UNION ALL
    SELECT m.model, 'precision', 'image', v.metric, v.value, m.success
    FROM m JOIN image_values v ON v.image_id = m.image_id WHERE m.item_type = 'prediction'
    UNION ALL
    SELECT m.model, 'precision', 'prediction', v.metric, v.value, m.success
    FROM m JOIN prediction_values v ON v.prediction_id = m.prediction_id WHERE m.item_type = 'prediction'
),
categorical_obs AS (
    SELECT m.model, 'recall' AS target, 'image' AS scope, v.metric, v.category, m.success
    FROM m JOIN image_categories v ON v.image_id = m.image_id WHERE m.item_type = 'label'
    UNION ALL
    SELECT m.model, 'recall', 'label', v.metric, v.category, m.success
    FROM m JOIN label_categories v ON v.label_id = m.label_id WHERE m.item_type = 'label'
    UNION ALL
    SELECT m.model, 'precision', 'image', v.metric, v.category, m.success
    FROM m JOIN image_categories v ON v.image_id = m.image_id WHERE m.item_type = 'prediction'
    UNION ALL
    SELECT m.model, 'precision', 'prediction', v.metric, v.category, m.success
    FROM m JOIN prediction_categories v ON v.prediction_id = m.prediction_id WHERE m.item_type = 'prediction'
),
wanted AS (  -- the level asked for, checked
    SELECT CASE WHEN level IS NULL OR level IN ('image', 'label', 'prediction') THEN level
                ELSE error('eval_metric_importance: level must be ''image'', ''label'' or ''prediction'', not '''
                           || level || '''') END AS level
),
binned AS (
    SELECT model, target, scope, metric, value, success, 'numeric' AS kind,
           least(bins - 1, floor(percent_rank() OVER (PARTITION BY model, target, scope, metric ORDER BY value) * bins)) AS bin
    FROM obs, wanted WHERE value IS NOT NULL AND isfinite(value) AND (level IS NULL OR scope = wanted.level)
    UNION ALL
    SELECT model, target, scope, metric, NULL, success, 'categorical',
           dense_rank() OVER (PARTITION BY model, target, scope, metric ORDER BY category) - 1
    FROM categorical_obs, wanted WHERE level IS NULL OR scope = wanted.level
),
cells AS (
    SELECT model, target, scope, metric, bin, success, count(*) AS n FROM binned GROUP BY ALL
),
joint AS (
    SELECT *,
           sum(n) OVER (PARTITION BY model, target, scope, metric) AS total,
           sum(n) OVER (PARTITION BY model, target, scope, metric, bin) AS n_bin,
           sum(n) OVER (PARTITION BY model, target, scope, metric, success) AS n_success
    FROM cells
),
information AS (
    SELECT model, target, scope, metric,
           sum(n / total * log2(n * total / (n_bin * n_success))) AS mutual_information,
           count(DISTINCT bin) AS bins_used
    FROM joint GROUP BY model, target, scope, metric
),
bin_rates AS (
    SELECT model, target, scope, metric, kind, bin, avg(CAST(success AS DOUBLE)) AS rate FROM binned GROUP BY ALL
),
ends AS (
    -- numeric: the lowest and the highest bin; categorical: the worst and the best category
    SELECT model, target, scope, metric, any_value(kind) AS kind,
           CASE WHEN any_value(kind) = 'numeric' THEN arg_min(rate, bin) ELSE min(rate) END AS rate_lowest_bin,
           CASE WHEN any_value(kind) = 'numeric' THEN arg_max(rate, bin) ELSE max(rate) END AS rate_highest_bin
    FROM bin_rates GROUP BY model, target, scope, metric
),
correlation AS (
    SELECT model, target, scope, metric, count(*) AS n, corr(value, CAST(success AS DOUBLE)) AS correlation,
           avg(CAST(success AS DOUBLE)) AS success_rate
    FROM binned GROUP BY model, target, scope, metric
)
SELECT
    i.model,
    i.target,
    i.scope,
    i.metric,
    c.n,
    c.success_rate,
    c.correlation,
    i.mutual_information,
    e.rate_lowest_bin,
    e.rate_highest_bin,
    rank() OVER (PARTITION BY i.model, i.target ORDER BY round(i.mutual_information, 12) DESC) AS rank,  -- parallel sums differ in the last bits
    e.kind
FROM information i
JOIN correlation c USING (model, target, scope, metric)
JOIN ends e USING (model, target, scope, metric)
WHERE i.bins_used > 1
ORDER BY i.model, i.target, rank
