"""`data_issues`: one contract over the new flags and the existing error and selection views."""

import duckdb
import pytest

import qmdb
from qmdb.health import synthetic

CONTRACT = ["item_type", "item_id", "dataset", "issue_type", "score", "is_issue", "severity", "reason", "source_view"]


def test_contract_columns_and_score_range(planted):
    con, _ = planted
    assert [c[0] for c in con.sql("DESCRIBE SELECT * FROM data_issues()").fetchall()] == CONTRACT
    low, high, bad = con.sql("SELECT min(score), max(score), count_if(reason IS NULL OR item_id IS NULL) "
                             "FROM data_issues()").fetchall()[0]
    assert 0 <= low and high <= 1 and bad == 0


def test_planted_faults_rank_first_and_the_control_is_clean(planted, clean):
    con, ids = planted
    got = {t: sorted(i for (i,) in con.sql("SELECT item_id FROM data_issues() WHERE is_issue AND issue_type = ?",
                                           params=[t]).fetchall()) for t in ("dark", "blurry")}
    assert got == {"dark": ids["degraded"], "blurry": ids["degraded"]}
    flagged = {t for (t,) in clean.sql("SELECT DISTINCT issue_type FROM data_issues() WHERE is_issue").fetchall()}
    # the clean control: no CleanVision issue (its metrics are random, so the IQR rule still finds tails)
    assert not flagged - {t for t in flagged if t.startswith("outlier_") or t == "grayscale"}


def test_dataset_parameter_filters(planted):
    con, _ = planted
    synthetic.project(con, 0, dataset="empty")
    assert con.sql("SELECT count(*) FROM data_issues(dataset_name := 'empty')").fetchall() == [(0,)]
    assert con.sql("SELECT count(DISTINCT dataset) FROM data_issues()").fetchall() == [(1,)]


def test_existing_views_are_adapted(demo_db):
    con = qmdb.connect(demo_db, read_only=True)
    try:
        rows = dict(con.sql("SELECT source_view, count(*) FROM data_issues() WHERE source_view NOT LIKE 'issues_%' "
                            "GROUP BY ALL").fetchall())
        assert rows.get("select_broken") == con.sql("SELECT count(*) FROM select_broken").fetchall()[0][0] > 0
        expected = con.sql("SELECT count(*) FROM errors_missing_labels()").fetchall()[0][0]
        assert rows.get("errors_missing_labels", 0) == expected
        assert len(rows) >= 3
        assert con.sql("SELECT count_if(NOT is_issue) FROM data_issues() WHERE source_view NOT LIKE 'issues_%'"
                       ).fetchall() == [(0,)]
    finally:
        con.close()
