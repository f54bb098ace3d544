"""`qmdb report`: counts per issue type and severity, worst examples, the next command; text and HTML."""

import re

import qmdb
from qmdb.cli import main
from qmdb.health import synthetic
from qmdb.health import report


def test_summary_counts_match_the_view(planted):
    con, ids = planted
    summaries = {s.issue_type: s for s in report.summarize(con, examples=3)}
    assert summaries["dark"].issues == len(ids["degraded"])
    assert summaries["exact_duplicates"].issues == 2 * len(ids["copies"])
    worst = summaries["dark"].worst
    assert len(worst) == 3 and [w["score"] for w in worst] == sorted(w["score"] for w in worst)
    assert {w["item_id"] for w in worst} <= set(ids["degraded"])
    assert "issues_dark" in summaries["dark"].next_command


def test_text_report_on_the_terminal(db_path, capsys):
    con = qmdb.connect(db_path)
    synthetic.project(con, 500, seed=3, degraded=7)
    con.close()
    assert main(["report", str(db_path), "--dataset", "synthetic", "--examples", "2"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^dark\s+7\s+7\s+500\s+image$", out, re.M)
    assert "next: qmdb gallery" in out and "bright end" in out


def test_html_report_embeds_thumbnails(photo_project, tmp_path, capsys):
    con, _ = photo_project
    summaries = report.summarize(con, dataset="photos", examples=2)
    out = tmp_path / "report.html"
    report.write(con, out, summaries, title="photos")
    page = out.read_text()
    shown = {w["image_id"] for s in summaries for w in s.worst}
    assert page.count("data:image/jpeg;base64,") == sum(len(s.worst) for s in summaries) and len(shown) > 5
    assert "<script" not in page and "http" not in page


def test_nothing_to_report(con):
    assert report.text(report.summarize(con), title="empty").endswith("no issues found")


def test_missing_views_are_one_clear_line(con):
    import pytest

    from qmdb.errors import QmdbError

    con.execute("DROP MACRO TABLE data_issues")
    with pytest.raises(QmdbError, match="qmdb init"):
        report.summarize(con, db="project.duckdb")
