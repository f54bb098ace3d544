"""Leaky splits, class imbalance, missing classes and underperforming groups on planted structure."""

import numpy as np
import pyarrow as pa
from scipy.stats import norm


def test_planted_copies_across_splits_are_leaks(planted, clean):
    con, ids = planted
    rows = con.sql("SELECT image_b, split_a, split_b FROM splits_leaks() WHERE method = 'sha256'").fetchall()
    assert sorted(b for b, _, _ in rows) == ids["copies"]
    assert all(a == "train" and b in ("val", "test") for _, a, b in rows)
    assert clean.sql("SELECT count(*) FROM splits_leaks()").fetchall() == [(0,)]


def test_near_duplicate_leak_by_phash(planted):
    con, _ = planted
    # image 2's hash, one bit off, on an image of another split and other bytes
    a, b = con.sql("SELECT a.image_id, b.image_id FROM images a JOIN images b ON a.split = 'train' AND b.split = 'test' "
                   "ORDER BY a.image_id, b.image_id LIMIT 1").fetchall()[0]
    con.execute("UPDATE image_metrics SET phash = xor((SELECT phash FROM image_metrics WHERE image_id = ?), 4::UBIGINT) "
                "WHERE image_id = ?", [a, b])
    assert con.sql("SELECT image_a, image_b FROM splits_leaks() WHERE method = 'phash'").fetchall() == []
    assert con.sql("SELECT image_a, image_b FROM splits_leaks(max_distance := 1) WHERE method = 'phash'"
                   ).fetchall() == [(a, b)]


def test_class_removed_from_a_split_is_found(planted, clean):
    con, _ = planted
    assert con.sql("SELECT missing_from, class FROM splits_missing_classes()").fetchall() == [("test", "c3")]
    assert clean.sql("SELECT count(*) FROM splits_missing_classes()").fetchall() == [(0,)]


def test_class_balance_follows_datalab_rule(planted):
    con, _ = planted
    con.execute("DELETE FROM labels WHERE class = 'c9' AND image_id IN (SELECT image_id FROM images WHERE split = 'train') "
                "AND label_id % 10 <> 0")
    rows = con.sql("SELECT split, class, share, is_rare FROM splits_class_balance()").fetchall()
    assert {(s, c) for s, c, _, rare in rows if rare} == {(s, c) for s, c, share, _ in rows if share < 0.1 / 10}
    assert ("train", "c9") in {(s, c) for s, c, _, rare in rows if rare}


def test_underperforming_group_is_found(con):
    rng = np.random.default_rng(0)
    n = 600
    camera = rng.choice(["a", "b", "c"], n)
    given = rng.choice(["x", "y"], n)
    good = np.where(camera == "c", rng.random(n) < 0.55, rng.random(n) < 0.9)
    p = np.where(good, rng.uniform(0.6, 1, n), rng.uniform(0, 0.4, n))
    con.register("t", pa.table({"image_id": np.arange(1, n + 1), "camera": camera, "y": given, "p": p,
                                "pred": np.where(good, given, np.where(given == "x", "y", "x"))}))
    con.execute("INSERT INTO datasets (name, root, format) VALUES ('d', '', 'table')")
    con.execute("ALTER TABLE images ADD COLUMN camera VARCHAR")
    con.execute("INSERT INTO images (image_id, dataset, path, camera) SELECT image_id, 'd', image_id::VARCHAR, camera FROM t")
    con.execute("INSERT INTO labels (image_id, class, source_id) SELECT image_id, y, '0' FROM t")
    con.execute("INSERT INTO predictions (model, image_id, class, score, probs, source_id) SELECT 'm', image_id, pred, "
                "greatest(p, 1 - p), MAP {y: p, (CASE WHEN y = 'x' THEN 'y' ELSE 'x' END): 1 - p}, '0' FROM t")
    rows = con.sql("SELECT group_value, accuracy, rest_accuracy, images, p_value, is_issue "
                   "FROM splits_underperforming_groups(group_column := 'camera')").fetchall()
    assert [r[0] for r in rows if r[-1]] == ["c"]
    for _, acc, rest, k, p_value, _ in rows:
        pooled = (acc * k + rest * (n - k)) / n
        z = (acc - rest) / np.sqrt(pooled * (1 - pooled) * (1 / k + 1 / (n - k)))
        assert abs(p_value - norm.cdf(z)) < 1e-6
    # the same accuracy everywhere: nothing
    con.execute("UPDATE images SET camera = 'a'")
    assert con.sql("SELECT count_if(is_issue) FROM splits_underperforming_groups(group_column := 'camera')"
                   ).fetchall() == [(0,)]
