"""The int8 graph re-ranked with the exact vectors (exact distances, recall, memory-mapped files), and the
neighbour graph in chunks (an interrupted run resumes and never writes a row twice)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

import qmdb
import qmdb.transaction
from qmdb.embeddings import index as vector_index
from qmdb.embeddings import neighbors


def _vectors(n: int = 1500, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((30, dim)).astype(np.float32)
    v = centers[rng.integers(0, 30, n)] + 0.5 * rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _project(path, vectors: np.ndarray):
    con = qmdb.connect(path)
    dim = vectors.shape[1]
    batch = pa.table({"item_id": np.arange(1, len(vectors) + 1),
                      "vector": pa.ListArray.from_arrays(pa.array(np.arange(0, (len(vectors) + 1) * dim, dim, dtype=np.int32)),
                                                         pa.array(vectors.reshape(-1)))})
    con.register("b", batch)
    con.execute("INSERT INTO embeddings SELECT 'image', item_id, 'm', vector FROM b")
    con.unregister("b")
    return con


def test_search_returns_exact_distances_and_the_true_neighbours(tmp_path):
    vectors = _vectors()
    con = _project(tmp_path / "p.duckdb", vectors)
    index = vector_index.ensure(con, "m", "image")
    path = vector_index.index_path(con, "m", "image")
    assert path.with_suffix(".f32.npy").is_file() and path.with_suffix(".keys.npy").is_file()
    assert isinstance(index.vectors, np.memmap)           # the exact vectors are memory-mapped
    assert index.graph.dtype.name.lower().startswith("i8") or "i8" in str(index.graph.dtype).lower()
    queries = vectors[:200]
    keys, distances = vector_index.search(index, queries, 10, exclude=np.arange(1, 201))
    brute = 1 - queries.astype(np.float64) @ vectors.T.astype(np.float64)
    np.fill_diagonal(brute[:, :200], np.inf)
    truth = np.argsort(brute, axis=1, kind="stable")[:, :10] + 1
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(keys, truth)])
    assert recall >= 0.99
    np.testing.assert_allclose(distances, np.take_along_axis(brute, keys - 1, axis=1), atol=1e-6)
    assert (np.diff(distances, axis=1) >= 0).all()
    found, mask = vector_index.vectors_of(index, np.array([5, 10**9]))
    assert mask.tolist() == [True, False]
    np.testing.assert_array_equal(found[0], vectors[4])  # exact, not the int8 copy
    con.close()


@pytest.mark.parametrize("earlier", [{"dtype": "f32"}, {"connectivity": 16}, {"connectivity": None}])
def test_an_index_file_built_with_other_settings_is_rebuilt(tmp_path, earlier):
    con = _project(tmp_path / "p.duckdb", _vectors(300, 16))
    vector_index.ensure(con, "m", "image")
    path = vector_index.index_path(con, "m", "image")
    meta = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps({**meta, **earlier}))
    vector_index._CACHE.clear()
    assert vector_index.status(con, "m", "image") == "stale"
    vector_index.ensure(con, "m", "image")
    assert vector_index.status(con, "m", "image") == "fresh"
    assert json.loads(path.with_suffix(".json").read_text())["connectivity"] == vector_index.CONNECTIVITY
    con.close()
def test_an_interrupted_neighbour_run_resumes_at_the_first_unwritten_chunk(tmp_path, monkeypatch):
    vectors = _vectors(700, 32)
    con = _project(tmp_path / "p.duckdb", vectors)
    real = qmdb.transaction.commit

    def flaky(c):  # two chunks commit; the third is interrupted just before its COMMIT
        if c.execute("SELECT count(*) FROM neighbor_chunks").fetchall()[0][0] == 3:
            raise KeyboardInterrupt
        real(c)

    monkeypatch.setattr(qmdb.transaction, "commit", flaky)
    with pytest.raises(KeyboardInterrupt):
        neighbors.materialize(con, "m", "image", 5, chunk=128)
    monkeypatch.setattr(qmdb.transaction, "commit", real)
    con.close()  # the process died: its open transaction is gone
    vector_index._CACHE.clear()
    con = qmdb.connect(tmp_path / "p.duckdb")
    assert con.execute("SELECT count(*) FROM neighbor_chunks").fetchall()[0][0] == 2
    assert con.execute("SELECT count(*) FROM neighbors").fetchall()[0][0] == 2 * 128 * 5
    seen = []
    written = neighbors.materialize(con, "m", "image", 5, chunk=128, progress=lambda d, t: seen.append(d))
    assert written == (700 - 256) * 5 and seen == [3, 4, 5, 6]        # only the missing chunks
    assert neighbors.materialize(con, "m", "image", 5, chunk=128) == 0
    rows = con.execute("SELECT item_id, neighbor_id FROM neighbors WHERE rank = 1 ORDER BY item_id").fetchall()
    assert [r[0] for r in rows] == list(range(1, 701))                  # every item once
    brute = 1 - vectors @ vectors.T
    np.fill_diagonal(brute, np.inf)
    nearest = np.argmin(brute, axis=1) + 1
    # the graph is built on every core, so it differs run to run: the first neighbour matched the exact
    # one for 0.994-1.000 of the items in six quiet runs and 0.989 under a loaded test run
    assert np.mean(np.array([r[1] for r in rows]) == nearest) >= 0.98
    assert neighbors.materialize(con, "m", "image", 3, chunk=128) == 700 * 3   # another k: a fresh run
    assert con.execute("SELECT max(rank), count(*) FROM neighbors").fetchall()[0] == (3, 2100)
    con.close()
