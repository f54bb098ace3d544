-- description: Duplicate boxes: pairs of labels of the same class in one image overlapping at IoU of at least dup_iou (two such boxes would both match one object); each row names the later label as the duplicate of the earlier one.
-- param: dup_iou DOUBLE = 0.5 -- two same-class boxes overlapping this much are the same object (real duplicates, boxes copied a pixel off, overlap at 0.70-0.91 in the demo on two seeds; different objects rarely reach 0.5)
-- param: hide_reviewed BOOLEAN = true -- hide duplicates with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: tables
WITH pairs AS (
    SELECT a.label_id AS kept_label_id, b.label_id, a.image_id, a.class,
           greatest(0, least(a.x + a.w, b.x + b.w) - greatest(a.x, b.x))
           * greatest(0, least(a.y + a.h, b.y + b.h) - greatest(a.y, b.y)) AS inter,
           a.w * a.h + b.w * b.h AS area_sum
    FROM labels a
    JOIN labels b ON b.image_id = a.image_id AND b.class = a.class AND b.label_id > a.label_id
    WHERE a.x < b.x + b.w AND b.x < a.x + a.w AND a.y < b.y + b.h AND b.y < a.y + a.h    -- overlapping (no box: NULL)
)
SELECT
    p.label_id,
    p.kept_label_id,
    p.image_id,
    i.dataset,
    i.path,
    p.class,
    p.inter / (p.area_sum - p.inter) AS iou,
    printf('duplicates label %d (%s, IoU %.2f)', p.kept_label_id, p.class, p.inter / (p.area_sum - p.inter)) AS reason
FROM pairs p
JOIN images i ON i.image_id = p.image_id
WHERE p.inter > 0 AND p.inter / (p.area_sum - p.inter) >= dup_iou
  AND NOT (hide_reviewed AND EXISTS (
      SELECT 1 FROM select_reviewed r WHERE r.item_type = 'label' AND r.item_id = p.label_id))
ORDER BY iou DESC, p.label_id
