-- description: Per-image uniqueness: the mean cosine distance to its k_neighbors nearest images (neighbors table), per model, with its percentile rank (1 = most unique), most unique first.
-- param: embedding_model VARCHAR = NULL -- embedding model whose neighbors to read; NULL reads each model
-- param: k_neighbors INTEGER = 10 -- how many nearest neighbours the distance is averaged over
-- needs: tables
WITH scored AS (
    SELECT n.model, n.item_id AS image_id, count(*) AS neighbors_used, avg(n.distance) AS uniqueness,
           min(n.distance) AS nearest_distance
    FROM neighbors n
    WHERE n.item_type = 'image' AND n.rank <= k_neighbors
      AND (embedding_model IS NULL OR n.model = embedding_model)
    GROUP BY ALL
)
SELECT s.image_id, i.dataset, i.path, s.model, s.uniqueness, s.nearest_distance, s.neighbors_used,
       percent_rank() OVER (PARTITION BY s.model, i.dataset ORDER BY s.uniqueness) AS uniqueness_percentile
FROM scored s JOIN images i USING (image_id)
ORDER BY s.model, s.uniqueness DESC
