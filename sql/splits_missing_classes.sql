-- description: Classes present in one split of a dataset and missing from another: one row per (dataset, split, class) with no label of that class in that split, with how many labels the class has in the other splits.
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH present AS (
    SELECT i.dataset, i.split, l.class, count(*) AS labels
    FROM labels l JOIN images i ON i.image_id = l.image_id
    WHERE i.split IS NOT NULL AND (dataset_name IS NULL OR i.dataset = dataset_name)
    GROUP BY ALL
),
splits AS (SELECT DISTINCT dataset, split FROM present),
classes AS (SELECT dataset, class, sum(labels) AS labels_elsewhere, string_agg(split, ', ' ORDER BY split) AS present_in
            FROM present GROUP BY ALL)
SELECT s.dataset, s.split AS missing_from, c.class, c.labels_elsewhere, c.present_in,
       printf('class %s has %d labels in %s and none in %s', c.class, c.labels_elsewhere, c.present_in, s.split) AS reason
FROM splits s JOIN classes c USING (dataset)
ANTI JOIN present p ON p.dataset = s.dataset AND p.split = s.split AND p.class = c.class
ORDER BY s.dataset, missing_from, c.class
