-- description: Annotation quality by neighbours: for each label, the share of its k nearest labels in embedding space that carry another class (1 = every neighbour disagrees), highest first, with the class most of the disagreeing neighbours carry (the label's own class when none disagrees). Reads the neighbors table (label neighbours, or image neighbours for image-level labels).
-- param: embedding_model VARCHAR = NULL -- embedding model whose neighbors to read; NULL reads each model on its own
-- param: k_neighbors INTEGER = 10 -- how many nearest neighbours vote
-- param: min_score DOUBLE = 0.0 -- keep labels whose disagreement share is at least this
-- param: hide_reviewed BOOLEAN = true -- hide labels with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: tables
WITH pairs AS (
    SELECT n.model, n.item_id AS label_id, n.neighbor_id AS neighbor_label_id
    FROM neighbors n
    WHERE n.item_type = 'label' AND n.rank <= k_neighbors
    UNION ALL
    SELECT n.model, a.label_id, b.label_id
    FROM neighbors n
    JOIN labels a ON a.image_id = n.item_id AND a.w IS NULL
    JOIN labels b ON b.image_id = n.neighbor_id AND b.w IS NULL
    WHERE n.item_type = 'image' AND n.rank <= k_neighbors
),
scored AS (
    SELECT p.model, p.label_id,
           count(*) AS neighbours,
           avg(CAST(nl.class <> l.class AS DOUBLE)) AS score,
           count(*) FILTER (WHERE nl.class <> l.class) AS disagreeing,
           -- the other class the neighbours carry most: never the label's own
           coalesce(mode(nl.class ORDER BY nl.class) FILTER (WHERE nl.class <> l.class), any_value(l.class)) AS neighbour_class
    FROM pairs p
    JOIN labels l ON l.label_id = p.label_id
    JOIN labels nl ON nl.label_id = p.neighbor_label_id
    WHERE embedding_model IS NULL OR p.model = embedding_model
    GROUP BY p.model, p.label_id
)
SELECT
    s.model,
    s.label_id,
    l.image_id,
    i.dataset,
    i.path,
    l.class,
    l.annotator,
    s.neighbour_class,
    s.neighbours,
    s.score,
    CASE WHEN s.disagreeing = 0 THEN printf('all %d of its nearest labels are %s', s.neighbours, l.class)
         ELSE printf('%d of its %d nearest labels are not %s (most of those are %s)',
                     s.disagreeing, s.neighbours, l.class, s.neighbour_class) END AS reason
FROM scored s
JOIN labels l ON l.label_id = s.label_id
JOIN images i ON i.image_id = l.image_id
WHERE s.score >= min_score
  AND NOT (hide_reviewed AND EXISTS (
      SELECT 1 FROM select_reviewed r WHERE r.item_type = 'label' AND r.item_id = s.label_id))
ORDER BY s.model, s.score DESC, s.label_id
