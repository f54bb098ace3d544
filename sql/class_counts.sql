-- description: Labels and images per class, with each class's share of its dataset's labels.
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL counts every dataset
-- needs: tables
SELECT
    i.dataset,
    l.class,
    count(*) AS labels,
    count(DISTINCT l.image_id) AS images,
    round(count(*) / sum(count(*)) OVER (PARTITION BY i.dataset), 4) AS share
FROM labels l
JOIN images i USING (image_id)
WHERE dataset_name IS NULL OR i.dataset = dataset_name
GROUP BY i.dataset, l.class
ORDER BY i.dataset, labels DESC
