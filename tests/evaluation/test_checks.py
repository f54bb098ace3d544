"""Slice checks: stored, run on the demo (passing and failing), JUnit XML, baselines, intervals, support."""

import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import qmdb
from qmdb.cli import main
from qmdb.errors import QmdbError
from qmdb.evaluation import add_check, figures, junit_xml, list_checks, remove_check, run_checks


@pytest.fixture
def demo(demo_db, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    return path


def _statuses(results):
    return {(r.check_name, r.model): r.status for r in results}


def test_checks_on_the_demo_pass_and_fail(demo):
    con = qmdb.connect(demo)
    ap50 = figures(con, "detector", where="camera = 'cam-a'").values["ap50"][0]
    add_check(con, "ap50_cam_a", "ap50", slice="camera = 'cam-a'", model="detector", threshold=ap50 - 0.05)
    add_check(con, "ap50_cam_a_high", "ap50", slice="camera = 'cam-a'", model="detector", threshold=ap50 + 0.05)
    add_check(con, "digits_accuracy", "accuracy", model="digits-logreg", threshold=0.5)
    results = run_checks(con)
    assert _statuses(results) == {("ap50_cam_a", "detector"): "pass", ("ap50_cam_a_high", "detector"): "fail",
                                  ("digits_accuracy", "digits-logreg"): "pass"}
    stored = con.sql("SELECT check_name, status, value FROM check_runs ORDER BY 1").fetchall()
    assert [s[:2] for s in stored] == [("ap50_cam_a", "pass"), ("ap50_cam_a_high", "fail"), ("digits_accuracy", "pass")]
    assert abs(stored[0][2] - ap50) < 1e-12
    assert [c.name for c in list_checks(con)] == ["ap50_cam_a", "ap50_cam_a_high", "digits_accuracy"]
    remove_check(con, "ap50_cam_a_high")
    assert _statuses(run_checks(con)) == {("ap50_cam_a", "detector"): "pass", ("digits_accuracy", "digits-logreg"): "pass"}
    assert con.sql("SELECT count(DISTINCT run_id) FROM check_runs").fetchall() == [(2,)]
    con.close()


def test_whole_data_figures_equal_the_stored_evaluation(demo):
    con = qmdb.connect(demo)
    f = figures(con, "detector")
    summary = con.sql("SELECT ap, ap50, ap75 FROM eval_summary WHERE model = 'detector'").fetchall()[0]
    np.testing.assert_allclose([f.values[k][0] for k in ("ap", "ap50", "ap75")], summary, rtol=0, atol=1e-9)
    accuracy = con.sql("SELECT accuracy FROM eval_summary WHERE model = 'digits-logreg'").fetchall()[0][0]
    assert abs(figures(con, "digits-logreg").values["accuracy"][0] - accuracy) < 1e-12
    # the intervals hold the point, and the bootstrap is seeded
    for value, low, high in f.values.values():
        assert low <= value <= high
    assert figures(con, "detector", seed=3).values == figures(con, "detector", seed=3).values
    assert figures(con, "detector", seed=3).values != figures(con, "detector", seed=4).values
    con.close()


def test_the_interval_must_clear_the_bar_when_required(demo):
    con = qmdb.connect(demo)
    value, low, _ = figures(con, "detector", where="time_of_day = 'night'").values["recall"]
    bar = (value + low) / 2                                   # the point clears it, the interval's low end does not
    add_check(con, "night_point", "recall", slice="time_of_day = 'night'", model="detector", threshold=bar)
    add_check(con, "night_interval", "recall", slice="time_of_day = 'night'", model="detector", threshold=bar,
              require_interval=True)
    add_check(con, "night_support", "recall", slice="time_of_day = 'night'", model="detector", threshold=0.0,
              min_support=10_000)
    results = {r.check_name: r for r in run_checks(con)}
    assert results["night_point"].status == "pass"
    assert results["night_interval"].status == "fail" and "interval low" in results["night_interval"].reason
    assert results["night_support"].status == "fail" and "support" in results["night_support"].reason
    con.close()


def test_a_saved_view_is_a_slice(demo):
    con = qmdb.connect(demo)
    qmdb.save_view(con, "cam_b_images", "SELECT image_id FROM images WHERE camera = 'cam-b'", "Camera B.")
    add_check(con, "by_view", "recall", view="cam_b_images", model="detector", threshold=0.0)
    add_check(con, "by_where", "recall", slice="camera = 'cam-b'", model="detector", threshold=0.0)
    results = {r.check_name: r for r in run_checks(con)}
    assert results["by_view"].value == results["by_where"].value
    assert results["by_view"].images == results["by_where"].images > 0
    con.close()


def test_baseline_model_and_earlier_run(detection_project):
    con, _ = detection_project
    qmdb.evaluate(con, "det-model", progress=False)
    # a worse model: the same boxes with scores unrelated to their quality
    con.execute("INSERT INTO models (model, task, dataset) VALUES ('shuffled', 'detection', 'det')")
    con.execute("INSERT INTO predictions (prediction_id, model, image_id, class, score, x, y, w, h, source_id) "
                "SELECT prediction_id + 10000000, 'shuffled', image_id, class, (hash(prediction_id) % 1000) / 1000.0, x, y, w, h, source_id "
                "FROM predictions WHERE model = 'det-model'")
    qmdb.evaluate(con, "shuffled", progress=False)
    add_check(con, "no_regression", "ap", max_drop=0.01, baseline="det-model")
    results = _statuses(run_checks(con, model=["det-model", "shuffled"], run="candidate"))
    assert results == {("no_regression", "det-model"): "pass", ("no_regression", "shuffled"): "fail"}
    # an earlier run as the baseline: the same model against its own stored value passes
    again = run_checks(con, model="det-model", baseline="candidate")
    assert [r.status for r in again] == ["pass"] and again[0].baseline == "candidate"
    with pytest.raises(QmdbError, match="neither an evaluated model"):
        run_checks(con, model="det-model", baseline="no-such-run")
    con.execute("DELETE FROM checks")


def test_bad_checks_are_refused(con):
    with pytest.raises(QmdbError, match="unknown figure 'mAP'"):
        add_check(con, "x", "mAP", threshold=0.5)
    with pytest.raises(QmdbError, match="give a threshold"):
        add_check(con, "x", "ap")
    with pytest.raises(QmdbError, match="one SQL expression"):
        add_check(con, "x", "ap", threshold=0.5, slice="1 = 1; DROP TABLE labels")
    add_check(con, "x", "ap", threshold=0.5)
    with pytest.raises(QmdbError, match="exists"):
        add_check(con, "x", "ap", threshold=0.6)
    assert add_check(con, "x", "ap", threshold=0.6, replace=True).threshold == 0.6


def test_cli_prints_writes_junit_and_exits_non_zero(demo, tmp_path, capsys):
    con = qmdb.connect(demo)
    add_check(con, "recall_ok", "recall", model="detector", threshold=0.0)
    add_check(con, "recall_impossible", "recall", model="detector", threshold=1.01, description="cannot pass")
    add_check(con, "accuracy_all", "accuracy", threshold=0.0)      # skipped for the detector
    con.close()
    junit = tmp_path / "checks.xml"
    assert main(["check", str(demo), "--junit", str(junit), "--max-width", "250"]) == 1
    out = capsys.readouterr().out
    assert "recall_impossible" in out and "3 of 4 checks passed, 1 failed" in out
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert suite.get("tests") == str(len(cases)) == "4"
    assert suite.get("failures") == "1" and suite.get("skipped") == "1"
    failed = [c for c in cases if c.find("failure") is not None]
    assert [(c.get("name"), c.get("classname")) for c in failed] == [("recall_impossible", "qmdb.checks.detector")]
    assert "not >= 1.01" in failed[0].find("failure").get("message")
    skipped = [c.get("classname") for c in cases if c.find("skipped") is not None]
    assert skipped == ["qmdb.checks.detector"]
    assert main(["check", str(demo), "--check", "recall_ok"]) == 0
    assert junit_xml([]).startswith("<?xml")
