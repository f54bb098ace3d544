-- description: One consensus class per image labelled by annotators, as cleanlab's get_label_quality_multiannotator (quality_method='crowdlab') gives it: the consensus class (consensus_labels), its CROWDLAB quality score (0-1, lower is less likely correct), the share of annotators that agree, and the rule that decided; least trustworthy first.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL: each classifier on its own
-- param: consensus_method VARCHAR = 'best_quality' -- 'best_quality' or 'majority_vote' (consensus_labels)
-- param: min_annotations INTEGER = 1 -- leave out images with fewer annotations than this
-- needs: tables
SELECT p.model, 'image' AS item_type, p.image_id AS item_id, p.image_id, i.dataset, i.path,
       p.num_annotations, p.consensus_class, p.consensus_quality_score, p.annotator_agreement, p.decided_by
FROM consensus_posterior(model_name := model_name, consensus_method := consensus_method) p
JOIN images i ON i.image_id = p.image_id
WHERE p.class = p.consensus_class AND p.num_annotations >= min_annotations
ORDER BY p.model, p.consensus_quality_score, p.image_id
