-- description: Image-level class labels that are probably wrong, found by confident learning over a classifier's out-of-fold probabilities (the decisions of cleanlab 2.9's find_label_issues with its default filter_by='prune_by_noise_rate'), most likely wrong first, with the class the model suggests.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs to use; NULL runs each classifier on its own
-- param: rank_by VARCHAR = 'self_confidence' -- ranking score, lower is worse: 'self_confidence' (probability of the given class) or 'normalized_margin' ((p_given - max p_other + 1) / 2)
-- param: min_examples_per_class INTEGER = 1 -- a given class with this many labels or fewer is never pruned (cleanlab's min_examples_per_class)
-- param: hide_reviewed BOOLEAN = true -- hide labels with a reviewed/fixed/rejected tag (select_reviewed)
-- needs: tables
WITH long AS (         -- one row per (model, label, class): p(class | image)
    SELECT * FROM errors_label_probs(model_name := model_name)
),
given_p AS (           -- labels whose class the model knows, with p(given class)
    SELECT model, label_id, given, p AS p_given FROM long WHERE k = given
),
other_p AS (           -- the most probable other class
    SELECT model, label_id, arg_max(k, p) AS suggested, max(p) AS p_other
    FROM long WHERE k <> given GROUP BY model, label_id
),
label_counts AS (
    SELECT model, given AS i, count(*) AS n FROM given_p GROUP BY ALL
),
counts AS (            -- the confident joint C[given i, true j]
    SELECT model, given_class AS i, true_class AS j, labels AS c FROM errors_confident_joint(model_name := model_name)
),
prune AS (             -- how many labels of given class i to prune towards class j (keeping min_examples_per_class)
    SELECT c.model, c.i, c.j,
           floor(greatest(c.c - (greatest(d.c, min_examples_per_class) - d.c)
                 / greatest(d.nonzero - 1, 1), 0)) AS n_prune
    FROM counts c
    JOIN (SELECT model, i, max(c) FILTER (WHERE i = j) AS c, count(*) FILTER (WHERE c <> 0) AS nonzero
          FROM counts GROUP BY model, i) d USING (model, i)
    WHERE c.i <> c.j
),
ranked AS (            -- per (given i, other j): labels by margin p_j - p_i, largest first
    SELECT l.model, l.label_id, l.given, l.k AS j,
           row_number() OVER (PARTITION BY l.model, l.given, l.k ORDER BY l.p - g.p_given DESC, l.label_id) AS position
    FROM long l JOIN given_p g USING (model, label_id)
    WHERE l.k <> l.given
),
flagged AS (
    SELECT DISTINCT r.model, r.label_id
    FROM ranked r
    JOIN prune p ON p.model = r.model AND p.i = r.given AND p.j = r.j
    JOIN label_counts lc ON lc.model = r.model AND lc.i = r.given
    WHERE r.position <= p.n_prune AND lc.n > min_examples_per_class
),
issues AS (            -- drop those whose given class is (within 1e-6) the model's top class
    SELECT g.model, g.label_id, g.given, g.p_given, o.suggested, o.p_other,
           (g.p_given - o.p_other + 1) / 2 AS normalized_margin
    FROM flagged f
    JOIN given_p g USING (model, label_id)
    JOIN other_p o USING (model, label_id)
    WHERE o.p_other > g.p_given + 1e-6
)
SELECT
    s.model,
    s.label_id,
    l.image_id,
    i.dataset,
    i.path,
    s.given AS class,
    s.suggested AS suggested_class,
    s.p_given AS self_confidence,
    s.normalized_margin,
    s.score,
    row_number() OVER (PARTITION BY s.model ORDER BY s.score, s.label_id) AS rank,
    printf('labelled %s (p=%.3f) but %s is more likely (p=%.3f), confidently', s.given, s.p_given, s.suggested, s.p_other) AS reason
FROM (
    SELECT *, CASE rank_by WHEN 'self_confidence' THEN p_given WHEN 'normalized_margin' THEN normalized_margin
                   ELSE error('rank_by must be self_confidence or normalized_margin, got ' || rank_by) END AS score
    FROM issues
) s
JOIN labels l USING (label_id)
JOIN images i ON i.image_id = l.image_id
WHERE NOT (hide_reviewed AND EXISTS (
    SELECT 1 FROM select_reviewed r WHERE r.item_type = 'label' AND r.item_id = s.label_id))
ORDER BY s.model, rank
