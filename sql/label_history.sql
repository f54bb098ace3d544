-- description: Every version of every label, newest first: what changed (op, changed columns, the class and box before and after), who, from where (source: the file, view or tool), why, when, and whether its batch was undone (the whole rows are in label_versions.old / new as JSON).
-- needs: tables
SELECT
    v.label_id,
    v.version,
    v.batch_id,
    v.op,
    v.changed,
    v.old->>'class' AS old_class,
    v.new->>'class' AS new_class,
    CASE WHEN v.old IS NOT NULL AND v.old->>'w' IS NOT NULL THEN
        [(v.old->>'x')::DOUBLE, (v.old->>'y')::DOUBLE, (v.old->>'w')::DOUBLE, (v.old->>'h')::DOUBLE] END AS old_box,
    CASE WHEN v.new IS NOT NULL AND v.new->>'w' IS NOT NULL THEN
        [(v.new->>'x')::DOUBLE, (v.new->>'y')::DOUBLE, (v.new->>'w')::DOUBLE, (v.new->>'h')::DOUBLE] END AS new_box,
    coalesce(v.new->>'image_id', v.old->>'image_id')::BIGINT AS image_id,
    v.author,
    v.source,
    v.reason,
    v.created_at,
    b.undone_by
FROM label_versions v
JOIN label_batches b USING (batch_id)
ORDER BY v.created_at DESC, v.batch_id DESC, v.label_id
