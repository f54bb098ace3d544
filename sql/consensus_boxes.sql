-- description: Consensus boxes per image labelled by several annotators: boxes of different annotators overlapping at IoU >= iou_threshold are one object whatever their classes (connected groups of such pairs), the consensus box is the median (or mean) of the group's corners, its class the group's majority class; with how many of the image's annotators drew it and how well they agree on class and place.
-- param: iou_threshold DOUBLE = 0.5 -- two boxes of different annotators overlapping this much are the same object
-- param: min_share DOUBLE = 0.5 -- an object is consensus when more than this share of the image's annotators drew it
-- param: statistic VARCHAR = 'median' -- how to combine a group's boxes: 'median' or 'mean' of each corner
-- needs: tables
WITH RECURSIVE boxes AS MATERIALIZED (   -- annotator NULL counts as one annotator, '(unknown)'
    SELECT label_id, image_id, coalesce(annotator, '(unknown)') AS annotator, class, x, y, w, h
    FROM labels WHERE w IS NOT NULL AND NOT iscrowd
),
image_annotators AS (
    SELECT image_id, count(DISTINCT annotator) AS image_annotators FROM boxes GROUP BY ALL
),
edges AS MATERIALIZED (                  -- same object: different annotators, IoU at least iou_threshold
    SELECT a, b FROM (
        SELECT a.label_id AS a, b.label_id AS b,
               greatest(least(a.x + a.w, b.x + b.w) - greatest(a.x, b.x), 0)
               * greatest(least(a.y + a.h, b.y + b.h) - greatest(a.y, b.y), 0) AS inter,
               a.w * a.h + b.w * b.h AS area_sum
        FROM boxes a JOIN boxes b ON a.image_id = b.image_id AND a.annotator <> b.annotator
    )
    WHERE inter > 0 AND inter / (area_sum - inter) >= iou_threshold
),
reach (label_id, member) AS (            -- every box reachable through such pairs
    SELECT label_id, label_id FROM boxes
    UNION
    SELECT r.label_id, e.b FROM reach r JOIN edges e ON e.a = r.member
),
members AS MATERIALIZED (                -- a group is named by its smallest label id
    SELECT b.*, g.cluster
    FROM boxes b JOIN (SELECT label_id, min(member) AS cluster FROM reach GROUP BY ALL) g USING (label_id)
),
votes AS (                               -- the group's class: most boxes, then the first name
    SELECT cluster, arg_min(class, (-n, class)) AS class, max(n) AS class_votes
    FROM (SELECT cluster, class, count(*) AS n FROM members GROUP BY ALL) GROUP BY ALL
),
combined AS (
    SELECT cluster, any_value(image_id) AS image_id, count(*) AS boxes, count(DISTINCT annotator) AS annotators,
           list(label_id ORDER BY label_id) AS label_ids, list(DISTINCT annotator ORDER BY annotator) AS annotator_names,
           CASE statistic WHEN 'median' THEN median(x) WHEN 'mean' THEN avg(x)
                ELSE error('statistic must be median or mean, got ' || statistic) END AS x1,
           CASE statistic WHEN 'median' THEN median(y) ELSE avg(y) END AS y1,
           CASE statistic WHEN 'median' THEN median(x + w) ELSE avg(x + w) END AS x2,
           CASE statistic WHEN 'median' THEN median(y + h) ELSE avg(y + h) END AS y2
    FROM members GROUP BY ALL
),
fit AS (                                 -- each box's IoU with its group's consensus box
    SELECT m.cluster,
           avg(greatest(least(m.x + m.w, c.x2) - greatest(m.x, c.x1), 0)
               * greatest(least(m.y + m.h, c.y2) - greatest(m.y, c.y1), 0)
               / (m.w * m.h + (c.x2 - c.x1) * (c.y2 - c.y1)
                  - greatest(least(m.x + m.w, c.x2) - greatest(m.x, c.x1), 0)
                    * greatest(least(m.y + m.h, c.y2) - greatest(m.y, c.y1), 0))) AS mean_iou
    FROM members m JOIN combined c USING (cluster)
    GROUP BY ALL
)
SELECT c.image_id, i.dataset, i.path, c.cluster, v.class, c.x1 AS x, c.y1 AS y, c.x2 - c.x1 AS w, c.y2 - c.y1 AS h,
       c.annotators, a.image_annotators, c.annotators / a.image_annotators AS agreement,
       v.class_votes / c.boxes AS class_agreement, f.mean_iou,
       c.annotators / a.image_annotators > min_share AS is_consensus,
       c.boxes, c.label_ids, c.annotator_names
FROM combined c
JOIN votes v USING (cluster)
JOIN fit f USING (cluster)
JOIN image_annotators a USING (image_id)
JOIN images i ON i.image_id = c.image_id
WHERE a.image_annotators > 1
ORDER BY c.image_id, c.cluster
