-- description: What to drop, broken images: images that are missing or unreadable, or that have a row in errors about the image itself (not about one of its boxes), with the reason.
-- needs: tables
SELECT
    i.image_id,
    i.dataset,
    i.path,
    i.status,
    coalesce(string_agg(DISTINCT e.stage || ': ' || e.message, '; ' ORDER BY e.stage || ': ' || e.message), i.status) AS reason
FROM images i
LEFT JOIN errors e ON e.image_id = i.image_id AND NOT ends_with(e.message, ': box outside the image')
WHERE i.status <> 'ok' OR e.error_id IS NOT NULL
GROUP BY i.image_id, i.dataset, i.path, i.status
ORDER BY i.dataset, i.path
