-- description: Semantic clusters (clusters table, from qmdb cluster): per embedding model, item type and cluster its size and share of the items, how many items carry a class, the most common class and its share (purity), the number of classes, and the mean cosine distance to the centroid; largest first.
-- param: embedding_model VARCHAR = NULL -- embedding model whose clusters to read; NULL reads each model
-- needs: tables
WITH classed AS (
    SELECT c.model, c.item_type, c.item_id, c.cluster, c.method, c.distance, l.class
    FROM clusters c LEFT JOIN labels l ON l.image_id = c.item_id
    WHERE c.item_type = 'image'
    UNION ALL
    SELECT c.model, c.item_type, c.item_id, c.cluster, c.method, c.distance, l.class
    FROM clusters c LEFT JOIN labels l ON l.label_id = c.item_id
    WHERE c.item_type = 'label'
    UNION ALL
    SELECT c.model, c.item_type, c.item_id, c.cluster, c.method, c.distance, p.class
    FROM clusters c LEFT JOIN predictions p ON p.prediction_id = c.item_id
    WHERE c.item_type = 'prediction'
),
per_class AS (
    SELECT model, item_type, cluster, class, count(*) AS n
    FROM classed WHERE class IS NOT NULL GROUP BY ALL
),
top AS (
    SELECT model, item_type, cluster, arg_max(class, n) AS top_class, max(n) AS top_n, sum(n) AS labelled,
           count(*) AS classes
    FROM per_class GROUP BY ALL
),
sizes AS (
    SELECT model, item_type, cluster, any_value(method) AS method, count(DISTINCT item_id) AS size,
           avg(distance) AS mean_distance
    FROM classed
    WHERE embedding_model IS NULL OR model = embedding_model
    GROUP BY ALL
)
SELECT s.model, s.item_type, s.cluster, s.method, s.size,
       s.size / sum(s.size) OVER (PARTITION BY s.model, s.item_type) AS share,
       coalesce(t.labelled, 0)::BIGINT AS labelled, t.top_class, t.top_n / t.labelled AS purity,
       coalesce(t.classes, 0) AS classes, s.mean_distance
FROM sizes s LEFT JOIN top t USING (model, item_type, cluster)
ORDER BY s.model, s.item_type, s.size DESC, s.cluster
