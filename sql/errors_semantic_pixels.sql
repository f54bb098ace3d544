-- description: Pixel label errors of semantic masks (semantic_pixel_issues, from `qmdb import predictions semantic` with probability files; cleanlab's segmentation find_label_issues): per model and image the labelled pixels whose label disagrees with a confident prediction, their share of the labelled pixels, the image's label quality (cleanlab's softmin score, lower is worse), the label class most often flagged and the class the model suggests there, and the issue mask (COCO RLE) to draw; worst image first.
-- param: model_name VARCHAR = NULL -- one model; NULL reads every model imported with probabilities
-- param: hide_reviewed BOOLEAN = true -- hide images with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: tables
WITH pairs AS (
    SELECT s.model, s.image_id, u.c.label_class, u.c.suggested_class, u.c.pixels
    FROM semantic_pixel_issues s, unnest(s.issue_classes) AS u(c)
    WHERE model_name IS NULL OR s.model = model_name
),
flagged AS (           -- per image the label class with the most issue pixels
    SELECT model, image_id, label_class, sum(pixels) AS pixels
    FROM pairs GROUP BY model, image_id, label_class
    QUALIFY row_number() OVER (PARTITION BY model, image_id ORDER BY sum(pixels) DESC, label_class) = 1
),
suggested AS (         -- and where it is flagged, the class the model sees most
    SELECT p.model, p.image_id, f.label_class, f.pixels AS flagged_pixels, p.suggested_class
    FROM pairs p JOIN flagged f USING (model, image_id, label_class)
    QUALIFY row_number() OVER (PARTITION BY p.model, p.image_id ORDER BY p.pixels DESC, p.suggested_class) = 1
)
SELECT
    'image' AS item_type,
    s.image_id AS item_id,
    'pixel_label_errors' AS issue_type,
    s.label_score AS score,
    s.issue_pixels > 0 AS is_issue,
    CASE WHEN s.issue_pixels = 0 THEN printf('no pixel label issue (label quality %.3f)', s.label_score)
         ELSE printf('%d of %d labelled pixels (%.1f%%) disagree with a confident prediction; %d of them labelled %s, where the model mostly sees %s',
                     s.issue_pixels, s.labelled_pixels, 100.0 * s.issue_pixels / s.labelled_pixels, g.flagged_pixels,
                     g.label_class, g.suggested_class) END AS reason,
    s.model,
    s.image_id,
    i.dataset,
    i.path,
    s.issue_pixels,
    s.labelled_pixels,
    s.issue_pixels / s.labelled_pixels AS issue_share,
    s.label_score,
    g.label_class AS flagged_class,
    g.flagged_pixels,
    g.suggested_class,
    s.issue_mask
FROM semantic_pixel_issues s
JOIN images i ON i.image_id = s.image_id
LEFT JOIN suggested g ON g.model = s.model AND g.image_id = s.image_id
WHERE (model_name IS NULL OR s.model = model_name)
  AND NOT (hide_reviewed AND EXISTS (
      SELECT 1 FROM select_reviewed r WHERE r.item_type = 'image' AND r.item_id = s.image_id))
ORDER BY s.model, is_issue DESC, score, s.image_id
