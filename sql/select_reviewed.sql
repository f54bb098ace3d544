-- description: Items with a human decision (a 'reviewed', 'fixed' or 'rejected' tag), one row each: the latest decision, who made it and when. The views' hide_reviewed parameter hides these items.
-- needs: tables
SELECT
    item_type,
    item_id,
    arg_max(tag, tag_id) AS tag,
    arg_max(author, tag_id) AS author,
    arg_max(note, tag_id) AS note,
    max(created_at) AS decided_at,
    count(*) AS decisions
FROM tags
WHERE tag IN ('reviewed', 'fixed', 'rejected')
GROUP BY item_type, item_id
