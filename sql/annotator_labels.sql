-- description: Each annotator's image-level label scored against the consensus: per (classifier, vote) the label, the consensus class, whether they agree, the label's CROWDLAB quality (the posterior of its class; cleanlab's detailed_label_quality) and the consensus quality score, worst first.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL: each classifier on its own
-- param: consensus_method VARCHAR = 'best_quality' -- 'best_quality' or 'majority_vote' (consensus_labels)
-- needs: tables
SELECT v.model, v.label_id, v.image_id, v.annotator, v.class, v.k, p.consensus_class, v.class = p.consensus_class AS agrees,
       p.posterior AS quality, p.consensus_quality_score, v.num_annotations
FROM consensus_votes(model_name := model_name) v
JOIN consensus_posterior(model_name := model_name, consensus_method := consensus_method) p USING (model, image_id, class)
ORDER BY v.model, quality, v.label_id
