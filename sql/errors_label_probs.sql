-- description: The input of the confident-learning views: one row per (classifier, image-level label, class) with the label's given class and the probability the classifier's out-of-fold prediction gives that class.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL reads every classifier
-- needs: tables
SELECT model, label_id, given, e.key AS k, e.value AS p
FROM (
    SELECT p.model, l.label_id, l.class AS given, unnest(map_entries(p.probs)) AS e
    FROM labels l
    JOIN predictions p ON p.image_id = l.image_id
    WHERE l.w IS NULL AND p.probs IS NOT NULL AND (model_name IS NULL OR p.model = model_name)
)
