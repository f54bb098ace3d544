-- description: Which class is noisy: per class, labels, mean neighbour-disagreement score (errors_neighbors), the share of suspect labels and the class their neighbours most often carry instead, worst first.
-- param: embedding_model VARCHAR = NULL -- embedding model whose neighbors to read; NULL reads each model on its own
-- param: k_neighbors INTEGER = 10 -- how many nearest neighbours vote
-- param: suspect_score DOUBLE = 0.5 -- a label is suspect when at least this share of its neighbours disagree
-- needs: tables
SELECT
    model,
    dataset,
    class,
    count(*) AS labels,
    avg(score) AS mean_score,
    count(*) FILTER (WHERE score >= suspect_score) AS suspect_labels,
    count(*) FILTER (WHERE score >= suspect_score) / count(*) AS suspect_share,
    mode(neighbour_class ORDER BY neighbour_class) FILTER (WHERE score >= suspect_score) AS confused_with
FROM errors_neighbors(embedding_model := embedding_model, k_neighbors := k_neighbors, hide_reviewed := false)
GROUP BY ALL
ORDER BY model, suspect_share DESC, mean_score DESC
