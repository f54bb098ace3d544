"""Similarity search in SQL: composes with joins and filters, on connections, cursors and read-only files."""

import numpy as np
import pytest



def _brute_force(con, image_id, k):
    rows = con.sql("SELECT item_id, vector FROM embeddings WHERE item_type = 'image' ORDER BY item_id").fetchall()
    ids = np.array([r[0] for r in rows])
    vectors = np.array([r[1] for r in rows], np.float32)
    query = vectors[ids == image_id][0]
    distance = 1 - vectors @ query
    order = [i for i in np.argsort(distance) if ids[i] != image_id][:k]
    return ids[order].tolist(), distance[order]


def test_similar_images_matches_brute_force(digits_ro):
    con = digits_ro
    rows = con.sql("SELECT image_id, distance, rank FROM similar_images(42, k := 20)").fetchall()
    ids, distances = _brute_force(con, 42, 20)
    assert [r[2] for r in rows] == list(range(1, 21))
    assert len(set(r[0] for r in rows) & set(ids)) >= 19
    np.testing.assert_allclose([r[1] for r in rows][:5], distances[:5], atol=1e-4)


def test_similar_images_composes_with_joins_and_filters(digits_ro):
    con = digits_ro
    joined = con.sql("""
        SELECT s.image_id, s.rank, l.class FROM similar_images(42, k := 20) s
        JOIN labels l USING (image_id) WHERE l.class = (SELECT class FROM labels WHERE image_id = 42)
        ORDER BY s.rank""").fetchall()
    assert 15 <= len(joined) <= 20
    same_class = con.sql("SELECT count(*) FROM similar_images(42, k := 20) JOIN images USING (image_id) "
                         "WHERE dataset = 'digits'").fetchall()
    assert same_class == [(20,)]


def test_macros_work_from_cursors_and_read_only_connections(digits_ro):
    con = digits_ro
    cursor = con.cursor()
    assert len(cursor.sql("SELECT * FROM similar_images(7, k := 4, model_name := 'builtin-hog-v1')").fetchall()) == 4
    vector = con.sql("SELECT vector FROM embeddings WHERE item_id = 7").fetchall()[0][0]
    nearest = cursor.sql("SELECT item_id, distance FROM similar_to_vector(?::FLOAT[], k := 1)", params=[vector])
    [(item_id, distance)] = nearest.fetchall()
    assert item_id == 7 and distance == pytest.approx(0, abs=1e-5)


def test_text_search_needs_a_text_tower_and_says_so(digits_ro):
    con = digits_ro
    with pytest.raises(Exception, match="no text tower"):
        con.sql("SELECT * FROM similar_to_text('a handwritten seven')").fetchall()


def test_search_without_embeddings_is_a_clear_error(con):
    with pytest.raises(Exception, match="no image embeddings yet"):
        con.sql("SELECT * FROM similar_images(1)").fetchall()


def test_unknown_image_gives_no_rows(digits_ro):
    con = digits_ro
    assert con.sql("SELECT * FROM similar_images(999999)").fetchall() == []
