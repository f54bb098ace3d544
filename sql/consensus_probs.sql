-- description: The model side of multi-annotator consensus: one row per (classifier, image with an image-level label, class) with the class's index k (classes.class_id order of the model's dataset, then name) and the probability the classifier gives it (cleanlab's pred_probs, long).
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL: each classifier on its own
-- needs: tables
WITH long AS (
    SELECT p.model, p.image_id, unnest(map_entries(p.probs)) AS e
    FROM predictions p
    WHERE p.probs IS NOT NULL AND (model_name IS NULL OR p.model = model_name)
      AND EXISTS (SELECT 1 FROM labels l WHERE l.image_id = p.image_id AND l.w IS NULL)
),
known AS (             -- each model's classes, numbered as cleanlab numbers pred_probs columns
    SELECT k.model, k.class,
           row_number() OVER (PARTITION BY k.model ORDER BY c.class_id NULLS LAST, k.class) - 1 AS k
    FROM (SELECT DISTINCT model, e.key AS class FROM long) k
    LEFT JOIN models m USING (model)
    LEFT JOIN classes c ON c.dataset = m.dataset AND c.class = k.class
)
SELECT l.model, l.image_id, l.e.key AS class, n.k, l.e.value AS p
FROM long l JOIN known n ON n.model = l.model AND n.class = l.e.key
