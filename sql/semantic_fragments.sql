-- description: Fragmented semantic regions: per image and class of a semantic dataset the number of 8-connected parts of the class's pixels (mask_parts of mask_metrics, from qmdb.udfs.mask_registry.compute_mask_metrics) and the class's median over images; an issue when a class falls apart into at least min_parts pieces (score 1 / parts, lower is worse).
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every semantic dataset
-- param: min_parts INTEGER = 10 -- a class in this many separate parts or more is an issue
-- needs: tables
WITH parts AS (
    SELECT i.dataset, l.label_id, l.image_id, i.path, l.class, l.area, m.mask_parts AS parts
    FROM labels l
    JOIN images i ON i.image_id = l.image_id
    JOIN datasets d ON d.name = i.dataset
    JOIN mask_metrics m ON m.label_id = l.label_id
    WHERE d.task = 'semantic' AND (dataset_name IS NULL OR i.dataset = dataset_name)
)
SELECT 'label' AS item_type, label_id AS item_id, 'fragmented_region' AS issue_type,
       1.0 / greatest(parts, 1) AS score, parts >= min_parts AS is_issue,
       printf('%s in %d separate parts (the class''s median is %g)', class, parts,
              median(parts) OVER (PARTITION BY dataset, class)) AS reason,
       dataset, image_id, path, class, area::BIGINT AS pixels, parts,
       median(parts) OVER (PARTITION BY dataset, class) AS class_median_parts
FROM parts
ORDER BY parts DESC, label_id
