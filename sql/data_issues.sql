-- description: Every issue type under one contract, like Datalab's report: one row per item and issue type with item_type, item_id, dataset, issue_type, score (0..1, lower is worse), is_issue, severity ('severe' below 0.3, else 'moderate'; NULL when not an issue), reason and source_view (the view to run for the details); the issues_* flags score every item, the errors_*, select_* and embed_* views (at their defaults) only those they report.
-- param: dataset_name VARCHAR = NULL -- one dataset; NULL reads every dataset
-- needs: tables
WITH flags AS (
    SELECT *, 'issues_dark' AS source_view FROM issues_dark(dataset_name := dataset_name)
    UNION ALL SELECT *, 'issues_light' FROM issues_light(dataset_name := dataset_name)
    UNION ALL SELECT *, 'issues_blurry' FROM issues_blurry(dataset_name := dataset_name)
    UNION ALL SELECT *, 'issues_low_information' FROM issues_low_information(dataset_name := dataset_name)
    UNION ALL SELECT *, 'issues_odd_aspect_ratio' FROM issues_odd_aspect_ratio(dataset_name := dataset_name)
    UNION ALL SELECT *, 'issues_odd_size' FROM issues_odd_size(dataset_name := dataset_name)
    UNION ALL SELECT *, 'issues_grayscale' FROM issues_grayscale(dataset_name := dataset_name)
    UNION ALL SELECT *, 'issues_exact_duplicates' FROM issues_exact_duplicates(dataset_name := dataset_name)
    UNION ALL SELECT *, 'issues_near_duplicates' FROM issues_near_duplicates(dataset_name := dataset_name)
    UNION ALL SELECT *, 'issues_outliers' FROM issues_outliers(dataset_name := dataset_name)
),
-- the existing views, adapted to the contract: each row they return is an issue
adapted AS (
    SELECT 'image' AS item_type, image_id AS item_id, dataset, 'broken' AS issue_type, 0.0 AS score, reason,
           'select_broken' AS source_view FROM select_broken
    UNION ALL SELECT 'label', label_id, dataset, 'bad_box', 1.0 - score, model || ': ' || reason, 'errors_bad_boxes'
    FROM errors_bad_boxes()
    UNION ALL SELECT 'label', label_id, dataset, 'class_swap', 1.0 - score, model || ': ' || reason, 'errors_class_swaps'
    FROM errors_class_swaps()
    UNION ALL SELECT 'label', label_id, dataset, 'label_error', score, model || ': ' || reason, 'errors_classification'
    FROM errors_classification()
    UNION ALL SELECT 'label', label_id, dataset, 'duplicate_box', 1.0 - iou, reason, 'errors_duplicate_boxes'
    FROM errors_duplicate_boxes()
    UNION ALL SELECT 'label', label_id, dataset, 'large_box', 1.0 - least(area_rel, 1.0), reason, 'errors_large_boxes'
    FROM errors_large_boxes()
    UNION ALL SELECT 'prediction', prediction_id, dataset, 'missing_label', 1.0 - score, model || ': ' || reason,
                     'errors_missing_labels' FROM errors_missing_labels()
    UNION ALL SELECT 'label', label_id, dataset, 'neighbour_disagreement', 1.0 - score, model || ': ' || reason,
                     'errors_neighbors' FROM errors_neighbors(min_score := 0.5)
    UNION ALL SELECT 'label', label_id, dataset, 'out_of_bounds', 1.0 / (1.0 + greatest(outside_px, 0)), reason,
                     'errors_out_of_bounds' FROM errors_out_of_bounds()
    UNION ALL SELECT 'label', label_id, dataset, 'tiny_box', greatest(0.0, least(1.0, least(w, h) / 4, w * h / 16)), reason,
                     'errors_tiny_boxes' FROM errors_tiny_boxes()
    -- masks: the views any DuckDB client can run (the mask-IoU ones need qmdb's functions, as the box views do not)
    UNION ALL SELECT 'label', label_id, dataset, 'empty_mask', score, reason, 'errors_mask_empty' FROM errors_mask_empty
    UNION ALL SELECT 'label', label_id, dataset, 'mask_outside_box', score, reason, 'errors_mask_outside_box'
    FROM errors_mask_outside_box()
    UNION ALL SELECT 'label', label_id, dataset, 'self_intersecting_polygon', score, reason, 'errors_self_intersecting_polygons'
    FROM errors_self_intersecting_polygons
    UNION ALL SELECT 'image', image_id, dataset, 'pixel_label_errors', score, model || ': ' || reason, 'errors_semantic_pixels'
    FROM errors_semantic_pixels() WHERE is_issue
    -- select_near_duplicates' default max_distance is 0.02: the score is the distance in those units
    UNION ALL SELECT 'image', image_id, dataset, 'embedding_near_duplicate', least(1.0, distance / 0.02),
                     printf('%s: cosine distance %.4f to image %d', model, distance, kept_image_id), 'select_near_duplicates'
    FROM select_near_duplicates()
    UNION ALL SELECT 'image', image_id, dataset, 'embedding_outlier', 1.0 / (1.0 + greatest(zscore, 0)),
                     printf('%s: isolation z-score %.2f', model, zscore), 'select_outliers' FROM select_outliers()
    UNION ALL SELECT item_type, CASE WHEN item_type = 'image' THEN image_id ELSE label_id END, dataset, 'class_outlier',
                     1.0 / (1.0 + greatest(z_score, 0)),
                     printf('%s: %.2f standard deviations farther from the %s centroid than usual', model, z_score, class),
                     'embed_outliers' FROM embed_outliers()
    UNION ALL SELECT 'image', image_b, dataset, 'split_leak',
                     CASE WHEN method = 'phash' THEN distance / 64 ELSE least(1.0, distance) END, reason, 'splits_leaks'
    FROM (SELECT * FROM splits_leaks() QUALIFY row_number() OVER (PARTITION BY image_b ORDER BY distance, image_a) = 1)
    UNION ALL SELECT 'image', g.image_id, i.dataset, 'underperforming_group', u.score, u.model || ': ' || u.reason,
                     'splits_underperforming_groups'
    FROM splits_underperforming_groups() u
    JOIN (SELECT image_id, split FROM images) g ON g.split = u.group_value
    JOIN images i ON i.image_id = g.image_id
    WHERE u.is_issue
),
together AS (
    SELECT item_type, item_id, dataset, issue_type, CAST(score AS DOUBLE) AS score, is_issue, reason, source_view FROM flags
    UNION ALL
    SELECT item_type, item_id, dataset, issue_type, CAST(score AS DOUBLE), true, reason, source_view FROM adapted
    WHERE dataset_name IS NULL OR dataset = dataset_name
)
SELECT item_type, item_id, dataset, issue_type, score, is_issue,
       CASE WHEN NOT is_issue THEN NULL WHEN score < 0.3 THEN 'severe' ELSE 'moderate' END AS severity,
       reason, source_view
FROM together
ORDER BY is_issue DESC, score, issue_type, item_type, item_id
