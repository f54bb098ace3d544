-- description: Each annotator's quality over boxes, against consensus_boxes of the images they and others annotated: precision (share of their boxes in a consensus object), recall (share of the consensus objects of their images they drew), class agreement and mean IoU with the consensus box, and quality = F1 of precision and recall times class agreement; worst first.
-- param: iou_threshold DOUBLE = 0.5 -- two boxes of different annotators overlapping this much are the same object
-- param: min_share DOUBLE = 0.5 -- an object is consensus when more than this share of the image's annotators drew it
-- param: statistic VARCHAR = 'median' -- how to combine a group's boxes: 'median' or 'mean' of each corner
-- needs: tables
WITH objects AS MATERIALIZED (
    SELECT * FROM consensus_boxes(iou_threshold := iou_threshold, min_share := min_share, statistic := statistic)
),
drawn AS (             -- each box of each annotator, with its object
    SELECT o.image_id, o.cluster, o.is_consensus, o.class AS consensus_class, o.x AS cx, o.y AS cy, o.w AS cw, o.h AS ch,
           l.label_id, coalesce(l.annotator, '(unknown)') AS annotator, l.class, l.x, l.y, l.w, l.h
    FROM objects o, unnest(o.label_ids) AS u(label_id) JOIN labels l USING (label_id)
),
own AS (
    SELECT annotator, count(*) AS boxes,
           avg(is_consensus::INTEGER) AS precision,
           avg((class = consensus_class)::INTEGER) FILTER (WHERE is_consensus) AS class_agreement,
           avg(greatest(least(x + w, cx + cw) - greatest(x, cx), 0) * greatest(least(y + h, cy + ch) - greatest(y, cy), 0)
               / (w * h + cw * ch - greatest(least(x + w, cx + cw) - greatest(x, cx), 0)
                                   * greatest(least(y + h, cy + ch) - greatest(y, cy), 0)))
               FILTER (WHERE is_consensus) AS mean_iou
    FROM drawn GROUP BY ALL
),
reachable AS (         -- consensus objects on the images each annotator labelled, and whether they drew them
    SELECT a.annotator, count(*) AS objects,
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM drawn d WHERE d.cluster = o.cluster AND d.annotator = a.annotator))
               AS found
    FROM (SELECT DISTINCT annotator, image_id FROM drawn) a
    JOIN objects o ON o.image_id = a.image_id AND o.is_consensus
    GROUP BY ALL
)
SELECT o.annotator, o.boxes, o.precision, r.found / r.objects AS recall, o.class_agreement, o.mean_iou,
       coalesce(2 * o.precision * (r.found / r.objects) / nullif(o.precision + r.found / r.objects, 0), 0)
           * coalesce(o.class_agreement, 0) AS quality,
       coalesce(r.objects, 0) AS consensus_objects
FROM own o LEFT JOIN reachable r USING (annotator)
ORDER BY quality, o.annotator
