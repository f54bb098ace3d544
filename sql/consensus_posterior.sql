-- description: CROWDLAB's posterior class probabilities per (classifier, image, class): the classifier's probability and each annotator's vote averaged with their weights (consensus_weights), cleanlab's post_pred_probs.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL: each classifier on its own
-- param: consensus_method VARCHAR = 'best_quality' -- 'best_quality' or 'majority_vote' (consensus_labels)
-- needs: tables
WITH weighted AS (     -- each vote with its annotator's weight
    SELECT v.model, v.image_id, v.class, w.annotator_weight
    FROM consensus_votes(model_name := model_name) v JOIN consensus_weights(model_name := model_name, consensus_method := consensus_method) w USING (model, annotator)
),
per_image AS (
    SELECT model, image_id, sum(annotator_weight) AS weight FROM weighted GROUP BY ALL
),
per_class AS (
    SELECT model, image_id, class, sum(annotator_weight) AS weight FROM weighted GROUP BY ALL
),
model_level AS (
    SELECT DISTINCT model, model_weight, consensus_likelihood, non_consensus_likelihood
    FROM consensus_weights(model_name := model_name, consensus_method := consensus_method)
)
SELECT p.model, p.image_id, p.class, p.k, p.p AS prior,
       (p.p * m.model_weight + m.non_consensus_likelihood * i.weight
        + (m.consensus_likelihood - m.non_consensus_likelihood) * coalesce(c.weight, 0))
       / (m.model_weight + i.weight) AS posterior
FROM consensus_probs(model_name := model_name) p
JOIN per_image i USING (model, image_id)
JOIN model_level m USING (model)
LEFT JOIN per_class c USING (model, image_id, class)
