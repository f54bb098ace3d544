-- description: A sample stratified by an image metric: the metric's range cut into n_bins equal-width bins, up to n_per_bin images from each (random but repeatable, by sample_seed), so rare dark or blurry images are as present as common ones.
-- param: metric_name VARCHAR = 'brightness' -- a column of image_metrics
-- param: n_bins INTEGER = 10 -- how many equal-width bins the metric's range is cut into
-- param: n_per_bin INTEGER = 20 -- images per bin
-- param: sample_seed INTEGER = 0 -- change it for another sample
-- needs: tables
WITH chosen AS (       -- the one column of image_metrics named metric_name, as a number
    SELECT image_id, value
    FROM (SELECT image_id, CAST(COLUMNS(lambda c: c = metric_name) AS DOUBLE) AS value FROM image_metrics)
    WHERE value IS NOT NULL AND NOT isnan(value)
),
binned AS (
    SELECT image_id, value,
           least(CAST(floor((value - min(value) OVER ()) / nullif(max(value) OVER () - min(value) OVER (), 0) * n_bins) AS INTEGER),
                 n_bins - 1) AS bin
    FROM chosen
)
SELECT coalesce(b.bin, 0) AS bin, b.image_id, i.dataset, i.path, b.value
FROM binned b
JOIN images i ON i.image_id = b.image_id
QUALIFY row_number() OVER (PARTITION BY b.bin ORDER BY hash(b.image_id, sample_seed), b.image_id) <= n_per_bin
ORDER BY bin, b.value, b.image_id
