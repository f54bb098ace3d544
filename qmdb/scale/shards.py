"""The vector index at scale: one usearch file per shard, searched together as if they were one index.

At 100M vectors one index file is one machine's memory; split by partition
(`write_shards`: rows go to shard ``hash(item_id) % shards``, or one shard per
Parquet file of embeddings with `shard_from_parquet`), each shard is a usearch
file that a searcher memory-maps (`Index.restore(view=True)`: the OS pages
in only what a search touches). `ShardedIndex.search` asks every shard for its
own k nearest and keeps the k nearest of all, by distance then key; an exact
search over shards returns exactly the top-k of one index over all the rows
(usearch's `Indexes` does the same merge inside usearch).

>>> import numpy as np
>>> from usearch.index import Index
>>> rng = np.random.default_rng(0)
>>> vectors = rng.normal(size=(40, 8)).astype(np.float32)
>>> shards = []
>>> for s in range(3):
...     keys = np.arange(40)[np.arange(40) % 3 == s]
...     shard = Index(ndim=8, metric="cos")
...     _ = shard.add(keys.astype(np.uint64), vectors[keys])
...     shards.append(shard)
>>> whole = Index(ndim=8, metric="cos")
>>> _ = whole.add(np.arange(40, dtype=np.uint64), vectors)
>>> keys, _ = ShardedIndex(shards).search(vectors[:2], 5, exact=True)
>>> bool((keys == np.asarray(whole.search(vectors[:2], 5, exact=True).keys, np.int64)).all())
True
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from usearch.index import Index

from ..embeddings.index import CONNECTIVITY, EXPANSION_ADD, expansion_search, load_vectors


class ShardedIndex:
    """Several usearch indexes (objects or files) searched as one."""

    def __init__(self, shards: Sequence[Index | str | Path], view: bool = True):
        self.shards = [s if isinstance(s, Index) else Index.restore(str(s), view=view) for s in shards]
        if not self.shards:
            raise ValueError("a sharded index needs at least one shard")
        for shard in self.shards:
            shard.expansion_search = max(shard.expansion_search, expansion_search(len(shard)))

    @classmethod
    def open(cls, folder: str | Path, view: bool = True) -> ShardedIndex:
        """Every `*.usearch` file of a folder, memory-mapped."""
        return cls(sorted(Path(folder).glob("*.usearch")), view=view)

    def __len__(self) -> int:
        return sum(len(s) for s in self.shards)

    def search(self, queries: np.ndarray, k: int, exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(keys, distances), each (n queries, k), nearest first; ties broken by the smaller key;
        -1 / inf pad rows when fewer than k vectors exist."""
        queries = np.atleast_2d(np.asarray(queries, np.float32))
        n = len(queries)
        keys, distances = [], []
        for shard in self.shards:
            want = min(k, len(shard))
            if want == 0:
                continue
            found = shard.search(queries, want, exact=exact, threads=0)
            got_keys = np.asarray(found.keys, np.uint64).reshape(n, -1).astype(np.int64)
            got = np.asarray(found.distances, np.float32).reshape(n, -1).copy()
            counts = np.asarray(getattr(found, "counts", [got_keys.shape[1]])).reshape(n)
            missing = np.arange(got.shape[1])[None, :] >= counts[:, None]
            got[missing], got_keys[missing] = np.inf, -1
            keys.append(got_keys)
            distances.append(got)
        if not keys:
            return np.full((n, k), -1, np.int64), np.full((n, k), np.inf, np.float32)
        keys_all, dist_all = np.concatenate(keys, axis=1), np.concatenate(distances, axis=1)
        order = np.lexsort((np.where(keys_all < 0, np.iinfo(np.int64).max, keys_all), dist_all), axis=1)[:, :k]
        keys_top = np.take_along_axis(keys_all, order, axis=1)
        dist_top = np.take_along_axis(dist_all, order, axis=1)
        if keys_top.shape[1] < k:
            pad = k - keys_top.shape[1]
            keys_top = np.pad(keys_top, ((0, 0), (0, pad)), constant_values=-1)
            dist_top = np.pad(dist_top, ((0, 0), (0, pad)), constant_values=np.inf)
        return keys_top, dist_top


def _index(ids: np.ndarray, vectors: np.ndarray, dtype: str) -> Index:
    index = Index(ndim=vectors.shape[1], metric="cos", dtype=dtype, connectivity=CONNECTIVITY,
                  expansion_add=EXPANSION_ADD, expansion_search=expansion_search(len(ids)))
    index.add(ids.astype(np.uint64), vectors, threads=0)
    return index


def write_shards(con: duckdb.DuckDBPyConnection, model: str, item_type: str, folder: str | Path, shards: int,
                 dtype: str = "f32") -> list[Path]:
    """Split a model's vectors into `shards` usearch files (row → shard `hash(item_id) % shards`)."""
    ids, vectors = load_vectors(con, model, item_type)
    if len(ids) == 0:
        raise ValueError(f"no {item_type} embeddings for model '{model}'")
    con.register("qmdb_shard_ids", pa.table({"item_id": pa.array(ids, pa.int64())}))
    try:
        shard_of = con.sql(f"SELECT hash(item_id) % {int(shards)} FROM qmdb_shard_ids").to_arrow_table()
    finally:
        con.unregister("qmdb_shard_ids")
    shard_of = shard_of.column(0).to_numpy().astype(np.int64)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in range(shards):
        mine = shard_of == s
        if not mine.any():
            continue
        path = folder / f"shard-{s:04d}.usearch"
        _index(ids[mine], vectors[mine], dtype).save(str(path))
        paths.append(path)
    return paths


def shard_from_parquet(parquet: str | Path, path: str | Path, item_type: str = "image", dtype: str = "f32") -> Path:
    """One shard file from one Parquet file of embedding results (what `qmdb embed --engine ray` writes):
    a cluster builds its shards where the results are, one task per file."""
    table = pq.read_table(parquet, columns=["item_type", "item_id", "vector"])
    table = table.filter(pa.compute.and_(pa.compute.equal(table["item_type"], item_type),
                                         pa.compute.is_valid(table["vector"])))
    ids = table["item_id"].to_numpy()
    lists = table["vector"].combine_chunks()
    vectors = lists.flatten().to_numpy(zero_copy_only=False).reshape(len(ids), -1)
    _index(ids, vectors, dtype).save(str(path))
    return Path(path)
