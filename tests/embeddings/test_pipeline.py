"""The embedding run: incremental, resumable, bad images as errors rows, box crops."""

import pytest

import qmdb
from qmdb.embeddings import BuiltinEmbedder

from .conftest import add_dataset, digit_images, photographs


@pytest.fixture
def project(tmp_path):
    con = qmdb.connect(tmp_path / "p.duckdb")
    images, target = digit_images()
    add_dataset(con, tmp_path, "digits", images[:120], classes=target[:120])
    yield con, tmp_path
    con.close()


def test_second_run_writes_nothing_and_rows_are_unique(project):
    con, _ = project
    first = qmdb.embed(con, progress=False)
    second = qmdb.embed(con, progress=False)
    assert first.written["image"] == 120 and second.written["image"] == 0
    assert con.sql("SELECT count(*), count(DISTINCT item_id), min(len(vector)), max(len(vector)) "
                   "FROM embeddings").fetchall() == [(120, 120, BuiltinEmbedder.dim, BuiltinEmbedder.dim)]


class Interrupting(BuiltinEmbedder):
    """The built-in model, but the second batch is interrupted (as by Ctrl-C)."""

    calls = 0
    embed_in_workers = False  # one batch a chunk, in the main thread

    def embed_images(self, images):
        Interrupting.calls += 1
        if Interrupting.calls == 2:
            raise KeyboardInterrupt
        return super().embed_images(images)


def test_interrupted_run_keeps_committed_chunks_and_resumes(project):
    con, _ = project
    with pytest.raises(KeyboardInterrupt):
        qmdb.embed(con, Interrupting(), chunk_size=50, progress=False)
    assert con.sql("SELECT count(*) FROM embeddings").fetchall() == [(50,)]
    resumed = qmdb.embed(con, chunk_size=50, progress=False)
    assert resumed.written["image"] == 70
    assert con.sql("SELECT count(DISTINCT item_id), count(*) FROM embeddings").fetchall() == [(120, 120)]


def test_broken_image_is_an_errors_row_and_is_not_retried(project):
    con, root = project
    (root / "digits" / "00003.png").write_bytes(b"not a png")
    (root / "digits" / "00004.png").unlink()
    report = qmdb.embed(con, progress=False)
    assert report.written["image"] == 118 and report.errors == 2
    rows = con.sql("SELECT i.path, e.stage, e.message FROM errors e JOIN images i USING (image_id) "
                   "ORDER BY 1").fetchall()
    assert [(p, s) for p, s, _ in rows] == [("00003.png", "embed"), ("00004.png", "embed")]
    assert "cannot decode" in rows[0][2] and "file not found" in rows[1][2]
    assert qmdb.embed(con, progress=False).errors == 0
    assert con.sql("SELECT count(*) FROM errors").fetchall() == [(2,)]


def test_label_and_prediction_boxes_get_crop_embeddings(tmp_path):
    con = qmdb.connect(tmp_path / "p.duckdb")
    photos = photographs()[:3]
    boxes = [(0, "a", (10, 20, 100, 80)), (0, "b", (200, 100, 60, 60)), (1, "a", (5, 5, 50, 50)),
             (2, "c", (5000, 5000, 10, 10))]
    add_dataset(con, tmp_path, "scenes", photos, boxes=boxes)
    con.execute("INSERT INTO models (model, task) VALUES ('det', 'detection')")
    con.execute("INSERT INTO predictions (model, image_id, class, score, x, y, w, h, source_id) "
                "SELECT 'det', image_id, class, 0.9, x + 3, y + 3, w, h, source_id FROM labels")
    report = qmdb.embed(con, labels=True, neighbors=2, progress=False)
    assert report.written == {"image": 3, "label": 3, "prediction": 3}
    assert report.errors == 2  # the box outside its image, as a label and as a prediction
    assert con.sql("SELECT count(*) FROM errors WHERE message LIKE '%box outside the image'").fetchall() == [(2,)]
    # A prediction shifted by 3 px is the nearest prediction-space item to... its own label's crop.
    label_vec = con.sql("SELECT e.vector FROM embeddings e JOIN labels l ON e.item_id = l.label_id "
                        "WHERE e.item_type = 'label' AND l.x = 200").fetchall()[0][0]
    nearest = con.sql("SELECT p.x FROM similar_to_vector(?::FLOAT[], k := 1, item_type := 'prediction') s "
                      "JOIN predictions p ON p.prediction_id = s.item_id", params=[label_vec]).fetchall()
    assert nearest == [(203.0,)]
    assert con.sql("SELECT item_type, count(*) FROM neighbors GROUP BY 1 ORDER BY 1").fetchall() == [
        ("image", 6), ("label", 6), ("prediction", 6)]
    again = qmdb.embed(con, labels=True, progress=False)
    assert sum(again.written.values()) == 0 and again.errors == 0


class InMainThread(BuiltinEmbedder):
    embed_in_workers = False


def test_embedding_in_the_decoding_threads_writes_the_vectors_of_one_batch_a_chunk(project):
    con, _ = project
    assert BuiltinEmbedder.embed_in_workers
    qmdb.embed(con, chunk_size=50, workers=3, progress=False)
    con.execute("CREATE TABLE threaded AS SELECT item_id, vector FROM embeddings")
    con.execute("DELETE FROM embeddings")
    report = qmdb.embed(con, InMainThread(), chunk_size=50, progress=False)
    assert report.written["image"] == 120
    assert con.sql("SELECT count(*), max(list_cosine_similarity(t.vector, e.vector)), "
                   "min(list_cosine_similarity(t.vector, e.vector)) FROM threaded t JOIN embeddings e "
                   "USING (item_id)").fetchall() == [(120, 1.0, 1.0)]
