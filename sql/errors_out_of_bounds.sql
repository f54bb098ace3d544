-- description: Out-of-bounds boxes (linter): labels reaching more than tolerance_px outside their image (or with a non-positive width/height), by how far they reach.
-- param: tolerance_px DOUBLE = 1 -- how many pixels outside the image are forgiven (rounding of converted formats)
-- needs: tables
WITH reach AS (
    SELECT l.label_id, greatest(-l.x, -l.y, l.x + l.w - i.width, l.y + l.h - i.height) AS outside_px
    FROM labels l JOIN images i ON i.image_id = l.image_id
    WHERE l.w IS NOT NULL AND i.width IS NOT NULL
)
SELECT
    l.label_id, l.image_id, i.dataset, i.path, l.class, l.x, l.y, l.w, l.h,
    r.outside_px,
    CASE WHEN l.w <= 0 OR l.h <= 0 THEN printf('box has size %.1f x %.1f', l.w, l.h)
         ELSE printf('box reaches %.1f px outside the %d x %d image', r.outside_px, i.width, i.height) END AS reason
FROM reach r
JOIN labels l ON l.label_id = r.label_id
JOIN images i ON i.image_id = l.image_id
WHERE r.outside_px > tolerance_px OR l.w <= 0 OR l.h <= 0
ORDER BY r.outside_px DESC, l.label_id
