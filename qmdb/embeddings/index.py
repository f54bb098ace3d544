"""The usearch index of one model's vectors of one item type, kept in step with the table.

`embeddings` is the source of truth. Beside the database (`demo.qmdb/index/`),
each (model, item type) has `<model>.<item_type>.usearch` (the graph, vectors
quantized to int8), `.f32.npy` and `.keys.npy` (the exact vectors and their keys,
in the graph's insertion order, memory-mapped) and a `.json` holding the state of
the table rows it was built from: row count, an XOR of the rows' id hashes and an
XOR of their (id, vector) hashes, all computed by DuckDB.

A search walks the int8 graph for `RERANK` × k candidates and re-ranks them with
the exact float32 vectors, so distances are exact and recall is that of the
candidates (bench/million.py --step index on 1,000,000 clustered 512-d vectors, 2 cores: built
in 364 s, recall@10 0.9957, 202× DuckDB brute force; the graph of degree 16 and build width 64 it
replaces reached 0.888 there). The build reads the table in chunks, so memory holds one chunk of
Arrow rows at a time besides the index.

`ensure(con, model, item_type)` returns an index that matches the table:

- the index cached in this process, if the count and id hash still match;
- else the file, memory-mapped (`Index.restore(view=True)`), if its recorded
  state equals the table's (count, ids and vectors);
- else, if the rows the file holds are unchanged (same state over its keys),
  the file extended with the new rows only;
- else (missing, rows deleted, vectors changed, other dimension) a rebuild.

An in-memory database has no file: its index lives in this process only, and so
does the index of a read-only connection (`qmdb serve` without --allow-writes):
a read-only connection never creates or changes a file. Index files are
written under a lock (`index/.lock`), each to a unique temp name in the same
folder and moved into place with `os.replace`, so two processes never share a
temp file and a reader never sees half a file.
Distances are cosine distances (vectors are unit length): 0 = same direction.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from usearch.index import Index

from ..database import database_path, sidecar_dir
from ..errors import QmdbError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the in-process lock only
    fcntl = None

_WRITE_LOCK = threading.Lock()

CONNECTIVITY = 32  # usearch's graph degree (M)
EXPANSION_ADD = 128  # usearch's beam width while building
DTYPE = "i8"  # the graph's vectors; the exact float32 ones re-rank (`.f32.npy`)
GRAPH = {"dtype": DTYPE, "connectivity": CONNECTIVITY, "expansion_add": EXPANSION_ADD}  # a file built otherwise is rebuilt
RERANK = 4  # candidates walked per wanted neighbour, re-ranked exactly
LOAD_CHUNK = 65_536  # rows read from the table per step of a build


def neighbor_expansion(count: int) -> int:
    """The beam width for the neighbours of the index's own vectors (`neighbors.materialize`): a
    quarter of `expansion_search` (64 at 100,000 vectors, growing with the square root of the size).
    A stored vector is its own nearest point, so the walk starts close: on 100,000 clustered 512-d
    vectors, k = 10 from 44 re-ranked candidates, recall@10 is 0.9998 at widths 64 to 256."""
    return max(64, expansion_search(count) // 4)


def expansion_search(count: int) -> int:
    """usearch's beam width at query time for an index of `count` vectors: 256 up to 100,000 vectors,
    then growing with the size's 0.3th power (511 at 1,000,000, 1,019 at 10,000,000). At a fixed
    width recall falls as the index grows; bench/million.py --step index measures this setting
    (on 1,000,000 clustered 512-d vectors, recall@10 0.985 at width 384, 0.995 at 512, 0.999 at 810)."""
    return int(min(4096, max(256, round(256 * (count / 100_000) ** 0.3))))


class Found:
    """Search results shaped like usearch's `BatchMatches`: keys, distances, counts per query."""

    def __init__(self, keys: np.ndarray, distances: np.ndarray, counts: np.ndarray):
        self.keys, self.distances, self.counts = keys, distances, counts


