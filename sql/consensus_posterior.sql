-- description: CROWDLAB's posterior class probabilities per (classifier, image, class): the classifier's probability and each annotator's vote averaged with their weights (consensus_weights), cleanlab's post_pred_probs; with the image's consensus class (consensus_labels) and its posterior, the consensus quality score.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL: each classifier on its own
-- param: consensus_method VARCHAR = 'best_quality' -- 'best_quality' or 'majority_vote' (consensus_labels)
-- needs: tables
WITH weights AS MATERIALIZED (
    SELECT * FROM consensus_weights(model_name := model_name, consensus_method := consensus_method)
),
weighted AS MATERIALIZED (     -- each vote with its annotator's weight
    SELECT v.model, v.image_id, v.class, w.annotator_weight
    FROM consensus_votes(model_name := model_name) v JOIN weights w USING (model, annotator)
),
per_image AS (
    SELECT model, image_id, sum(annotator_weight) AS weight FROM weighted GROUP BY ALL
),
per_class AS (
    SELECT model, image_id, class, sum(annotator_weight) AS weight FROM weighted GROUP BY ALL
),
model_level AS (
    SELECT DISTINCT model, model_weight, consensus_likelihood, non_consensus_likelihood FROM weights
),
posterior AS (
    SELECT p.model, p.image_id, p.class, p.k, p.p AS prior,
           (p.p * m.model_weight + m.non_consensus_likelihood * i.weight
            + (m.consensus_likelihood - m.non_consensus_likelihood) * coalesce(c.weight, 0))
           / (m.model_weight + i.weight) AS posterior
    FROM consensus_probs(model_name := model_name) p
    JOIN per_image i USING (model, image_id)
    JOIN model_level m USING (model)
    LEFT JOIN per_class c USING (model, image_id, class)
)
SELECT p.*, c.num_annotations, c.consensus_class, c.consensus_k, c.annotator_agreement, c.decided_by,
       max(p.posterior) FILTER (WHERE p.class = c.consensus_class) OVER (PARTITION BY p.model, p.image_id)
           AS consensus_quality_score
FROM posterior p
JOIN consensus_labels(model_name := model_name, consensus_method := consensus_method) c USING (model, image_id)
