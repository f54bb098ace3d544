-- description: The labels as they were at a point in time, rebuilt from label_versions: one row per label that existed then, with its class and box and its whole row as JSON (labels written to the file outside qmdb since history began are not in it).
-- param: at_time TIMESTAMP = NULL -- the point in time; NULL is now
-- needs: tables
WITH latest AS (
    SELECT label_id, max(version) AS version
    FROM label_versions
    WHERE at_time IS NULL OR created_at <= at_time
    GROUP BY label_id
)
SELECT
    v.label_id,
    (v.new->>'image_id')::BIGINT AS image_id,
    v.new->>'class' AS class,
    (v.new->>'x')::DOUBLE AS x,
    (v.new->>'y')::DOUBLE AS y,
    (v.new->>'w')::DOUBLE AS w,
    (v.new->>'h')::DOUBLE AS h,
    v.version,
    v.batch_id,
    v.new AS row
FROM latest
JOIN label_versions v USING (label_id, version)
WHERE v.op <> 'delete'
