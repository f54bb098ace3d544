-- description: Diversity: n_images images that cover the embedding space (k-center greedy over embeddings), in pick order; optionally among candidate_ids only, and adding to selected_ids picked earlier.
-- param: n_images INTEGER = 100 -- how many images to pick
-- param: embedding_model VARCHAR = NULL -- embedding model to use (needed when several are stored)
-- param: candidate_ids BIGINT[] = NULL -- pick among these image ids only, e.g. (SELECT list(image_id) FROM images WHERE split = 'train'); NULL: every embedded image
-- param: selected_ids BIGINT[] = NULL -- image ids picked earlier (already labelled): the new picks complement them
-- needs: qmdb
SELECT p.pick, p.image_id, i.dataset, i.path
FROM (
    SELECT generate_subscripts(ids, 1) AS pick, unnest(ids) AS image_id
    FROM (SELECT coreset(n_images, embedding_model, candidate_ids, selected_ids) AS ids)
) p
JOIN images i ON i.image_id = p.image_id
ORDER BY p.pick
