-- description: Tiny boxes (linter): labels narrower or shorter than min_side pixels, or with area under min_area pixels², smallest first.
-- param: min_side DOUBLE = 4 -- a box with a side below this many pixels is tiny
-- param: min_area DOUBLE = 16 -- a box with an area below this many square pixels is tiny
-- needs: tables
SELECT
    l.label_id, l.image_id, i.dataset, i.path, l.class, l.x, l.y, l.w, l.h,
    l.w * l.h AS box_area,
    printf('box is %.1f x %.1f px', l.w, l.h) AS reason
FROM labels l
JOIN images i ON i.image_id = l.image_id
WHERE l.w IS NOT NULL AND (least(l.w, l.h) < min_side OR l.w * l.h < min_area)
ORDER BY box_area, l.label_id
