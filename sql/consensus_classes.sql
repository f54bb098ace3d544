-- description: One consensus class per image labelled by annotators, as cleanlab's get_label_quality_multiannotator (quality_method='crowdlab') gives it: the consensus class (consensus_labels), its CROWDLAB quality score (0-1, lower is less likely correct), the share of annotators that agree, and the rule that decided.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL: each classifier on its own
-- param: consensus_method VARCHAR = 'best_quality' -- 'best_quality' or 'majority_vote' (consensus_labels)
-- param: min_annotations INTEGER = 1 -- leave out images with fewer annotations than this
-- needs: tables
SELECT m.model, 'image' AS item_type, m.image_id AS item_id, m.image_id, i.dataset, i.path,
       m.num_annotations, m.consensus_class, p.posterior AS consensus_quality_score, m.annotator_agreement, m.decided_by
FROM consensus_labels(model_name := model_name, consensus_method := consensus_method) m
JOIN consensus_posterior(model_name := model_name, consensus_method := consensus_method) p
  ON p.model = m.model AND p.image_id = m.image_id AND p.class = m.consensus_class
JOIN images i ON i.image_id = m.image_id
WHERE m.num_annotations >= min_annotations
ORDER BY m.model, consensus_quality_score, m.image_id
