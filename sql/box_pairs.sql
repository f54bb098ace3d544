-- description: Every label box and prediction box of one image that overlap (a separating-axis test: no pair that shares no area), with the intersection area and the sum of the two areas (IoU = inter / (area_sum - inter)): the one definition of the pairs that errors_bad_boxes, errors_class_swaps and errors_missing_labels filter (same class, a minimum score, one model).
-- needs: tables
-- Where a view needs only a few labels' pairs (errors_bad_boxes' and errors_class_swaps' second join), it repeats
-- this test and these areas: keep them alike.
SELECT p.model, l.image_id, l.label_id, l.class AS label_class, p.prediction_id, p.class AS predicted_class, p.score,
       p.x, p.y, p.w, p.h,
       (least(p.x + p.w, l.x + l.w) - greatest(p.x, l.x))
       * (least(p.y + p.h, l.y + l.h) - greatest(p.y, l.y)) AS inter,
       p.w * p.h + l.w * l.h AS area_sum
FROM labels l
JOIN predictions p ON p.image_id = l.image_id
WHERE p.x < l.x + l.w AND l.x < p.x + p.w AND p.y < l.y + l.h AND l.y < p.y + p.h