class VectorIndex:
    """A quantized usearch graph and the exact float32 vectors (rows in `keys` order) that re-rank it."""

    def __init__(self, graph: Index, keys: np.ndarray, vectors: np.ndarray):
        self.graph = graph
        self.keys = np.asarray(keys, np.int64)
        self.vectors = vectors
        self._order = np.argsort(self.keys, kind="stable")
        self._sorted = self.keys[self._order]
        self._width = threading.Lock()   # usearch has no per-call beam width: a search sets it, then restores it

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def ndim(self) -> int:
        return int(self.vectors.shape[1]) if self.vectors.ndim == 2 else self.graph.ndim

    @property
    def expansion_search(self) -> int:
        return self.graph.expansion_search

    @expansion_search.setter
    def expansion_search(self, value: int) -> None:
        with self._width:
            self.graph.expansion_search = value

    def rows(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers of keys in `vectors` and a mask of which keys exist."""
        keys = np.asarray(keys, np.int64).reshape(-1)
        at = np.minimum(np.searchsorted(self._sorted, keys), max(len(self._sorted) - 1, 0))
        found = (self._sorted[at] == keys) if len(self._sorted) else np.zeros(len(keys), bool)
        return self._order[at], found

    def contains(self, keys: np.ndarray) -> np.ndarray:
        return self.rows(keys)[1]

    def get(self, keys: np.ndarray, dtype=np.float32) -> np.ndarray:
        rows, found = self.rows(keys)
        if not found.all():
            raise KeyError(f"no vector for key {int(np.asarray(keys).reshape(-1)[~found][0])}")
        return np.asarray(self.vectors[rows], dtype)

    def _exact(self, queries: np.ndarray, rows: np.ndarray, block: int = 256) -> np.ndarray:
        """Cosine distances (float64) of each query to the vectors at `rows` (n queries × candidates),
        `block` queries at a time so memory stays bounded for any batch. The dot products are one
        batched float32 matrix product (within 1e-6 of float64); the norms are float64."""
        out = np.empty(rows.shape, np.float64)
        for start in range(0, len(rows), block):
            part = rows[start:start + block]
            picked = np.asarray(self.vectors[part.reshape(-1)], np.float32).reshape(part.shape + (-1,))
            q = queries[start:start + block]
            dots = np.matmul(picked, q[:, :, None])[:, :, 0].astype(np.float64)
            norms = (np.sqrt(np.einsum("nkd,nkd->nk", picked, picked, dtype=np.float64))
                     * np.linalg.norm(q.astype(np.float64), axis=1)[:, None])
            out[start:start + block] = np.clip(1 - dots / np.where(norms == 0, 1, norms), 0, 2)
        return out

    def search(self, queries: np.ndarray, count: int = 10, exact: bool = False, threads: int = 0,
               expansion: int | None = None) -> Found:
        """The `count` nearest keys of each query by exact cosine distance, nearest first (smaller
        key first on ties): from `RERANK` × count graph candidates, or from every vector if `exact`.
        `expansion` is the graph's beam width for this call (default: the index's `expansion_search`)."""
        queries = np.atleast_2d(np.asarray(queries, np.float32))
        n, total = len(queries), len(self)
        count = min(count, total)
        if exact:
            keys = np.full((n, count), -1, np.int64)
            distances = np.full((n, count), np.inf)
            for start in range(0, total, LOAD_CHUNK):
                block = np.asarray(self.vectors[start:start + LOAD_CHUNK], np.float64)
                q = queries.astype(np.float64)
                norms = np.linalg.norm(block, axis=1)[None, :] * np.linalg.norm(q, axis=1)[:, None]
                d = np.clip(1 - (q @ block.T) / np.where(norms == 0, 1, norms), 0, 2)
                keys = np.concatenate([keys, np.broadcast_to(self.keys[start:start + LOAD_CHUNK], d.shape)], axis=1)
                distances = np.concatenate([distances, d], axis=1)
                top = np.lexsort((keys, distances), axis=1)[:, :count]
                keys, distances = np.take_along_axis(keys, top, 1), np.take_along_axis(distances, top, 1)
            return Found(keys, distances.astype(np.float32), np.full(n, count))
        want = min(total, max(RERANK * count, count))
        with self._width:
            width = self.graph.expansion_search = max(self.graph.expansion_search, want)
            if expansion is not None:
                self.graph.expansion_search = max(expansion, want)
            try:
                found = self.graph.search(queries, want, threads=threads)
            finally:
                self.graph.expansion_search = width
        cand = np.asarray(found.keys, np.uint64).reshape(n, -1).astype(np.int64)
        counts = np.asarray(getattr(found, "counts", [cand.shape[1]])).reshape(n)
        missing = np.arange(cand.shape[1])[None, :] >= counts[:, None]
        rows, ok = self.rows(np.where(missing, 0, cand))
        rows = rows.reshape(cand.shape)
        missing |= ~ok.reshape(cand.shape)
        distances = np.where(missing, np.inf, self._exact(queries, np.where(missing, 0, rows)))
        keys = np.where(missing, np.iinfo(np.int64).max, cand)
        top = np.lexsort((keys, distances), axis=1)[:, :count]
        keys, distances = np.take_along_axis(keys, top, 1), np.take_along_axis(distances, top, 1)
        counts = np.minimum((~missing).sum(axis=1), count)
        keys[np.isinf(distances)] = -1
        return Found(keys, distances.astype(np.float32), counts)


@dataclass(frozen=True)
class State:
    count: int
    ids: int
    vectors: int | None
    dim: int

    def same_rows(self, other: State) -> bool:
        return (self.count, self.ids, self.dim) == (other.count, other.ids, other.dim)


_CACHE: dict[tuple, tuple[State, Index]] = {}


def _where() -> str:
    return "FROM embeddings WHERE model = ? AND item_type = ?"


def table_state(con: duckdb.DuckDBPyConnection, model: str, item_type: str, *, vectors: bool = True,
                keys: np.ndarray | None = None) -> State:
    """Count and hashes of a model's rows (optionally only those whose id is in `keys`)."""
    select = ("SELECT count(*), coalesce(bit_xor(hash(item_id)), 0), "
              + ("coalesce(bit_xor(hash(item_id, vector)), 0)" if vectors else "NULL")
              + ", coalesce(max(len(vector)), 0) ")
    cur = con.cursor()
    if keys is None:
        row = cur.execute(select + _where(), [model, item_type]).fetchall()[0]
    else:
        cur.register("qmdb_index_keys", pa.table({"item_id": pa.array(keys.astype(np.int64))}))
        row = cur.execute(select + _where() + " AND item_id IN (SELECT item_id FROM qmdb_index_keys)",
                          [model, item_type]).fetchall()[0]
    cur.close()
    return State(int(row[0]), int(row[1]), None if row[2] is None else int(row[2]), int(row[3]))


