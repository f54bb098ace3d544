"""Plots: each data function against its view (or an independent SQL count), and each kind written
as a real, non-blank PNG (and SVG by suffix) through Python and the CLI."""

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="plots need the 'plot' extra")

from PIL import Image  # noqa: E402

from qmdb import plots, views  # noqa: E402
from qmdb.cli import main  # noqa: E402


def _non_blank_png(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = np.asarray(Image.open(path).convert("L"), dtype=float)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 200 and pixels.std() > 10


def test_confusion_numbers_are_the_views(review_con):
    names, counts = plots.confusion_data(review_con, "detector", min_score=0.5)
    rows = views.run(review_con, "eval_confusion", model_name="detector", min_score=0.5).fetchall()
    assert names[-1] == "background" and counts.sum() == sum(r[3] for r in rows)
    for model, true, predicted, count, _ in rows:
        assert counts[names.index(true), names.index(predicted)] == count
    labels = review_con.execute("SELECT count(*) FROM labels l JOIN images i USING (image_id) "
                                "WHERE i.dataset = 'scenes' AND l.w IS NOT NULL AND NOT l.iscrowd").fetchall()[0][0]
    assert counts[:-1].sum() == labels  # every non-background row is one label


def test_pr_curve_ends_at_the_recall_of_eval_per_class(review_con):
    curves = plots.pr_data(review_con, "detector", 0.5)
    per_class = {r[0]: r[1:] for r in review_con.sql(
        "SELECT class, recall, labels, tp + fp FROM eval_per_class(model_name := 'detector', min_score := 0.0)").fetchall()}
    assert set(curves) == set(per_class)
    for cls, curve in curves.items():
        recall, labels, predictions = per_class[cls]
        assert curve["labels"] == labels and len(curve["precision"]) == predictions
        assert curve["recall"][-1] == pytest.approx(recall)
        assert np.all(np.diff(curve["recall"]) >= 0) and np.all(np.diff(curve["score"]) <= 0)
        assert 0 <= curve["ap"] <= 1


def test_histogram_groups_count_every_value(review_con):
    groups = plots.histogram_data(review_con, "brightness", by="split")
    expected = dict(review_con.execute("SELECT coalesce(split, '(no split)'), count(*) FROM image_metrics "
                                       "JOIN images USING (image_id) WHERE isfinite(brightness) GROUP BY 1").fetchall())
    assert {k: len(v) for k, v in groups.items()} == expected
    by_class = plots.histogram_data(review_con, "box_area", by="class")
    assert sum(map(len, by_class.values())) == review_con.execute(
        "SELECT count(*) FROM label_metrics WHERE isfinite(box_area)").fetchall()[0][0]


def test_scatter_pairs_each_label_with_its_image(review_con):
    groups = plots.scatter_data(review_con, "brightness", "box_area", by="none")
    points = groups["all"]
    expected = review_con.execute(
        "SELECT count(*), sum(im.brightness), sum(lm.box_area) FROM labels l JOIN image_metrics im USING (image_id) "
        "JOIN label_metrics lm USING (label_id) WHERE isfinite(im.brightness) AND isfinite(lm.box_area)").fetchall()[0]
    assert len(points) == expected[0]
    assert points[:, 0].sum() == pytest.approx(expected[1]) and points[:, 1].sum() == pytest.approx(expected[2])


def test_by_metric_and_importance_rows_are_the_views(review_con):
    rows = plots.by_metric_data(review_con, "brightness", "detector", bins=3)
    view = views.run(review_con, "eval_by_metric", metric_name="brightness", model_name="detector", bins=3)
    assert [(r["bin"], r["recall"]) for r in rows] == [(r[3], r[8]) for r in view.fetchall()]
    top = plots.importance_data(review_con, "detector", "recall", top=5)
    assert [r["rank"] for r in top] == sorted(r["rank"] for r in top) and len(top) == 5
    mi = [r["mutual_information"] for r in top]
    assert mi == sorted(mi, reverse=True)


@pytest.mark.parametrize("kind,given", [
    ("histogram", {"metric": "brightness", "by": "class"}),
    ("scatter", {"x": "brightness", "y": "sharpness"}),
    ("by-metric", {"metric": "brightness", "model": "detector"}),
    ("importance", {"model": "detector"}),
    ("confusion", {"model": "digits-logreg"}),
    ("pr", {"model": "detector"}),
])
def test_each_kind_writes_a_png(review_con, tmp_path, kind, given):
    path = plots.draw(review_con, kind, tmp_path / f"{kind}.png", **given)
    _non_blank_png(path)


def test_svg_by_suffix_and_bad_input(review_con, tmp_path):
    svg = plots.draw(review_con, "confusion", tmp_path / "c.svg", model="detector")
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    with pytest.raises(plots.PlotError, match="no metric named 'nope'"):
        plots.draw(review_con, "histogram", tmp_path / "h.png", metric="nope")
    with pytest.raises(plots.PlotError, match="must end in"):
        plots.draw(review_con, "pr", tmp_path / "p.txt")
    with pytest.raises(plots.PlotError, match="model 'ghost' has no matches"):
        plots.draw(review_con, "pr", tmp_path / "p.png", model="ghost")


def test_cli_plot(review_db, tmp_path, capsys):
    out = tmp_path / "recall_by_brightness.png"
    assert main(["plot", str(review_db), "by-metric", "--metric", "brightness", "--bins", "3", "-o", str(out)]) == 0
    _non_blank_png(out)
    assert f"wrote {out}" in capsys.readouterr().out
