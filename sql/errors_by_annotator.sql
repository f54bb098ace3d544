-- description: Which annotator is noisy: per annotator, labels, mean neighbour-disagreement score (errors_neighbors) and the share of labels whose score reaches suspect_score, worst first.
-- param: embedding_model VARCHAR = NULL -- embedding model whose neighbors to read; NULL reads each model on its own
-- param: k_neighbors INTEGER = 10 -- how many nearest neighbours vote
-- param: suspect_score DOUBLE = 0.5 -- a label is suspect when at least this share of its neighbours disagree
-- needs: tables
SELECT
    model,
    coalesce(annotator, '(unknown)') AS annotator,
    count(*) AS labels,
    avg(score) AS mean_score,
    count(*) FILTER (WHERE score >= suspect_score) AS suspect_labels,
    count(*) FILTER (WHERE score >= suspect_score) / count(*) AS suspect_share
FROM errors_neighbors(embedding_model := embedding_model, k_neighbors := k_neighbors, hide_reviewed := false)
GROUP BY ALL
ORDER BY model, suspect_share DESC, mean_score DESC
