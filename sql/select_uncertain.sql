-- description: What to label next: images ranked by how unsure a model is about them (least confidence, margin or entropy of the class probabilities; for a detector, of its least certain box), most uncertain first.
-- param: model_name VARCHAR = NULL -- model whose predictions to read; NULL reads each model on its own
-- param: strategy VARCHAR = 'entropy' -- ranking: 'least_confidence' (1 - top p), 'margin' (1 - (top p - second p)) or 'entropy' (of p, in bits)
-- param: unlabeled_only BOOLEAN = false -- only images that have no label yet
-- param: hide_reviewed BOOLEAN = true -- hide images with a reviewed/fixed/rejected tag (select_reviewed)
-- param: limit_rows INTEGER = 1000 -- how many images to return per model
-- needs: tables
WITH classifier AS (   -- one row per classifier prediction: its sorted probabilities
    SELECT model, image_id, list_sort(map_values(probs), 'DESC') AS p
    FROM predictions
    WHERE probs IS NOT NULL AND (model_name IS NULL OR model = model_name)
),
classifier_scores AS (
    SELECT model, image_id,
           1 - p[1] AS least_confidence,
           1 - (p[1] - coalesce(p[2], 0)) AS margin,
           -list_sum(list_transform(list_filter(p, lambda v: v > 0), lambda v: v * log2(v))) AS entropy
    FROM classifier
),
detector_scores AS (   -- each box's score as a yes/no probability; an image is as unsure as its least sure box
    SELECT model, image_id,
           max(1 - greatest(score, 1 - score)) AS least_confidence,
           max(1 - abs(2 * score - 1)) AS margin,
           max(CASE WHEN score <= 0 OR score >= 1 THEN 0
                    ELSE -(score * log2(score) + (1 - score) * log2(1 - score)) END) AS entropy
    FROM predictions
    WHERE probs IS NULL AND w IS NOT NULL AND (model_name IS NULL OR model = model_name)
    GROUP BY model, image_id
),
scores AS (
    SELECT *, CASE strategy WHEN 'least_confidence' THEN least_confidence WHEN 'margin' THEN margin
                            WHEN 'entropy' THEN entropy
                            ELSE error('strategy must be least_confidence, margin or entropy, got ' || strategy) END AS score
    FROM (SELECT * FROM classifier_scores UNION ALL BY NAME SELECT * FROM detector_scores)
)
SELECT s.model, s.image_id, i.dataset, i.path, i.split, s.score, s.least_confidence, s.margin, s.entropy
FROM scores s
JOIN images i ON i.image_id = s.image_id
WHERE i.status = 'ok'
  AND NOT (unlabeled_only AND EXISTS (SELECT 1 FROM labels l WHERE l.image_id = s.image_id))
  AND NOT (hide_reviewed AND EXISTS (
      SELECT 1 FROM select_reviewed r WHERE r.item_type = 'image' AND r.item_id = s.image_id))
QUALIFY row_number() OVER (PARTITION BY s.model ORDER BY s.score DESC, s.image_id) <= limit_rows
ORDER BY s.model, s.score DESC, s.image_id
