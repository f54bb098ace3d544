-- description: Each annotator's quality over image-level labels, as cleanlab's get_label_quality_multiannotator annotator_stats gives it (CROWDLAB): annotator_quality (0-1, a weighted mean of their labels' quality and their agreement with the consensus on shared images), agreement_with_consensus, worst_class, num_examples_labeled and their weight; worst first.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL: each classifier on its own
-- param: consensus_method VARCHAR = 'best_quality' -- 'best_quality' or 'majority_vote' (consensus_labels)
-- needs: tables
WITH scored AS MATERIALIZED (
    SELECT * FROM annotator_labels(model_name := model_name, consensus_method := consensus_method)
),
per_annotator AS (
    SELECT model, annotator,
           avg(quality) AS label_quality,
           avg(agrees::INTEGER) FILTER (WHERE num_annotations > 1) AS agreement_shared,
           avg(agrees::INTEGER) AS agreement_with_consensus,
           count(*) AS num_examples_labeled
    FROM scored GROUP BY ALL
),
worst AS (             -- the class they label worst (lowest agreement; then most labelled; then best consensus quality)
    SELECT model, annotator, class AS worst_class
    FROM (SELECT model, annotator, class, any_value(k) AS k, avg(agrees::INTEGER) AS accuracy, count(*) AS n,
                 avg(consensus_quality_score) AS q
          FROM scored GROUP BY model, annotator, class)
    QUALIFY row_number() OVER (PARTITION BY model, annotator ORDER BY accuracy, n DESC, q DESC, k) = 1
),
mix AS (               -- the classifier's share in the mix: model_weight / (model_weight + adjusted annotator weight)
    SELECT *, model_weight / (model_weight + sum(annotator_weight) OVER (PARTITION BY model) * mean_annotations
                              / count(*) OVER (PARTITION BY model)) AS model_share
    FROM consensus_weights(model_name := model_name, consensus_method := consensus_method)
)
SELECT p.model, p.annotator,
       x.model_share * p.label_quality + (1 - x.model_share) * p.agreement_shared AS annotator_quality,
       p.agreement_with_consensus, w.worst_class, p.num_examples_labeled,
       p.label_quality, p.agreement_shared, x.agreement_with_annotators, x.annotator_weight, x.model_weight
FROM per_annotator p
JOIN mix x USING (model, annotator)
JOIN worst w USING (model, annotator)
ORDER BY p.model, annotator_quality NULLS FIRST, p.agreement_with_consensus
