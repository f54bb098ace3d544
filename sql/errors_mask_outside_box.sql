-- description: Masks outside their box (linter): labels with more than max_outside of their mask's pixels outside the label's box (mask_metrics), most outside first; score = the share inside.
-- param: max_outside DOUBLE = 0.01 -- the share of mask pixels allowed outside the box (rounding)
-- needs: tables
SELECT
    'label' AS item_type, l.label_id AS item_id, 'mask_outside_box' AS issue_type,
    1 - m.mask_outside_box AS score, true AS is_issue,
    printf('%.1f%% of the mask lies outside its %.1f x %.1f px box', 100 * m.mask_outside_box, l.w, l.h) AS reason,
    l.label_id, l.image_id, i.dataset, i.path, l.class, l.x, l.y, l.w, l.h, m.mask_area, m.mask_outside_box
FROM mask_metrics m
JOIN labels l ON l.label_id = m.label_id
JOIN images i ON i.image_id = l.image_id
WHERE m.mask_outside_box > max_outside
ORDER BY m.mask_outside_box DESC, l.label_id
