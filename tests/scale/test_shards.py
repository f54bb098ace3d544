"""Sharded usearch search: a demo index split into shards, searched together, gives one index's top-k."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import qmdb
from qmdb.embeddings import index as vector_index
from qmdb.scale import ShardedIndex, shard_from_parquet, write_shards

from ..embeddings.conftest import digit_images


@pytest.fixture(scope="module")
def digits_project(tmp_path_factory):
    """500 of scikit-learn's digits, embedded with the built-in model."""
    from qmdb.embeddings.builtin import describe

    con = qmdb.connect()
    images, _ = digit_images()
    vectors = describe(images[:500])
    con.register("v", pa.table({"item_id": pa.array(np.arange(500) + 1, pa.int64()),
                                "vector": pa.array(list(vectors), pa.list_(pa.float32()))}))
    con.execute("INSERT INTO embeddings SELECT 'image', item_id, 'builtin-hog-v1', vector FROM v")
    yield con, vectors
    con.close()


def test_exact_search_over_shards_equals_one_index(digits_project, tmp_path):
    con, vectors = digits_project
    paths = write_shards(con, "builtin-hog-v1", "image", tmp_path, shards=4)
    assert len(paths) == 4
    sharded = ShardedIndex.open(tmp_path)
    assert len(sharded) == 500 and min(len(s) for s in sharded.shards) > 50     # a real split
    whole = vector_index.ensure(con, "builtin-hog-v1", "image")
    found = whole.search(vectors, 10, exact=True)
    keys, distances = sharded.search(vectors, 10, exact=True)
    # float32 distances of two implementations (usearch's SIMD, qmdb's float64 re-rank): ~1e-6 apart
    np.testing.assert_allclose(distances, np.asarray(found.distances), atol=1e-5)
    assert (keys == np.asarray(found.keys, np.int64)).mean() > 0.99      # only exact ties may swap
    brute = 1 - vectors @ vectors.T
    expect = np.argsort(brute, axis=1, kind="stable")[:, :10] + 1
    assert (np.sort(keys, axis=1) == np.sort(expect, axis=1)).mean() > 0.99


def test_approximate_search_over_memory_mapped_shards_finds_the_true_neighbours(digits_project, tmp_path):
    con, vectors = digits_project
    write_shards(con, "builtin-hog-v1", "image", tmp_path, shards=3)
    keys, _ = ShardedIndex.open(tmp_path, view=True).search(vectors[:100], 5)
    whole = vector_index.ensure(con, "builtin-hog-v1", "image")
    one = np.asarray(whole.search(vectors[:100], 5).keys, np.int64)
    brute = 1 - vectors[:100] @ vectors.T
    fifth = np.sort(brute, axis=1)[:, 4:5]

    def recall(found: np.ndarray) -> float:     # by distance, so exact ties count either way
        return float((np.take_along_axis(brute, found - 1, axis=1) <= fifth + 1e-5).mean())

    assert recall(keys) >= 0.97 and recall(one) >= 0.97


def test_i8_shards_keep_the_top_hit(digits_project, tmp_path):
    con, vectors = digits_project
    write_shards(con, "builtin-hog-v1", "image", tmp_path, shards=2, dtype="i8")
    keys, _ = ShardedIndex.open(tmp_path).search(vectors[:50], 1, exact=True)
    assert (keys[:, 0] == np.arange(50) + 1).mean() >= 0.98             # each digit finds itself


def test_one_shard_per_parquet_file_of_results(digits_project, tmp_path):
    _, vectors = digits_project
    for part in range(2):
        ids = np.arange(part * 250, (part + 1) * 250)
        pq.write_table(pa.table({"item_type": ["image"] * 250, "item_id": pa.array(ids + 1, pa.int64()),
                                 "vector": pa.array(list(vectors[ids]), pa.list_(pa.float32()))}),
                       tmp_path / f"part-{part}.parquet")
        shard_from_parquet(tmp_path / f"part-{part}.parquet", tmp_path / f"shard-{part}.usearch")
    keys, distances = ShardedIndex.open(tmp_path).search(vectors[[3, 300]], 3, exact=True)
    assert keys[:, 0].tolist() == [4, 301] and distances[:, 0].max() < 1e-5
    padded, _ = ShardedIndex.open(tmp_path).search(vectors[:1], 600, exact=True)
    assert (padded[0, 500:] == -1).all() and len(set(padded[0, :500])) == 500
