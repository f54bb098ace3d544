"""Gallery cards: each row's image and focus item, every box on the image, predictions by score."""

import pytest

from qmdb import views
from qmdb.gallery import annotate


def test_label_rows_focus_their_label_and_carry_every_box(review_con):
    relation = views.run(review_con, "errors_class_swaps").limit(20)
    rows = relation.fetchall()
    cards = annotate(review_con, relation.columns, rows, min_score=0.5)
    assert len(cards) == len(rows) > 0
    label_ids = [r[relation.columns.index("label_id")] for r in rows]
    assert [c["focus_type"] for c in cards] == ["label"] * len(rows)
    assert [c["focus_id"] for c in cards] == label_ids
    expected = dict(review_con.execute(
        "SELECT image_id, count(*) FROM labels WHERE w IS NOT NULL AND image_id IN (SELECT image_id FROM labels "
        "WHERE list_contains($ids, label_id)) GROUP BY image_id", {"ids": label_ids}).fetchall())
    assert {c["image_id"]: len(c["labels"]) for c in cards} == expected
    for card in cards:
        assert card["focus_id"] in [b["id"] for b in card["labels"]]
        assert all(p["score"] >= 0.5 for p in card["predictions"])


def test_prediction_scores_follow_min_score(review_con):
    image_id = review_con.execute("SELECT image_id FROM predictions WHERE w IS NOT NULL GROUP BY image_id "
                                  "ORDER BY count(*) DESC, image_id LIMIT 1").fetchall()[0][0]
    for min_score in (0.0, 0.5, 0.9):
        card = annotate(review_con, ["image_id"], [[image_id]], min_score=min_score)[0]
        expected = review_con.execute("SELECT count(*) FROM predictions WHERE image_id = ? AND score >= ? "
                                      "AND w IS NOT NULL", [image_id, min_score]).fetchall()[0][0]
        assert card["focus_type"] == "image" and len(card["predictions"]) == expected


def test_a_focused_prediction_is_drawn_whatever_its_score(review_con):
    low = review_con.execute("SELECT prediction_id, image_id FROM predictions WHERE w IS NOT NULL "
                             "ORDER BY score LIMIT 1").fetchall()[0]
    card = annotate(review_con, ["prediction_id"], [[low[0]]], min_score=0.99)[0]
    assert (card["image_id"], card["focus_type"], card["focus_id"]) == (low[1], "prediction", low[0])
    assert low[0] in [p["id"] for p in card["predictions"]]


def test_classification_images_carry_their_class(review_con):
    image_id, cls = review_con.execute("SELECT image_id, class FROM labels WHERE w IS NULL LIMIT 1").fetchall()[0]
    card = annotate(review_con, ["image_id"], [[image_id]])[0]
    assert card["label_classes"] == [cls] and card["labels"] == []


def test_rows_without_ids_give_no_cards(review_con):
    assert annotate(review_con, ["class", "n"], [["3", 4]]) == []


def test_non_integer_ids_are_an_error(review_con):
    import duckdb

    with pytest.raises(duckdb.Error):
        annotate(review_con, ["image_id"], [["not an id"]])
