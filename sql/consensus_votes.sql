-- description: The annotator side of multi-annotator consensus: one vote per (classifier, image, annotator): the annotator's image-level label (their latest when they gave several; annotator NULL counts as '(unknown)'), on images the classifier scored and in a class it knows, with the class index k and the image's number of annotations.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL: each classifier on its own
-- needs: tables
WITH probs AS (
    SELECT * FROM consensus_probs(model_name := model_name)
),
votes AS (
    SELECT p.model, l.image_id, coalesce(l.annotator, '(unknown)') AS annotator,
           max(l.label_id) AS label_id, arg_max(l.class, l.label_id) AS class
    FROM labels l
    JOIN (SELECT DISTINCT model, image_id FROM probs) p ON p.image_id = l.image_id
    WHERE l.w IS NULL
    GROUP BY ALL
)
SELECT v.model, v.image_id, v.annotator, v.label_id, v.class, p.k,
       count(*) OVER (PARTITION BY v.model, v.image_id) AS num_annotations
FROM votes v JOIN probs p ON p.model = v.model AND p.image_id = v.image_id AND p.class = v.class
