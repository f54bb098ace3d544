"""The usearch index of one model's vectors of one item type, kept in step with the table.

`embeddings` is the source of truth. Beside the database (`demo.qmdb/index/`),
each (model, item type) has `<model>.<item_type>.usearch` and a `.json` holding
the state of the table rows it was built from: row count, an XOR of the rows'
id hashes and an XOR of their (id, vector) hashes, all computed by DuckDB.

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
EXPANSION_ADD = 256  # usearch's beam width while building


def expansion_search(count: int) -> int:
    """usearch's beam width at query time for an index of `count` vectors: 128 up to 100,000 vectors,
    then growing with the square root of the size (405 at 1,000,000). At a fixed width recall falls
    as the index grows; bench/knn.py (clustered 512-d vectors, M=32, build width 256) measures
    recall@10 0.973 at width 128 and 0.999 at 256 on 1,000,000 vectors."""
    return int(min(4096, max(128, round(128 * (count / 100_000) ** 0.5))))


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


def load_vectors(con: duckdb.DuckDBPyConnection, model: str, item_type: str,
             skip: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    cur = con.cursor()
    query = "SELECT item_id, vector " + _where()
    if skip is not None and len(skip):
        cur.register("qmdb_index_keys", pa.table({"item_id": pa.array(skip.astype(np.int64))}))
        query += " AND item_id NOT IN (SELECT item_id FROM qmdb_index_keys)"
    table = cur.sql(query, params=[model, item_type]).to_arrow_table()
    cur.close()
    ids = table.column("item_id").to_numpy()
    lists = table.column("vector").combine_chunks()
    if len(ids) == 0:
        return ids, np.zeros((0, 0), np.float32)
    flat = lists.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return ids, flat.reshape(len(ids), -1)


def _build(con, model: str, item_type: str, state: State) -> Index:
    index = Index(ndim=state.dim, metric="cos", dtype="f32", connectivity=CONNECTIVITY, expansion_add=EXPANSION_ADD)
    ids, vectors = load_vectors(con, model, item_type)
    index.add(ids.astype(np.uint64), vectors, threads=0)
    return index


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


def _save(index: Index, path: Path, state: State, model: str, item_type: str) -> Index:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"model": model, "item_type": item_type, "count": state.count, "ids": state.ids,
            "vectors": state.vectors, "dim": state.dim}
    with _locked(path.parent):
        _replace(path, lambda tmp: index.save(str(tmp)))
        _replace(path.with_suffix(".json"), lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1)))
    return Index.restore(str(path), view=True)


def _from_file(con, path: Path, model: str, item_type: str, state: State,
               writable: bool = True) -> tuple[Index | None, str]:
    """The file's index if it matches or can be extended (in memory only unless `writable`); else None and why."""
    meta_path = path.with_suffix(".json")
    if not (path.is_file() and meta_path.is_file()):
        return None, "missing"
    meta = json.loads(meta_path.read_text())
    recorded = State(meta["count"], meta["ids"], meta["vectors"], meta["dim"])
    if recorded == state:
        index = Index.restore(str(path), view=True)
        if index is not None and len(index) == state.count:
            return index, "fresh"
        return None, "file does not match its record"
    if recorded.dim != state.dim or recorded.count >= state.count:
        return None, "stale"
    index = Index.restore(str(path))
    keys = np.asarray(index.keys, dtype=np.uint64)
    if len(keys) != recorded.count or table_state(con, model, item_type, keys=keys) != recorded:
        return None, "stale"
    ids, vectors = load_vectors(con, model, item_type, skip=keys)
    index.add(ids.astype(np.uint64), vectors, threads=0)
    return (_save(index, path, state, model, item_type) if writable else index), "extended"


def ensure(con: duckdb.DuckDBPyConnection, model: str, item_type: str = "image") -> Index:
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
        index = _build(con, model, item_type, state)
        if writable:
            index = _save(index, path, state, model, item_type)
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
    return "fresh" if recorded == table_state(con, model, item_type) else "stale"


def search(index: Index, queries: np.ndarray, k: int, exclude: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest keys and cosine distances of each query row, nearest first, leaving out each
    query's own key (`exclude`); -1 / NaN pad rows with fewer than k results."""
    queries = np.atleast_2d(np.asarray(queries, np.float32))
    extra = 0 if exclude is None else 1
    want = min(k + extra, len(index))
    n = len(queries)
    if want == 0 or n == 0:
        return np.full((n, k), -1, np.int64), np.full((n, k), np.nan, np.float32)
    found = index.search(queries, want, threads=0)
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


def vectors_of(index: Index, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stored vectors of ids (rows of the found ones) and a mask of which were found."""
    ids = np.asarray(ids, np.int64)
    found = np.asarray(index.contains(ids.astype(np.uint64)), bool).reshape(-1)
    if not found.any():
        return np.zeros((0, index.ndim), np.float32), found
    got = index.get(ids[found].astype(np.uint64), dtype=np.float32)
    rows = np.stack(got) if isinstance(got, tuple) else np.atleast_2d(got)
    return rows.astype(np.float32, copy=False), found
