-- description: Top-k accuracy of a classifier from its class probabilities (predictions.probs): per model and k = 1 .. max_k, the share of labeled images whose labeled class is among the k most probable (ties in the label's favour: a hit when fewer than k classes have a strictly higher probability), with a Wilson 95% interval.
-- param: model_name VARCHAR = NULL -- one model; NULL reads every evaluated classifier
-- param: max_k INTEGER = 5 -- the largest k
-- needs: tables
WITH labeled AS (
    SELECT m.model, m.image_id, m.class AS label, p.probs
    FROM matches m
    JOIN evaluations e ON e.model = m.model AND e.task = 'classification'
    JOIN predictions p ON p.prediction_id = m.prediction_id
    WHERE (model_name IS NULL OR m.model = model_name) AND m.item_type = 'label' AND p.probs IS NOT NULL
),
ranked AS (
    SELECT model, image_id,
           len(list_filter(map_values(probs), lambda v: v > coalesce(probs[label], -1.0))) AS above
    FROM labeled
)
SELECT r.model, k.k, count(*) AS images, count(*) FILTER (WHERE r.above < k.k) AS hits,
       count(*) FILTER (WHERE r.above < k.k) / count(*) AS accuracy,
       wilson_low(count(*) FILTER (WHERE r.above < k.k), count(*)) AS accuracy_low,
       wilson_high(count(*) FILTER (WHERE r.above < k.k), count(*)) AS accuracy_high
FROM ranked r CROSS JOIN (SELECT unnest(range(1, max_k + 1)) AS k) k
GROUP BY r.model, k.k
ORDER BY r.model, k.k
