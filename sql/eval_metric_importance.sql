-- description: Which data property matters most to a model: for every image and label metric, its Pearson correlation and mutual information (bits, over quantile bins) with success — TP vs FN for labels (target 'recall'), TP vs FP for predictions on image metrics (target 'precision') — with the success rate in the metric's lowest and highest bin, ranked by mutual information per model and target.
-- param: model_name VARCHAR = NULL -- one model; NULL reads every evaluated model
-- param: iou_threshold DOUBLE = 0.5 -- one of COCO's 0.50, 0.55, ..., 0.95 (ignored for classifiers)
-- param: min_score DOUBLE = 0.0 -- predictions scoring below it are not counted
-- param: bins INTEGER = 10 -- quantile bins for the mutual information
-- needs: tables
WITH image_values AS (
    UNPIVOT (SELECT image_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('image_id', 'versions')) AS DOUBLE) FROM image_metrics)
    ON COLUMNS(* EXCLUDE image_id) INTO NAME metric VALUE value
),
label_values AS (
    UNPIVOT (SELECT label_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('label_id', 'versions')) AS DOUBLE) FROM label_metrics)
    ON COLUMNS(* EXCLUDE label_id) INTO NAME metric VALUE value
),
m AS (
    SELECT model, item_type, image_id, label_id,
           CASE WHEN item_type = 'label' THEN coalesce(outcome = 'TP' AND score >= min_score, false)
                ELSE outcome = 'TP' END AS success
    FROM matches
    WHERE (model_name IS NULL OR model = model_name)
      AND (threshold IS NULL OR abs(threshold - iou_threshold) < 1e-9)
      AND NOT ignored
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
),
binned AS (
    SELECT *, least(bins - 1, floor(percent_rank() OVER (PARTITION BY model, target, metric ORDER BY value) * bins)) AS bin
    FROM obs WHERE value IS NOT NULL AND isfinite(value)
),
cells AS (
    SELECT model, target, scope, metric, bin, success, count(*) AS n FROM binned GROUP BY ALL
),
joint AS (
    SELECT *,
           sum(n) OVER (PARTITION BY model, target, metric) AS total,
           sum(n) OVER (PARTITION BY model, target, metric, bin) AS n_bin,
           sum(n) OVER (PARTITION BY model, target, metric, success) AS n_success
    FROM cells
),
information AS (
    SELECT model, target, scope, metric,
           sum(n / total * log2(n * total / (n_bin * n_success))) AS mutual_information,
           count(DISTINCT bin) AS bins_used
    FROM joint GROUP BY model, target, scope, metric
),
ends AS (
    SELECT model, target, metric,
           avg(CAST(success AS DOUBLE)) FILTER (WHERE bin = lo) AS rate_lowest_bin,
           avg(CAST(success AS DOUBLE)) FILTER (WHERE bin = hi) AS rate_highest_bin
    FROM (SELECT *, min(bin) OVER w AS lo, max(bin) OVER w AS hi FROM binned
          WINDOW w AS (PARTITION BY model, target, metric))
    GROUP BY model, target, metric
),
correlation AS (
    SELECT model, target, metric, count(*) AS n, corr(value, CAST(success AS DOUBLE)) AS correlation,
           avg(CAST(success AS DOUBLE)) AS success_rate
    FROM binned GROUP BY model, target, metric
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
    rank() OVER (PARTITION BY i.model, i.target ORDER BY i.mutual_information DESC) AS rank
FROM information i
JOIN correlation c USING (model, target, metric)
JOIN ends e USING (model, target, metric)
WHERE i.bins_used > 1
ORDER BY i.model, i.target, rank
