-- description: Inter-annotator agreement over image-level labels: per (classifier, annotator) the share of the other annotators of their images who gave the same class, weighted by how many others there were (cleanlab's agreement with annotators; an annotator who shares no image gets the mean of the others), and the number of shared images.
-- param: model_name VARCHAR = NULL -- classifier whose scored images to read (consensus_votes); NULL: each classifier on its own
-- needs: tables
WITH pairs AS (        -- per vote: how many other annotators of the image gave the same class
    SELECT model, annotator, num_annotations,
           count(*) OVER (PARTITION BY model, image_id, class) - 1 AS same
    FROM consensus_votes(model_name := model_name)
),
per_annotator AS (
    SELECT model, annotator, count(*) FILTER (WHERE num_annotations > 1) AS shared_images,
           CASE WHEN sum(num_annotations - 1) > 0 THEN sum(same) / sum(num_annotations - 1) END AS agreement
    FROM pairs GROUP BY ALL
)
SELECT model, annotator, coalesce(agreement, avg(agreement) OVER (PARTITION BY model)) AS agreement_with_annotators,
       shared_images
FROM per_annotator
ORDER BY model, agreement_with_annotators, annotator