def index_path(con: duckdb.DuckDBPyConnection, model: str, item_type: str) -> Path | None:
    """Where the index file of a model's `item_type` vectors lives; None for an in-memory database."""
    if database_path(con) is None:
        return None
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model)
    return sidecar_dir(con) / "index" / f"{slug}.{item_type}.usearch"


def _select(con, model: str, item_type: str, skip: np.ndarray | None):
    cur = con.cursor()
    query = "SELECT item_id, vector " + _where()
    if skip is not None and len(skip):
        cur.register("qmdb_index_keys", pa.table({"item_id": pa.array(skip.astype(np.int64))}))
        query += " AND item_id NOT IN (SELECT item_id FROM qmdb_index_keys)"
    return cur, cur.sql(query, params=[model, item_type])


def _arrays(batch) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) read from the Arrow buffers: pyarrow's to_numpy imports pandas (0.4 s of CPU)."""
    ids, lists = batch.column(0), batch.column(1)
    if len(ids) == 0:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    ids, lists = (c.combine_chunks() if hasattr(c, "combine_chunks") else c for c in (ids, lists))
    ids = ids if ids.type == pa.int64() else ids.cast(pa.int64())
    ids = np.frombuffer(ids.buffers()[1], np.int64, len(ids), ids.offset * 8)
    flat = lists.flatten()
    if flat.type != pa.float32():
        flat = flat.cast(pa.float32())
    return ids, np.frombuffer(flat.buffers()[1], np.float32, len(flat), flat.offset * 4).reshape(len(ids), -1)


