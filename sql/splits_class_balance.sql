-- description: Class imbalance per dataset and split: labels of each class, its share of the split, the imbalance ratio (the split's largest class count / this class's) and whether it is rare: a share below threshold / (number of classes of the dataset), Datalab's class-imbalance rule. Images without a split count as split NULL.
-- param: threshold DOUBLE = 0.1 -- Datalab's default: rare below this fraction of a uniform share
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH counted AS (
    SELECT i.dataset, i.split, l.class, count(*) AS labels
    FROM labels l JOIN images i ON i.image_id = l.image_id
    WHERE dataset_name IS NULL OR i.dataset = dataset_name
    GROUP BY ALL
),
shared AS (
    SELECT *, labels / sum(labels) OVER (PARTITION BY dataset, split) AS share,
           max(labels) OVER (PARTITION BY dataset, split) / labels AS imbalance_ratio,
           count(DISTINCT class) OVER (PARTITION BY dataset) AS n_classes
    FROM counted
)
SELECT dataset, split, class, labels, share, imbalance_ratio, n_classes, share < threshold / n_classes AS is_rare
FROM shared
ORDER BY dataset, split NULLS LAST, share, class
