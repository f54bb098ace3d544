-- description: Per-metric outliers by the IQR rule (Encord Active's), one row per image or label and numeric metric: the value against its dataset's quartiles; score = 1 / (1 + the distance beyond [Q1, Q3] in IQRs), lower is worse; an issue beyond iqr_factor IQRs (Encord: 1.5 moderate, 2.5 severe).
-- param: iqr_factor DOUBLE = 1.5 -- how many IQRs beyond the quartiles a value is an outlier
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH numeric_columns AS (   -- the metric columns of a numeric type, by the catalogue
    SELECT table_name, column_name AS metric FROM duckdb_columns()
    WHERE database_name = current_database() AND table_name IN ('image_metrics', 'label_metrics')
      AND column_name NOT IN ('image_id', 'label_id', 'phash')
      AND (data_type IN ('DOUBLE', 'FLOAT', 'REAL', 'INTEGER', 'BIGINT', 'SMALLINT', 'TINYINT', 'HUGEINT', 'UBIGINT',
                         'UINTEGER', 'USMALLINT', 'UTINYINT') OR starts_with(data_type, 'DECIMAL'))
),
image_values AS (
    UNPIVOT (SELECT image_id, TRY_CAST(COLUMNS(* EXCLUDE (image_id, versions, phash)) AS DOUBLE) FROM image_metrics)
    ON COLUMNS(* EXCLUDE (image_id)) INTO NAME metric VALUE value
),
label_values AS (
    UNPIVOT (SELECT label_id, TRY_CAST(COLUMNS(* EXCLUDE (label_id, versions)) AS DOUBLE) FROM label_metrics)
    ON COLUMNS(* EXCLUDE (label_id)) INTO NAME metric VALUE value
),
valued AS (
    SELECT 'image' AS item_type, v.image_id AS item_id, i.dataset, v.metric, v.value
    FROM image_values v JOIN images i USING (image_id)
    WHERE (dataset_name IS NULL OR i.dataset = dataset_name)
      AND v.metric IN (SELECT metric FROM numeric_columns WHERE table_name = 'image_metrics')
    UNION ALL
    SELECT 'label', v.label_id, i.dataset, v.metric, v.value
    FROM label_values v JOIN labels l USING (label_id) JOIN images i ON i.image_id = l.image_id
    WHERE (dataset_name IS NULL OR i.dataset = dataset_name)
      AND v.metric IN (SELECT metric FROM numeric_columns WHERE table_name = 'label_metrics')
),
numeric AS (SELECT * FROM valued WHERE isfinite(value)),
quartiles AS (
    SELECT item_type, dataset, metric, quantile_cont(value, 0.25) AS q1, quantile_cont(value, 0.75) AS q3
    FROM numeric GROUP BY ALL
),
scored AS (
    SELECT n.*, q.q1, q.q3,
           CASE WHEN n.value BETWEEN q.q1 AND q.q3 THEN 0.0
                WHEN q.q3 > q.q1 THEN greatest(q.q1 - n.value, n.value - q.q3) / (q.q3 - q.q1)
                ELSE 'infinity'::DOUBLE END AS beyond
    FROM numeric n JOIN quartiles q USING (item_type, dataset, metric)
)
SELECT item_type, item_id, dataset, 'outlier_' || metric AS issue_type, 1.0 / (1.0 + beyond) AS score,
       beyond > iqr_factor AS is_issue,
       printf('%s %.4g, %s (quartiles %.4g..%.4g)', metric, value,
              CASE WHEN beyond = 0 THEN 'inside the quartiles' WHEN isinf(beyond) THEN 'off a constant value'
                   ELSE printf('%.1f IQR %s', beyond, CASE WHEN value < q1 THEN 'below' ELSE 'above' END) END, q1, q3) AS reason
FROM scored
ORDER BY score, item_type, item_id, issue_type