def load_vectors(con: duckdb.DuckDBPyConnection, model: str, item_type: str,
             skip: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    cur, rel = _select(con, model, item_type, skip)
    table = rel.to_arrow_table()
    cur.close()
    return _arrays(table)


def chunks(con: duckdb.DuckDBPyConnection, model: str, item_type: str, skip: np.ndarray | None = None,
           rows: int = LOAD_CHUNK):
    """(ids, vectors) of the model's rows, `rows` at a time (bounded memory at any table size)."""
    cur, rel = _select(con, model, item_type, skip)
    try:
        reader = rel.to_arrow_reader(rows)
        for batch in reader:
            if batch.num_rows:
                yield _arrays(batch)
    finally:
        cur.close()


def new_graph(dim: int) -> Index:
    """An empty graph with qmdb's settings (cosine, int8, `CONNECTIVITY`, `EXPANSION_ADD`)."""
    return Index(ndim=dim, metric="cos", dtype=DTYPE, connectivity=CONNECTIVITY, expansion_add=EXPANSION_ADD)


def build(parts, dim: int, count: int, vectors_file: Path | None = None, start: VectorIndex | None = None,
          threads: int = 0) -> VectorIndex:
    """A `VectorIndex` from (ids, vectors) chunks, added to the graph with all cores (`threads=0`).
    The exact vectors go to `vectors_file` (a memory-mapped `.npy`, None: memory); `start` is an
    index to extend (its rows come first)."""
    have = 0 if start is None else len(start)
    if vectors_file is None:
        exact = np.empty((count, dim), np.float32)
    else:
        exact = np.lib.format.open_memmap(vectors_file, mode="w+", dtype=np.float32, shape=(count, dim))
    keys = np.empty(count, np.int64)
    if start is not None:
        for at in range(0, have, LOAD_CHUNK):
            exact[at:min(at + LOAD_CHUNK, have)] = start.vectors[at:at + LOAD_CHUNK]
        keys[:have] = start.keys
    graph = new_graph(dim) if start is None else start.graph
    at = have
    for ids, vectors in parts:
        if at + len(ids) > count:
            raise QmdbError("the embeddings table changed while the index was being built; run it again")
        graph.add(ids.astype(np.uint64), vectors, threads=threads)
        exact[at:at + len(ids)] = vectors
        keys[at:at + len(ids)] = ids
        at += len(ids)
    if at != count:
        raise QmdbError("the embeddings table changed while the index was being built; run it again")
    if vectors_file is not None:
        exact.flush()
    return VectorIndex(graph, keys, exact)


def _files(path: Path) -> tuple[Path, Path]:
    return path.with_suffix(".f32.npy"), path.with_suffix(".keys.npy")


def _build(con, model: str, item_type: str, state: State, vectors_file: Path | None = None,
           start: VectorIndex | None = None) -> VectorIndex:
    skip = None if start is None else start.keys
    return build(chunks(con, model, item_type, skip), state.dim, state.count, vectors_file, start)


def _read_only(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT current_setting('access_mode') = 'read_only'").fetchall()[0][0]


@contextlib.contextmanager
def _locked(folder: Path):
    """This process's lock and an advisory file lock on `folder/.lock`, held while index files are written."""
    with _WRITE_LOCK, open(folder / ".lock", "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _replace(path: Path, write) -> None:
    """`write(temp_path)` to a unique temp file beside `path`, then move it into place (atomic)."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(tmp)
        os.replace(tmp, path)  # atomic: a reader that memory-maps the old file keeps it
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _tmp_name(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp.npy")
    os.close(handle)
    return Path(tmp)


def _write_npy(tmp: str, values: np.ndarray) -> None:
    with open(tmp, "wb") as handle:
        np.save(handle, values)


def _open(path: Path) -> VectorIndex | None:
    """The index files at `path`, memory-mapped; None when one is missing or they disagree."""
    vectors_file, keys_file = _files(path)
    if not (path.is_file() and vectors_file.is_file() and keys_file.is_file()):
        return None
    graph = Index.restore(str(path), view=True)
    vectors, keys = np.load(vectors_file, mmap_mode="r"), np.load(keys_file)
    if graph is None or len(graph) != len(keys) or len(vectors) != len(keys):
        return None
    return VectorIndex(graph, keys, vectors)


def _save(index: VectorIndex, path: Path, state: State, model: str, item_type: str,
          vectors_tmp: Path | None = None) -> VectorIndex:
    """Write the graph, vectors (already in `vectors_tmp` when the build wrote them there), keys and
    the record, each moved into place atomically; returns the memory-mapped files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"model": model, "item_type": item_type, "count": state.count, "ids": state.ids,
            "vectors": state.vectors, "dim": state.dim, **GRAPH}
    vectors_file, keys_file = _files(path)
    with _locked(path.parent):
        _replace(path, lambda tmp: index.graph.save(str(tmp)))
        write_npy = lambda values: lambda tmp: _write_npy(tmp, values)  # noqa: E731
        if vectors_tmp is not None:
            os.replace(vectors_tmp, vectors_file)
        else:
            _replace(vectors_file, write_npy(np.asarray(index.vectors, np.float32)))
        _replace(keys_file, write_npy(index.keys))
        _replace(path.with_suffix(".json"), lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1)))
    return _open(path)


def _same_graph(meta: dict) -> bool:
    return all(meta.get(name) == value for name, value in GRAPH.items())


