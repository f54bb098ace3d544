-- description: Duplicate image pairs: exact copies (same sha256) and near-duplicates (cosine distance at most max_distance in the neighbors table), one row per pair and model, closest first.
-- param: embedding_model VARCHAR = NULL -- embedding model whose neighbors to read; NULL reads each model
-- param: max_distance DOUBLE = 0.02 -- neighbours at most this cosine distance apart are near-duplicates
-- needs: tables
WITH exact AS (
    SELECT a.image_id AS image_a, b.image_id AS image_b
    FROM images a JOIN images b ON a.sha256 = b.sha256 AND a.image_id < b.image_id
),
near AS (
    SELECT least(n.item_id, n.neighbor_id) AS image_a, greatest(n.item_id, n.neighbor_id) AS image_b,
           n.model, min(n.distance) AS distance
    FROM neighbors n
    WHERE n.item_type = 'image' AND n.distance <= max_distance
      AND (embedding_model IS NULL OR n.model = embedding_model)
    GROUP BY ALL
),
pairs AS (
    SELECT image_a, image_b, near.model, near.distance, exact.image_a IS NOT NULL AS exact_copy
    FROM near FULL OUTER JOIN exact USING (image_a, image_b)
)
SELECT p.image_a, p.image_b, ia.dataset AS dataset_a, ia.path AS path_a, ib.dataset AS dataset_b, ib.path AS path_b,
       p.model, p.distance, p.exact_copy
FROM pairs p
JOIN images ia ON ia.image_id = p.image_a
JOIN images ib ON ib.image_id = p.image_b
ORDER BY p.distance NULLS FIRST, p.image_a, p.image_b
