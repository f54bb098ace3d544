-- description: Too-large boxes (linter): labels covering at least max_area_rel of their image, largest first.
-- param: max_area_rel DOUBLE = 0.9 -- box area / image area from which a box is too large
-- needs: tables
SELECT
    l.label_id, l.image_id, i.dataset, i.path, l.class, l.x, l.y, l.w, l.h,
    l.w * l.h / (i.width * i.height) AS area_rel,
    printf('box covers %.0f%% of the image', 100 * l.w * l.h / (i.width * i.height)) AS reason
FROM labels l
JOIN images i ON i.image_id = l.image_id
WHERE l.w IS NOT NULL AND i.width > 0 AND i.height > 0 AND l.w * l.h / (i.width * i.height) >= max_area_rel
ORDER BY area_rel DESC, l.label_id
