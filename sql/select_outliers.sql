-- description: What to drop or inspect, outliers: images far from their nearest neighbours in embedding space (mean distance to the k nearest, as a z-score within the model), most isolated first.
-- param: embedding_model VARCHAR = NULL -- embedding model whose neighbors to read; NULL reads each model on its own
-- param: k_neighbors INTEGER = 5 -- how many nearest neighbours the isolation is averaged over
-- param: min_zscore DOUBLE = 2.0 -- keep images whose isolation is at least this many standard deviations above the mean
-- needs: tables
WITH isolation AS (
    SELECT model, item_id AS image_id, avg(distance) AS mean_distance
    FROM neighbors
    WHERE item_type = 'image' AND rank <= k_neighbors AND (embedding_model IS NULL OR model = embedding_model)
    GROUP BY model, item_id
),
scored AS (
    SELECT *, (mean_distance - avg(mean_distance) OVER w) / nullif(stddev_pop(mean_distance) OVER w, 0) AS zscore
    FROM isolation
    WINDOW w AS (PARTITION BY model)
)
SELECT s.model, s.image_id, i.dataset, i.path, s.mean_distance, s.zscore
FROM scored s
JOIN images i ON i.image_id = s.image_id
WHERE s.zscore >= min_zscore
ORDER BY s.model, s.zscore DESC, s.image_id
