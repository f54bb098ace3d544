"""The usearch index file: built from the table, extended, rebuilt when stale — detected, not assumed."""

import json
import shutil

import numpy as np
import pytest

import qmdb
from qmdb.embeddings import index as vector_index

MODEL = "builtin-hog-v1"


@pytest.fixture
def project(digits_project, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(digits_project, path)
    shutil.copytree(digits_project.with_suffix(".qmdb"), path.with_suffix(".qmdb"))  # its index files
    con = qmdb.connect(path)
    yield con
    con.close()


def _meta(con):
    return json.loads(vector_index.index_path(con, MODEL, "image").with_suffix(".json").read_text())


def test_index_file_is_built_beside_the_database_and_matches_brute_force(project):
    con = project
    index = vector_index.ensure(con, MODEL, "image")
    path = vector_index.index_path(con, MODEL, "image")
    assert path.is_file()
    assert str(path).startswith(str(qmdb.database.sidecar_dir(con)))
    assert vector_index.status(con, MODEL, "image") == "fresh"
    ids, vectors = vector_index.load_vectors(con, MODEL, "image")
    keys, distances = vector_index.search(index, vectors[:50], 5, exclude=ids[:50])
    exact = 1 - vectors[:50] @ vectors.T
    exact[np.arange(50), np.arange(50)] = np.inf
    truth = ids[np.argsort(exact, axis=1)[:, :5]]
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(keys, truth)])
    assert recall >= 0.98
    hit = keys[:, 0] == truth[:, 0]  # the graph is approximate (a threaded build): its top-1 is the true one at recall's rate
    assert hit.mean() >= 0.98
    np.testing.assert_allclose(distances[hit, 0], np.sort(exact, axis=1)[hit, 0], atol=1e-4)


def test_new_rows_extend_the_index_and_deleted_rows_force_a_rebuild(project):
    con = project
    vector_index._CACHE.clear()
    con.execute("CREATE TEMP TABLE held AS SELECT * FROM embeddings WHERE item_id > 1700")
    con.execute("DELETE FROM embeddings WHERE item_id > 1700")
    assert vector_index.status(con, MODEL, "image") == "stale"
    assert len(vector_index.ensure(con, MODEL, "image")) == 1700  # rebuilt: rows were deleted
    assert _meta(con)["count"] == 1700
    con.execute("INSERT INTO embeddings SELECT * FROM held")
    vector_index._CACHE.clear()
    path, _ = vector_index.index_path(con, MODEL, "image"), None
    index, how = vector_index._from_file(con, path, MODEL, "image", vector_index.table_state(con, MODEL, "image"))
    assert how == "extended" and len(index) == 1797
    assert vector_index.status(con, MODEL, "image") == "fresh"


def test_changed_vectors_with_the_same_ids_are_detected(project):
    con = project
    vector_index.ensure(con, MODEL, "image")
    con.execute("UPDATE embeddings SET vector = list_reverse(vector) WHERE item_id = 5")
    assert vector_index.status(con, MODEL, "image") == "stale"
    vector_index._CACHE.clear()  # a new process
    index = vector_index.ensure(con, MODEL, "image")
    stored = con.sql("SELECT vector FROM embeddings WHERE item_id = 5").fetchall()[0][0]
    found, _ = vector_index.vectors_of(index, np.array([5]))
    np.testing.assert_allclose(found[0], stored, rtol=1e-6)
    assert vector_index.status(con, MODEL, "image") == "fresh"


def test_missing_index_file_is_rebuilt_by_a_search(project):
    con = project
    path = vector_index.index_path(con, MODEL, "image")
    vector_index._CACHE.clear()
    path.unlink()
    assert vector_index.status(con, MODEL, "image") == "missing"
    assert len(con.sql("SELECT * FROM similar_images(1, k := 3)").fetchall()) == 3
    assert path.is_file() and vector_index.status(con, MODEL, "image") == "fresh"


class _SlowGraph:
    """A graph stand-in that records the beam width each search walks at, and holds a narrow search."""

    def __init__(self, vectors):
        self.vectors, self.expansion_search, self.seen = vectors, 256, []
        self.narrow_started = __import__("threading").Event()

    def search(self, queries, count, threads=0):
        self.seen.append(self.expansion_search)
        if self.expansion_search < 256:
            self.narrow_started.set()
            __import__("time").sleep(0.3)
        keys = np.tile(np.arange(count, dtype=np.uint64), (len(queries), 1))
        return vector_index.Found(keys, np.zeros(keys.shape, np.float32), np.full(len(queries), count))


def test_a_narrow_search_does_not_change_the_width_a_concurrent_search_walks_at():
    import threading

    vectors = np.random.default_rng(0).standard_normal((100, 8)).astype(np.float32)
    graph = _SlowGraph(vectors)
    index = vector_index.VectorIndex(graph, np.arange(100), vectors)
    narrow = threading.Thread(target=index.search, args=(vectors[:2], 5), kwargs={"expansion": 64})
    narrow.start()
    graph.narrow_started.wait(5)
    index.search(vectors[:2], 5)
    narrow.join()
    assert graph.seen == [64, 256]
    assert index.expansion_search == 256
