-- description: CROWDLAB's weights (cleanlab's get_label_quality_multiannotator, quality_method='crowdlab') for the chosen consensus: per (classifier, annotator) their agreement with the other annotators and their weight, with the classifier's weight and the likelihoods every weighted vote uses.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL: each classifier on its own
-- param: consensus_method VARCHAR = 'best_quality' -- 'best_quality' or 'majority_vote' (consensus_labels)
-- needs: tables
WITH consensus AS MATERIALIZED (
    SELECT * FROM consensus_labels(model_name := model_name, consensus_method := consensus_method)
),
probs AS MATERIALIZED (
    SELECT * FROM consensus_probs(model_name := model_name)
),
sizes AS (             -- number of classes K and mean annotations per image
    SELECT m.model, k.classes, m.mean_annotations
    FROM (SELECT model, avg(num_annotations) AS mean_annotations FROM consensus GROUP BY ALL) m
    JOIN (SELECT model, count(DISTINCT k) AS classes FROM probs GROUP BY ALL) k USING (model)
),
top_class AS (         -- the most frequent consensus class among images with several annotations (lowest index on ties)
    SELECT model, arg_min(consensus_class, (-n, k)) AS top
    FROM (SELECT model, consensus_class, consensus_k AS k, count(*) AS n FROM consensus WHERE num_annotations > 1 GROUP BY ALL)
    GROUP BY ALL
),
predicted AS (         -- the classifier's top class per image (lowest index on ties)
    SELECT model, image_id, arg_min(class, (-p, k)) AS predicted FROM probs GROUP BY ALL
),
model_stats AS (
    SELECT c.model,
           avg(c.annotator_agreement) AS consensus_likelihood,
           greatest(avg((c.consensus_class <> t.top)::INTEGER), 1e-6) AS most_likely_class_error,
           avg((p.predicted <> c.consensus_class)::INTEGER) AS model_error
    FROM consensus c JOIN top_class t USING (model) JOIN predicted p USING (model, image_id)
    WHERE c.num_annotations > 1
    GROUP BY ALL
)
SELECT a.model, a.annotator, a.agreement_with_annotators,
       greatest(1 - (1 - a.agreement_with_annotators) / s.most_likely_class_error, 1e-6) AS annotator_weight,
       greatest(1 - s.model_error / s.most_likely_class_error, 1e-6) * sqrt(z.mean_annotations) AS model_weight,
       s.consensus_likelihood,
       (1 - s.consensus_likelihood) / (z.classes - 1) AS non_consensus_likelihood,
       s.most_likely_class_error, s.model_error, z.classes, z.mean_annotations
FROM annotator_agreement(model_name := model_name) a JOIN model_stats s USING (model) JOIN sizes z USING (model)
ORDER BY a.model, a.annotator
