-- description: What to drop, near-duplicates: images within max_distance of an earlier image in embedding space (neighbors table), one row per image to drop, naming the kept_image_id to keep (the lowest id among its close neighbours); embed_duplicates lists the pairs.
-- param: embedding_model VARCHAR = NULL -- embedding model whose neighbors to read; NULL reads each model on its own
-- param: max_distance DOUBLE = 0.02 -- neighbours at most this far apart (the neighbors table's distance: cosine for the built-in embedder) are duplicates
-- needs: tables
SELECT
    n.model,
    n.item_id AS image_id,
    min(n.neighbor_id) AS kept_image_id,
    min(n.distance) AS distance,
    any_value(i.dataset) AS dataset,
    any_value(i.path) AS path
FROM neighbors n
JOIN images i ON i.image_id = n.item_id
WHERE n.item_type = 'image' AND n.neighbor_id < n.item_id AND n.distance <= max_distance
  AND (embedding_model IS NULL OR n.model = embedding_model)
GROUP BY n.model, n.item_id
ORDER BY n.model, kept_image_id, image_id
