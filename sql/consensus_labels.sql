-- description: The consensus class per image as cleanlab's get_label_quality_multiannotator chooses it: 'majority_vote' (consensus_majority), or its default 'best_quality' (the class of highest CROWDLAB posterior under the majority vote's weights, the majority vote when that is tied), with the rule that decided and the share of annotators that agree.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL: each classifier on its own
-- param: consensus_method VARCHAR = 'best_quality' -- 'best_quality' or 'majority_vote'
-- needs: tables
WITH votes AS MATERIALIZED (
    SELECT * FROM consensus_votes(model_name := model_name)
),
probs AS MATERIALIZED (
    SELECT * FROM consensus_probs(model_name := model_name)
),
mv AS MATERIALIZED (
    SELECT * FROM consensus_majority(model_name := model_name)
),
-- CROWDLAB's weights under the majority vote (consensus_weights does the same for the chosen consensus)
sizes AS (
    SELECT model, count(DISTINCT k) AS classes FROM probs GROUP BY ALL
),
top_class AS (
    SELECT model, arg_min(consensus_class, (-n, k)) AS top
    FROM (SELECT model, consensus_class, consensus_k AS k, count(*) AS n FROM mv WHERE num_annotations > 1 GROUP BY ALL)
    GROUP BY ALL
),
predicted AS (
    SELECT model, image_id, arg_min(class, (-p, k)) AS predicted FROM probs GROUP BY ALL
),
model_stats AS (
    SELECT m.model, avg(m.annotator_agreement) AS cl,
           greatest(avg((m.consensus_class <> t.top)::INTEGER), 1e-6) AS mlce,
           avg((p.predicted <> m.consensus_class)::INTEGER) AS model_error
    FROM mv m JOIN top_class t USING (model) JOIN predicted p USING (model, image_id)
    WHERE m.num_annotations > 1
    GROUP BY ALL
),
model_weight AS MATERIALIZED (
    SELECT s.model, s.cl, (1 - s.cl) / (z.classes - 1) AS ncl,
           greatest(1 - s.model_error / s.mlce, 1e-6) * sqrt(n.mean_annotations) AS mw, s.mlce
    FROM model_stats s JOIN sizes z USING (model)
    JOIN (SELECT model, avg(num_annotations) AS mean_annotations FROM mv GROUP BY ALL) n USING (model)
),
weighted AS MATERIALIZED (
    SELECT v.model, v.image_id, v.class, greatest(1 - (1 - a.agreement_with_annotators) / m.mlce, 1e-6) AS weight
    FROM votes v JOIN annotator_agreement(model_name := model_name) a USING (model, annotator) JOIN model_weight m USING (model)
),
posterior AS MATERIALIZED (
    SELECT p.model, p.image_id, p.class, p.k,
           (p.p * m.mw + m.ncl * i.weight + (m.cl - m.ncl) * coalesce(c.weight, 0)) / (m.mw + i.weight) AS posterior
    FROM probs p JOIN model_weight m USING (model)
    JOIN (SELECT model, image_id, sum(weight) AS weight FROM weighted GROUP BY ALL) i USING (model, image_id)
    LEFT JOIN (SELECT model, image_id, class, sum(weight) AS weight FROM weighted GROUP BY ALL) c USING (model, image_id, class)
),
best AS (
    SELECT model, image_id, arg_min(class, k) AS class, min(k) AS k, count(*) AS n_best
    FROM (FROM posterior QUALIFY posterior = max(posterior) OVER (PARTITION BY model, image_id))
    GROUP BY ALL
),
chosen AS (
    SELECT m.model, m.image_id, m.num_annotations,
           CASE WHEN use_best THEN b.class ELSE m.consensus_class END AS consensus_class,
           CASE WHEN use_best THEN b.k ELSE m.consensus_k END AS consensus_k,
           CASE WHEN use_best THEN 'crowdlab' ELSE m.decided_by END AS decided_by
    FROM (SELECT *, CASE consensus_method WHEN 'majority_vote' THEN false WHEN 'best_quality' THEN true
                         ELSE error('consensus_method must be best_quality or majority_vote, got ' || consensus_method)
                    END AS best_quality
          FROM mv) m
    LEFT JOIN best b USING (model, image_id),
    LATERAL (SELECT m.best_quality AND b.n_best = 1 AS use_best)
)
SELECT c.model, c.image_id, c.num_annotations, c.consensus_class, c.consensus_k,
       avg((v.class = c.consensus_class)::INTEGER) AS annotator_agreement, c.decided_by
FROM chosen c JOIN votes v USING (model, image_id)
GROUP BY c.model, c.image_id, c.num_annotations, c.consensus_class, c.consensus_k, c.decided_by
