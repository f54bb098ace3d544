-- description: Empty masks (linter): labels whose mask covers no pixel (mask_metrics, from qmdb.udfs.mask_registry.compute_mask_metrics), with the box they claim.
-- needs: tables
SELECT
    'label' AS item_type, l.label_id AS item_id, 'empty_mask' AS issue_type, 0.0 AS score, true AS is_issue,
    printf('the mask has no pixel; the box is %.1f x %.1f px', coalesce(l.w, 0), coalesce(l.h, 0)) AS reason,
    l.label_id, l.image_id, i.dataset, i.path, l.class, l.x, l.y, l.w, l.h, l.mask.size AS mask_size
FROM mask_metrics m
JOIN labels l ON l.label_id = m.label_id
JOIN images i ON i.image_id = l.image_id
WHERE m.mask_area = 0
ORDER BY l.label_id
