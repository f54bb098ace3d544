-- description: Label statistics of two sets of images side by side: each class's share of the labels, labels per image, and for boxes the mean box area and mean box area relative to the image; one row per statistic, with both values and their difference, the largest share differences first.
-- param: ids_a BIGINT[] = NULL -- the image ids of side A, e.g. (SELECT list(image_id) FROM images WHERE split = 'train')
-- param: ids_b BIGINT[] = NULL -- the image ids of side B
-- needs: tables
WITH sides AS (
    SELECT unnest(ids_a) AS image_id, 'a' AS side UNION ALL SELECT unnest(ids_b), 'b'
),
labelled AS (
    SELECT s.side, l.class, l.w * l.h AS box_area, l.w * l.h / nullif(i.width * i.height, 0) AS area_rel
    FROM sides s JOIN labels l USING (image_id) JOIN images i USING (image_id)
),
totals AS (
    SELECT count_if(side = 'a') AS labels_a, count_if(side = 'b') AS labels_b FROM labelled
),
classes AS (
    SELECT 'class share: ' || class AS statistic,
           count_if(side = 'a') / nullif(any_value(t.labels_a), 0) AS value_a,
           count_if(side = 'b') / nullif(any_value(t.labels_b), 0) AS value_b
    FROM labelled, totals t GROUP BY class
),
overall AS (
    SELECT 'labels per image' AS statistic,
           any_value(t.labels_a) / nullif((SELECT count(*) FROM sides WHERE side = 'a'), 0) AS value_a,
           any_value(t.labels_b) / nullif((SELECT count(*) FROM sides WHERE side = 'b'), 0) AS value_b
    FROM totals t
    UNION ALL
    SELECT 'mean box area (px²)', avg(box_area) FILTER (WHERE side = 'a'), avg(box_area) FILTER (WHERE side = 'b')
    FROM labelled HAVING count(box_area) > 0
    UNION ALL
    SELECT 'mean box area / image area', avg(area_rel) FILTER (WHERE side = 'a'), avg(area_rel) FILTER (WHERE side = 'b')
    FROM labelled HAVING count(area_rel) > 0
)
SELECT statistic, coalesce(value_a, 0) AS value_a, coalesce(value_b, 0) AS value_b,
       coalesce(value_b, 0) - coalesce(value_a, 0) AS difference
FROM (SELECT *, 0 AS o FROM overall UNION ALL SELECT *, 1 FROM classes)
ORDER BY o, abs(difference) DESC, statistic
