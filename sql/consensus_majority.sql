-- description: Majority vote of the annotators per image, with cleanlab's tie-breaks in order (the classifier's probability, then the rarer class, then the annotators' agreement with the untied votes; cleanlab's final random pick is the lowest class index here), the rule that decided, and the share of annotators that agree.
-- param: model_name VARCHAR = NULL -- classifier whose predictions.probs break ties; NULL: each classifier on its own
-- needs: tables
WITH votes AS MATERIALIZED (
    SELECT * FROM consensus_votes(model_name := model_name)
),
counts AS MATERIALIZED (            -- votes per (image, class) with the classifier's probability of the class
    SELECT v.model, v.image_id, v.class, v.k, count(*) AS votes, any_value(p.p) AS p
    FROM votes v JOIN consensus_probs(model_name := model_name) p USING (model, image_id, class)
    GROUP BY ALL
),
modes AS MATERIALIZED (             -- the most voted classes of each image
    SELECT *, count(*) OVER (PARTITION BY model, image_id) AS n_modes
    FROM (FROM counts QUALIFY votes = max(votes) OVER (PARTITION BY model, image_id))
),
by_model AS (          -- tie-break 1: the classifier's most probable of the modes
    SELECT *, count(*) OVER (PARTITION BY model, image_id) AS n_left
    FROM (FROM modes QUALIFY p = max(p) OVER (PARTITION BY model, image_id))
),
frequency AS (         -- how often each class was voted, all images together
    SELECT model, class, sum(votes) AS total FROM counts GROUP BY ALL
),
by_frequency AS MATERIALIZED (      -- tie-break 2: the least frequent class
    SELECT *, count(*) OVER (PARTITION BY model, image_id) AS n_left2
    FROM (SELECT b.* FROM by_model b JOIN frequency f USING (model, class)
          QUALIFY f.total = min(f.total) OVER (PARTITION BY b.model, b.image_id))
),
untied AS (            -- each annotator's agreement with the images that had one mode
    SELECT v.model, v.annotator, avg((v.class = m.class)::INTEGER) AS agreement
    FROM votes v JOIN modes m USING (model, image_id) WHERE m.n_modes = 1
    GROUP BY ALL
),
annotator_agreement AS (   -- annotators without an untied image get the mean of the others
    SELECT a.model, a.annotator, coalesce(u.agreement, avg(u.agreement) OVER (PARTITION BY a.model)) AS agreement
    FROM (SELECT DISTINCT model, annotator FROM votes) a LEFT JOIN untied u USING (model, annotator)
),
by_annotators AS (     -- tie-break 3: the class whose voters agree most with the untied votes; then the lowest index
    SELECT *, count(*) OVER (PARTITION BY model, image_id) AS n_left3
    FROM (
        SELECT b.model, b.image_id, b.class, b.k, b.n_modes, b.n_left, b.n_left2, avg(a.agreement) AS score
        FROM by_frequency b
        JOIN votes v ON v.model = b.model AND v.image_id = b.image_id AND v.class = b.class
        JOIN annotator_agreement a ON a.model = v.model AND a.annotator = v.annotator
        GROUP BY b.model, b.image_id, b.class, b.k, b.n_modes, b.n_left, b.n_left2
        QUALIFY score = max(score) OVER (PARTITION BY b.model, b.image_id)
    )
),
chosen AS (
    SELECT model, image_id, arg_min(class, k) AS consensus_class, min(k) AS consensus_k,
           CASE WHEN any_value(n_modes) = 1 THEN 'majority' WHEN any_value(n_left) = 1 THEN 'model'
                WHEN any_value(n_left2) = 1 THEN 'class_frequency' WHEN any_value(n_left3) = 1 THEN 'annotator_agreement'
                ELSE 'lowest_class' END AS decided_by
    FROM by_annotators GROUP BY ALL
)
SELECT c.model, c.image_id, any_value(v.num_annotations) AS num_annotations, c.consensus_class, c.consensus_k,
       avg((v.class = c.consensus_class)::INTEGER) AS annotator_agreement, c.decided_by
FROM chosen c JOIN votes v USING (model, image_id)
GROUP BY c.model, c.image_id, c.consensus_class, c.consensus_k, c.decided_by
