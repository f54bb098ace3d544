"""The CleanVision-style flags and the IQR outliers on planted faults, and nothing on a clean control."""

import numpy as np
import pytest


def flagged(con, view, **params):
    args = ", ".join(f"{k} := {v!r}" for k, v in params.items())
    return sorted(r[0] for r in con.sql(f"SELECT item_id FROM {view}({args}) WHERE is_issue").fetchall())


@pytest.mark.parametrize("view", ["issues_dark", "issues_blurry"])
def test_darkened_blurred_subset_is_found(planted, view):
    con, ids = planted
    assert flagged(con, view) == ids["degraded"]


@pytest.mark.parametrize("view", ["issues_dark", "issues_light", "issues_blurry", "issues_low_information",
                                  "issues_exact_duplicates", "issues_near_duplicates", "issues_odd_aspect_ratio",
                                  "issues_odd_size"])
def test_clean_control_has_no_flags(clean, view):
    assert flagged(clean, view) == []


def test_copies_are_exact_duplicates_in_pairs(planted):
    con, ids = planted
    rows = con.sql("SELECT item_id, score FROM issues_exact_duplicates() WHERE is_issue").fetchall()
    assert {i for i, _ in rows} >= set(ids["copies"]) and len(rows) == 2 * len(ids["copies"])
    assert {s for _, s in rows} == {0.5}


def test_thresholds_are_parameters(planted):
    con, _ = planted
    strict, loose = len(flagged(con, "issues_dark", threshold=0.5)), len(flagged(con, "issues_dark", threshold=0.1))
    assert strict > loose


@pytest.mark.parametrize("max_distance", [0, 1, 3, 7])
def test_near_duplicates_match_brute_force(con, max_distance):
    rng = np.random.default_rng(max_distance)
    base = rng.integers(0, 2**63, 300, dtype=np.int64).astype(np.uint64)
    flips = (np.uint64(1) << rng.integers(0, 64, (300, 4)).astype(np.uint64))
    near = base ^ np.bitwise_xor.reduce(flips[:, : rng.integers(1, 5)], axis=1)
    hashes = np.concatenate([base, near[:100]])
    con.execute("INSERT INTO datasets (name, root, format) VALUES ('h', '', 'table')")
    con.executemany("INSERT INTO images (image_id, dataset, path, sha256) VALUES (?, 'h', ?, ?)",
                    [[i + 1, f"{i}.png", f"s{i}"] for i in range(len(hashes))])
    con.executemany("INSERT INTO image_metrics (image_id, phash, versions) VALUES (?, ?, MAP {})",
                    [[i + 1, int(h)] for i, h in enumerate(hashes)])
    distance = np.array([[bin(int(a) ^ int(b)).count("1") for b in hashes] for a in hashes])
    np.fill_diagonal(distance, 99)
    expected = sorted(int(i) + 1 for i in np.flatnonzero((distance <= max_distance).any(axis=1)))
    assert flagged(con, "issues_near_duplicates", max_distance=max_distance) == expected


def test_iqr_outliers_follow_the_rule(planted):
    con, _ = planted
    values = np.array([v for (v,) in con.sql("SELECT sharpness FROM image_metrics ORDER BY image_id").fetchall()])
    q1, q3 = np.percentile(values, [25, 75])
    expected = sorted(int(i) + 1 for i in np.flatnonzero((values < q1 - 2.5 * (q3 - q1)) | (values > q3 + 2.5 * (q3 - q1))))
    got = sorted(r[0] for r in con.sql("SELECT item_id FROM issues_outliers(iqr_factor := 2.5) "
                                        "WHERE is_issue AND issue_type = 'outlier_sharpness'").fetchall())
    assert got and got == expected
    scores = [s for (s,) in con.sql("SELECT score FROM issues_outliers()").fetchall()]
    assert min(scores) >= 0 and max(scores) == 1
