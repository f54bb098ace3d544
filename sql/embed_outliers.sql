-- description: Class outliers: labelled items far from everything in their class — the cosine distance of each label's vector (the image's for an image-level label, the box crop's otherwise) to its class centroid, as a z-score within the class, per model; rows with z_score >= min_z, farthest first.
-- param: embedding_model VARCHAR = NULL -- embedding model whose vectors to read; NULL reads each model
-- param: min_z DOUBLE = 2.0 -- smallest z-score (standard deviations above the class's mean distance) to report
-- needs: tables
WITH items AS (
    SELECT l.label_id, l.image_id, l.class, i.dataset,
           CASE WHEN l.w IS NULL THEN 'image' ELSE 'label' END AS item_type,
           CASE WHEN l.w IS NULL THEN l.image_id ELSE l.label_id END AS item_id
    FROM labels l JOIN images i USING (image_id)
),
vectors AS (
    SELECT it.*, e.model, e.vector
    FROM items it JOIN embeddings e ON e.item_type = it.item_type AND e.item_id = it.item_id
    WHERE embedding_model IS NULL OR e.model = embedding_model
),
elements AS (
    SELECT model, dataset, item_type, class, generate_subscripts(vector, 1) AS position, unnest(vector) AS value
    FROM vectors
),
centroids AS (
    SELECT model, dataset, item_type, class, list(mean_value ORDER BY position) AS centroid
    FROM (SELECT model, dataset, item_type, class, position, avg(value) AS mean_value FROM elements GROUP BY ALL)
    GROUP BY ALL
),
scored AS (
    SELECT v.label_id, v.image_id, v.dataset, v.class, v.item_type, v.model,
           list_cosine_distance(v.vector, c.centroid) AS class_distance
    FROM vectors v JOIN centroids c USING (model, dataset, item_type, class)
),
zs AS (
    SELECT *, (class_distance - avg(class_distance) OVER w) / nullif(stddev_pop(class_distance) OVER w, 0) AS z_score,
           count(*) OVER w AS class_items
    FROM scored
    WINDOW w AS (PARTITION BY model, dataset, item_type, class)
)
SELECT label_id, image_id, dataset, class, item_type, model, class_distance, z_score, class_items
FROM zs
WHERE z_score >= min_z
ORDER BY z_score DESC
