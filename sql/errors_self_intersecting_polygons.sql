-- description: Self-intersecting polygons (linter): labels whose polygon has a ring with two non-adjacent edges that cross (a bowtie), most crossings first, with the ring, the first two crossing edges and their crossing point; score = 1 / (1 + crossings).
-- needs: tables
WITH rings AS (
    SELECT l.label_id, t.r, l.polygon[t.r] AS ring, len(l.polygon[t.r]) // 2 AS n
    FROM labels l, generate_series(1, len(l.polygon)) t(r)
    WHERE l.polygon IS NOT NULL
),
edges AS (             -- edge k of a ring: vertex k to vertex k + 1, the last one closing the ring
    SELECT label_id, r, n, s.k,
           ring[2 * s.k - 1] AS x1, ring[2 * s.k] AS y1,
           ring[2 * (s.k % n) + 1] AS x2, ring[2 * (s.k % n) + 2] AS y2
    FROM rings, generate_series(1, n) s(k)
    WHERE n >= 4       -- a triangle cannot cross itself
),
crossings AS (         -- proper crossings: each edge's ends strictly on both sides of the other's line
    SELECT a.label_id, a.r, a.k AS edge_a, b.k AS edge_b,
           a.x1, a.y1, a.x2, a.y2, b.x1 AS bx1, b.y1 AS by1, b.x2 AS bx2, b.y2 AS by2
    FROM edges a
    JOIN edges b ON b.label_id = a.label_id AND b.r = a.r AND b.k > a.k + 1 AND NOT (a.k = 1 AND b.k = a.n)
    WHERE least(a.x1, a.x2) <= greatest(b.x1, b.x2) AND least(b.x1, b.x2) <= greatest(a.x1, a.x2)
      AND least(a.y1, a.y2) <= greatest(b.y1, b.y2) AND least(b.y1, b.y2) <= greatest(a.y1, a.y2)
      AND sign((b.x2 - b.x1) * (a.y1 - b.y1) - (b.y2 - b.y1) * (a.x1 - b.x1))
        * sign((b.x2 - b.x1) * (a.y2 - b.y1) - (b.y2 - b.y1) * (a.x2 - b.x1)) < 0
      AND sign((a.x2 - a.x1) * (b.y1 - a.y1) - (a.y2 - a.y1) * (b.x1 - a.x1))
        * sign((a.x2 - a.x1) * (b.y2 - a.y1) - (a.y2 - a.y1) * (b.x2 - a.x1)) < 0
),
per_label AS (
    SELECT label_id, count(*) AS crossings,
           arg_min(r, [r, edge_a, edge_b]) AS ring_index,
           arg_min([edge_a, edge_b], [r, edge_a, edge_b]) AS edges,
           -- the crossing point: a1 + t (a2 - a1), t = ((b1 - a1) × (b2 - b1)) / ((a2 - a1) × (b2 - b1))
           arg_min([x1 + (x2 - x1) * t, y1 + (y2 - y1) * t], [r, edge_a, edge_b]) AS crossing
    FROM (SELECT *, ((bx1 - x1) * (by2 - by1) - (by1 - y1) * (bx2 - bx1))
                    / ((x2 - x1) * (by2 - by1) - (y2 - y1) * (bx2 - bx1)) AS t FROM crossings)
    GROUP BY label_id
)
SELECT
    'label' AS item_type, l.label_id AS item_id, 'self_intersecting_polygon' AS issue_type,
    1.0 / (1 + c.crossings) AS score, true AS is_issue,
    printf('ring %d crosses itself %d time(s), first edges %d and %d at (%.1f, %.1f)',
           c.ring_index, c.crossings, c.edges[1], c.edges[2], c.crossing[1], c.crossing[2]) AS reason,
    l.label_id, l.image_id, i.dataset, i.path, l.class, l.x, l.y, l.w, l.h,
    c.crossings, c.ring_index, c.edges, c.crossing
FROM per_label c
JOIN labels l ON l.label_id = c.label_id
JOIN images i ON i.image_id = l.image_id
ORDER BY c.crossings DESC, l.label_id
