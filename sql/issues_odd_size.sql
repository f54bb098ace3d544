-- description: CleanVision's odd-size issue, one row per image of known size: the size √(width·height) against its dataset's fences Q1 − iqr_factor·IQR and Q3 + iqr_factor·IQR; score = 1 − |size − the fences' midpoint| / their gap, clipped to 0..1 (lower is worse); an issue below 0.5 (outside the fences), or below 1 when every size in the dataset is the same.
-- param: iqr_factor DOUBLE = 3.0 -- CleanVision's default: how many IQRs beyond the quartiles a size is odd
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH sized AS (
    SELECT image_id, dataset, width, height, sqrt(width::DOUBLE * height) AS size
    FROM images
    WHERE width > 0 AND height > 0 AND (dataset_name IS NULL OR dataset = dataset_name)
),
fences AS (
    SELECT dataset, q1 - iqr_factor * (q3 - q1) AS low, q3 + iqr_factor * (q3 - q1) AS high
    FROM (SELECT dataset, quantile_cont(size, 0.25) AS q1, quantile_cont(size, 0.75) AS q3 FROM sized GROUP BY dataset)
),
scored AS (
    SELECT s.*, f.low, f.high, high - low AS gap,
           1.0 - least(1.0, abs(size - (low + high) / 2) / CASE WHEN high > low THEN high - low ELSE (low + high) / 2 END) AS score
    FROM sized s JOIN fences f USING (dataset)
)
SELECT 'image' AS item_type, image_id AS item_id, dataset, 'odd_size' AS issue_type, score,
       score < CASE WHEN gap > 0 THEN 0.5 ELSE 1.0 END AS is_issue,
       printf('%d x %d px (√area %.0f; usual %.0f..%.0f)', width, height, size, greatest(low, 0), high) AS reason
FROM scored
ORDER BY score, item_id