def _from_file(con, path: Path, model: str, item_type: str, state: State,
               writable: bool = True) -> tuple[VectorIndex | None, str]:
    """The file's index if it matches or can be extended (in memory only unless `writable`); else None and why."""
    meta_path = path.with_suffix(".json")
    if not (path.is_file() and meta_path.is_file()):
        return None, "missing"
    meta = json.loads(meta_path.read_text())
    if not _same_graph(meta):
        return None, "stale"  # built with other settings by an earlier qmdb
    recorded = State(meta["count"], meta["ids"], meta["vectors"], meta["dim"])
    if recorded == state:
        index = _open(path)
        if index is not None and len(index) == state.count:
            return index, "fresh"
        return None, "file does not match its record"
    if recorded.dim != state.dim or recorded.count >= state.count:
        return None, "stale"
    old = _open(path)
    if old is None or len(old) != recorded.count or table_state(con, model, item_type, keys=old.keys) != recorded:
        return None, "stale"
    old.graph = Index.restore(str(path))  # a copy in memory to add to (the file stays as it is)
    tmp = _tmp_name(path) if writable else None
    try:
        index = _build(con, model, item_type, state, tmp, start=old)
        return (_save(index, path, state, model, item_type, tmp) if writable else index), "extended"
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()


def ensure(con: duckdb.DuckDBPyConnection, model: str, item_type: str = "image") -> VectorIndex:
    """An index of the model's `item_type` vectors that matches the `embeddings` table now."""
    path = index_path(con, model, item_type)
    key = (str(path), model, item_type)
    cached = _CACHE.get(key)
    if cached is not None and path is not None:
        if cached[0].same_rows(table_state(con, model, item_type, vectors=False)):
            return cached[1]
    state = table_state(con, model, item_type)
    if cached is not None and cached[0] == state:
        return cached[1]
    if state.count == 0:
        raise QmdbError(f"no {item_type} embeddings for model '{model}': run `qmdb embed DB`")
    index = None
    writable = path is not None and not _read_only(con)  # a read-only connection writes no file
    if path is not None:
        index, _ = _from_file(con, path, model, item_type, state, writable)
    if index is None:
        tmp = _tmp_name(path) if writable else None
        try:
            index = _build(con, model, item_type, state, tmp)
            if writable:
                index = _save(index, path, state, model, item_type, tmp)
        finally:
            if tmp is not None and tmp.exists():
                tmp.unlink()
    index.expansion_search = expansion_search(len(index))
    _CACHE[key] = (state, index)
    return index


def status(con: duckdb.DuckDBPyConnection, model: str, item_type: str = "image") -> str:
    """'fresh', 'stale', 'missing' or 'memory': the index file's state against the table, without changing it."""
    path = index_path(con, model, item_type)
    if path is None:
        return "memory"
    meta_path = path.with_suffix(".json")
    if not (path.is_file() and meta_path.is_file()):
        return "missing"
    meta = json.loads(meta_path.read_text())
    recorded = State(meta["count"], meta["ids"], meta["vectors"], meta["dim"])
    return "fresh" if _same_graph(meta) and recorded == table_state(con, model, item_type) else "stale"


def search(index: VectorIndex, queries: np.ndarray, k: int, exclude: np.ndarray | None = None,
           expansion: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest keys and cosine distances of each query row, nearest first, leaving out each
    query's own key (`exclude`); -1 / NaN pad rows with fewer than k results. `expansion`: the
    graph's beam width for this search (default: the index's)."""
    queries = np.atleast_2d(np.asarray(queries, np.float32))
    extra = 0 if exclude is None else 1
    want = min(k + extra, len(index))
    n = len(queries)
    if want == 0 or n == 0:
        return np.full((n, k), -1, np.int64), np.full((n, k), np.nan, np.float32)
    found = index.search(queries, want, threads=0, expansion=expansion)
    keys = np.asarray(found.keys, dtype=np.uint64).reshape(n, -1).astype(np.int64)
    distances = np.asarray(found.distances, dtype=np.float32).reshape(n, -1)
    counts = np.asarray(getattr(found, "counts", [keys.shape[1]])).reshape(n)  # one query gives `Matches`
    drop = np.arange(keys.shape[1])[None, :] >= counts[:, None]
    if exclude is not None:
        drop |= keys == np.asarray(exclude, np.int64)[:, None]
    order = np.argsort(drop, axis=1, kind="stable")[:, :k]
    keys = np.take_along_axis(keys, order, axis=1)
    distances = np.take_along_axis(distances, order, axis=1)
    dropped = np.take_along_axis(drop, order, axis=1)
    keys[dropped] = -1
    distances[dropped] = np.nan
    if keys.shape[1] < k:
        pad = k - keys.shape[1]
        keys = np.pad(keys, ((0, 0), (0, pad)), constant_values=-1)
        distances = np.pad(distances, ((0, 0), (0, pad)), constant_values=np.nan)
    return keys, distances


def vectors_of(index: VectorIndex, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stored (exact) vectors of ids (rows of the found ones) and a mask of which were found."""
    rows, found = index.rows(ids)
    if not found.any():
        return np.zeros((0, index.ndim), np.float32), found
    return np.asarray(index.vectors[rows[found]], np.float32), found
