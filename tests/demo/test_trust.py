"""How far the demo can be trusted, computed from its truth tables (qmdb.demo.trust), on the demo
and on a second seeded scene set the views' defaults were not chosen on."""

import duckdb
import pytest

from qmdb.demo import build, trust

SECOND_SEED = 7          # another scene set: other scenes, faults and flips, another detector run
DETECTION_VIEWS = ("errors_class_swaps", "errors_bad_boxes", "errors_missing_labels")


@pytest.fixture(scope="module")
def second_seed_db(request, tmp_path_factory):
    """The demo built from another seed, without post-import steps (the checked views read tables)."""
    key = f"qmdb-demo-data-seed{SECOND_SEED}"
    cache = getattr(request.config, "cache", None)
    data = cache.mkdir(key) if cache is not None else tmp_path_factory.mktemp("demo-data") / key
    return build(tmp_path_factory.mktemp("second") / "demo.duckdb", data, post_import=False, seed=SECOND_SEED,
                 say=lambda *_: None)


@pytest.fixture(params=["demo", "second_seed"])
def con(request, demo_db):
    path = demo_db if request.param == "demo" else request.getfixturevalue("second_seed_db")
    connection = duckdb.connect(str(path), read_only=True)
    yield connection
    connection.close()


def quality(con) -> dict:
    return {q["view"]: q for q in trust.views_quality(con)}


@pytest.mark.slow
def test_detector_scores_are_calibrated(con):
    calibration = trust.detector_calibration(con)
    assert calibration["predictions"] > 300
    assert calibration["ece"] <= 0.1, calibration
    # a calibrated score says how often it is right: the confident ones are mostly right
    right = con.execute(
        "WITH " + trust.OBJECTS + " SELECT avg((tp.prediction_id IS NOT NULL)::INT) FROM predictions p "
        "LEFT JOIN true_positives tp USING (prediction_id) WHERE p.model = $model AND p.score >= 0.8",
        {"model": "detector"}).fetchall()[0][0]
    assert right >= 0.7


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="the demo detector finds 0.58-0.61 of the digits by day and 0.50-0.51 at "
                                       "night (targets 0.8 / 0.6). Where the rest is lost, measured on 120 demo "
                                       "scenes (367 digits): no proposal at IoU 0.5 for 0.16-0.20 (half of them "
                                       "broken or merged, best IoU 0.3-0.5; faint and blurred ones most); calibrated "
                                       "score under MIN_SCORE 0.12; right box, wrong digit 0.05; candidate score, "
                                       "MAX_PER_IMAGE and NMS 0.08 together. The classifier is right on 0.79-0.83 "
                                       "of true boxes and 0.76 of covering proposals; an MLP in place of the LDA "
                                       "does no better (0.75)")
def test_detector_recall_by_time_of_day(con):
    recall = {r["time_of_day"]: r["recall"] for r in trust.detector_recall(con)}
    assert recall["day"] >= 0.8 and recall["night"] >= 0.6, recall


@pytest.mark.slow
@pytest.mark.parametrize("view", ["errors_duplicate_boxes", "errors_classification"])
def test_top_rows_are_real_faults(con, view):
    q = quality(con)[view]
    assert q["top10_precision"] >= 0.5, q
    assert q["recall"] is not None and q["recall"] >= 0.5, q


def both(demo_db, second_seed_db) -> list[dict]:
    """`quality` on the demo and on the second seed."""
    out = []
    for path in (demo_db, second_seed_db):
        connection = duckdb.connect(str(path), read_only=True)
        try:
            out.append(quality(connection))
        finally:
            connection.close()
    return out


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="these views read the detector, which finds only 1-3 of the 6 faulty "
                                       "objects of each kind confidently: top-10 precision 0.4 and 0.2 (class swaps), "
                                       "0.33 and 0.5 (bad boxes), 0.2 and 0.1 (missing labels) on the two seeds")
@pytest.mark.parametrize("view", DETECTION_VIEWS)
def test_detection_views_top_rows_are_real_faults(demo_db, second_seed_db, view):
    measured = [q[view] for q in both(demo_db, second_seed_db)]
    assert all(q["top10_precision"] >= 0.5 for q in measured), measured


@pytest.mark.slow
def test_detection_views_rank_real_faults_above_model_mistakes(demo_db, second_seed_db):
    """At their defaults the two views are short lists a user reads, with a real fault in every few
    rows (they were 60-80 rows with 6 real ones under the old detector), on both seeds."""
    for q in (qs[v] for qs in both(demo_db, second_seed_db) for v in ("errors_class_swaps", "errors_bad_boxes")):
        assert q["found"] >= 1 and q["rows"] <= 30 and q["precision"] >= 0.15, q


@pytest.mark.slow
def test_every_view_reports_precision_and_recall(con):
    rows = trust.views_quality(con)
    assert {r["view"] for r in rows} == {c.view for c in trust.CHECKS}
    for r in rows:
        assert r["faults"] > 0 and 0 <= r["found"] <= r["faults"] and r["real"] <= r["rows"]
        assert r["recall"] == r["found"] / r["faults"]


def test_report_prints_the_figures(demo_db, capsys):
    connection = duckdb.connect(str(demo_db), read_only=True)
    try:
        trust.show(connection)
    finally:
        connection.close()
    out = capsys.readouterr().out
    for expected in ("recall at IoU 0.5", "expected calibration error", "top-10 precision", *DETECTION_VIEWS):
        assert expected in out
