-- description: What sets each image cluster apart: per embedding model, cluster and image metric, the mean of the metric over the cluster's images, over all clustered images, and the difference in standard deviations (z), largest absolute difference first.
-- param: embedding_model VARCHAR = NULL -- embedding model whose clusters to read; NULL reads each model
-- needs: tables
WITH metric_values AS (
    UNPIVOT (SELECT image_id, TRY_CAST(COLUMNS(lambda c: c NOT IN ('image_id', 'versions', 'phash')) AS DOUBLE) FROM image_metrics)
    ON COLUMNS(* EXCLUDE image_id) INTO NAME metric VALUE value
),
joined AS (
    SELECT c.model, c.cluster, v.metric, v.value
    FROM clusters c JOIN metric_values v ON v.image_id = c.item_id
    WHERE c.item_type = 'image' AND (embedding_model IS NULL OR c.model = embedding_model)
      AND isfinite(v.value)
),
overall AS (
    SELECT model, metric, avg(value) AS overall_mean, stddev_pop(value) AS overall_std FROM joined GROUP BY ALL
)
SELECT j.model, j.cluster, j.metric, count(*) AS images, avg(j.value) AS mean, any_value(o.overall_mean) AS overall_mean,
       (avg(j.value) - any_value(o.overall_mean)) / nullif(any_value(o.overall_std), 0) AS z
FROM joined j JOIN overall o USING (model, metric)
GROUP BY j.model, j.cluster, j.metric
ORDER BY j.model, abs(z) DESC NULLS LAST, j.cluster, j.metric
