-- description: A class-balanced sample: up to n_per_class labelled images of each class (a random but repeatable pick, by sample_seed), for a balanced training or review set.
-- param: n_per_class INTEGER = 50 -- images per class
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL samples every dataset
-- param: sample_seed INTEGER = 0 -- change it for another sample
-- needs: tables
WITH per_class AS (
    SELECT DISTINCT i.dataset, l.class, l.image_id, i.path
    FROM labels l
    JOIN images i ON i.image_id = l.image_id
    WHERE i.status = 'ok' AND (dataset_name IS NULL OR i.dataset = dataset_name)
)
SELECT dataset, class, image_id, path
FROM per_class
QUALIFY row_number() OVER (PARTITION BY dataset, class ORDER BY hash(image_id, sample_seed), image_id) <= n_per_class
ORDER BY dataset, class, image_id
