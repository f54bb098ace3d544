"""SQL provider: similarity search as table macros over vectorized Python UDFs.

DuckDB's Python API cannot register table functions, so each search is a
scalar UDF that returns `STRUCT(id BIGINT, distance FLOAT, rank INTEGER)[]` for
a whole Arrow batch at once, and a table macro that unnests it:

| macro | returns |
|---|---|
| `similar_images(image_id, k := 10, model_name := NULL)` | `image_id, distance, rank` |
| `similar_labels(label_id, k := 10, model_name := NULL)` | `label_id, distance, rank` |
| `similar_predictions(prediction_id, k := 10, model_name := NULL)` | `prediction_id, distance, rank` |
| `similar_to_vector(vector, k := 10, model_name := NULL, item_type := 'image')` | `item_id, distance, rank` |
| `similar_to_text(query, k := 10, model_name := NULL)` | `image_id, distance, rank` (open_clip models) |
| `more_like(positive_ids, negative_ids := [], k := 100, model_name := NULL, item_type := 'image')` | `item_id, score, rank` (`qmdb.embeddings.more_like`) |

The item itself is left out; `rank` 1 is the nearest; `distance` is the cosine
distance. `model_name := NULL` means the only model with such embeddings.
The macros are stored in the project file when the connection can write (so a
`con.cursor()` and the HTTP server see them), else created as temp macros; they
run only on connections opened by qmdb, which register the UDFs.
"""

from __future__ import annotations

import hashlib

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import index as vector_index
from . import more_like
from .models import reopen, resolve_model

MAX_K = 10_000  # most neighbours one search returns (k of every similar_* macro)
RESULT = "STRUCT(id BIGINT, distance FLOAT, rank INTEGER)[]"
_RESULT_ARROW = pa.list_(pa.struct([("id", pa.int64()), ("distance", pa.float32()), ("rank", pa.int32())]))

MACROS = {
    "similar_images": ("image_id, k := 10, model_name := NULL",
                       "SELECT r.id AS image_id, r.distance, r.rank "
                       "FROM (SELECT unnest(qmdb_similar('image', image_id, k, model_name)) AS r)"),
    "similar_labels": ("label_id, k := 10, model_name := NULL",
                       "SELECT r.id AS label_id, r.distance, r.rank "
                       "FROM (SELECT unnest(qmdb_similar('label', label_id, k, model_name)) AS r)"),
    "similar_predictions": ("prediction_id, k := 10, model_name := NULL",
                            "SELECT r.id AS prediction_id, r.distance, r.rank "
                            "FROM (SELECT unnest(qmdb_similar('prediction', prediction_id, k, model_name)) AS r)"),
    "similar_to_vector": ("vector, k := 10, model_name := NULL, item_type := 'image'",
                          "SELECT r.id AS item_id, r.distance, r.rank FROM (SELECT unnest("
                          "qmdb_similar_to_vector(item_type, CAST(vector AS FLOAT[]), k, model_name)) AS r)"),
    "similar_to_text": ("query, k := 10, model_name := NULL",
                        "SELECT r.id AS image_id, r.distance, r.rank "
                        "FROM (SELECT unnest(qmdb_similar_to_text(query, k, model_name)) AS r)"),
    "more_like": more_like.MACRO,
}


def _ks(ks: pa.Array) -> np.ndarray:
    """The k of each row: NULL means 10, and k is at least 1; above MAX_K is an error, before any work.

    >>> _ks(pa.array([None, 0, 5], pa.int32())).tolist()
    [10, 1, 5]
    >>> _ks(pa.array([100_000_000], pa.int32()))
    Traceback (most recent call last):
    ...
    ValueError: k = 100000000 is above the most a similarity search returns (10000)
    """
    k = np.maximum(1, pc.fill_null(ks, 10).to_numpy(zero_copy_only=False).astype(np.int64))
    if len(k) and k.max() > MAX_K:
        raise ValueError(f"k = {int(k.max())} is above the most a similarity search returns ({MAX_K})")
    return k


def _results(keys: np.ndarray, distances: np.ndarray, ks: np.ndarray) -> pa.Array:
    """Ragged lists of (id, distance, rank) from padded (n, kmax) arrays, each row cut to its own k."""
    rank = np.broadcast_to(np.arange(1, keys.shape[1] + 1, dtype=np.int32), keys.shape)
    keep = (keys >= 0) & (rank <= ks[:, None])
    offsets = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int32)
    values = pa.StructArray.from_arrays(
        [pa.array(keys[keep]), pa.array(distances[keep].astype(np.float32)), pa.array(rank[keep])],
        names=["id", "distance", "rank"])
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=_RESULT_ARROW)


def _groups(item_types: list, models: list):
    """Row positions per (item_type, model) pair: a batch usually holds one pair."""
    pairs: dict[tuple, list[int]] = {}
    for position, pair in enumerate(zip(item_types, models)):
        pairs.setdefault(pair, []).append(position)
    return pairs.items()


def _search(con, item_type: str, model: str | None, queries: np.ndarray, ks: np.ndarray,
            exclude: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    model = resolve_model(con, item_type, model)
    index = vector_index.ensure(con, model, item_type)
    return vector_index.search(index, queries, int(ks.max(initial=1)), exclude=exclude)


def _assemble(n: int, kmax: int, parts: list) -> tuple[np.ndarray, np.ndarray]:
    keys = np.full((n, kmax), -1, np.int64)
    distances = np.full((n, kmax), np.nan, np.float32)
    for rows, (k, d) in parts:
        keys[rows, :k.shape[1]] = k
        distances[rows, :d.shape[1]] = d
    return keys, distances


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Add the search UDFs and macros to a connection."""
    from ..functions import define

    def similar(item_types: pa.Array, ids: pa.Array, ks: pa.Array, models: pa.Array) -> pa.Array:
        cur = con.cursor()
        try:
            k = _ks(ks)
            id_values = pc.fill_null(ids, -1).to_numpy(zero_copy_only=False).astype(np.int64)
            parts = []
            for (item_type, model), rows in _groups(item_types.to_pylist(), models.to_pylist()):
                rows = np.asarray(rows)
                wanted = id_values[rows]
                index = vector_index.ensure(cur, resolve_model(cur, item_type, model), item_type)
                vectors, found = vector_index.vectors_of(index, wanted)
                if found.any():
                    hits = rows[found]
                    parts.append((hits, vector_index.search(index, vectors, int(k[hits].max()),
                                                            exclude=wanted[found])))
            return _results(*_assemble(len(ids), int(k.max(initial=1)), parts), k)
        finally:
            cur.close()

    def similar_to_vector(item_types: pa.Array, vectors: pa.Array, ks: pa.Array, models: pa.Array) -> pa.Array:
        cur = con.cursor()
        try:
            k = _ks(ks)
            parts = []
            for (item_type, model), rows in _groups(item_types.to_pylist(), models.to_pylist()):
                rows = np.asarray(rows)
                queries = np.asarray([vectors[r].values.to_numpy(zero_copy_only=False) for r in rows], np.float32)
                parts.append((rows, _search(cur, item_type, model, queries, k[rows], None)))
            return _results(*_assemble(len(vectors), int(k.max(initial=1)), parts), k)
        finally:
            cur.close()

    def similar_to_text(texts: pa.Array, ks: pa.Array, models: pa.Array) -> pa.Array:
        cur = con.cursor()
        try:
            k = _ks(ks)
            parts = []
            for (_, model), rows in _groups(["image"] * len(texts), models.to_pylist()):
                rows = np.asarray(rows)
                name = resolve_model(cur, "image", model)
                queries = reopen(cur, name).embed_texts([texts[r].as_py() for r in rows])
                parts.append((rows, _search(cur, "image", name, queries, k[rows], None)))
            return _results(*_assemble(len(texts), int(k.max(initial=1)), parts), k)
        finally:
            cur.close()

    def embed_text(texts: pa.Array, models: pa.Array) -> pa.Array:
        cur = con.cursor()
        try:
            out = np.zeros((len(texts), 0), np.float32)
            for (_, model), rows in _groups(["image"] * len(texts), models.to_pylist()):
                vectors = reopen(cur, resolve_model(cur, "image", model)).embed_texts(
                    [texts[r].as_py() for r in rows])
                if out.shape[1] != vectors.shape[1]:
                    out = np.zeros((len(texts), vectors.shape[1]), np.float32)
                out[np.asarray(rows)] = vectors
            return pa.array(list(out), pa.list_(pa.float32()))
        finally:
            cur.close()

    options = {"type": "arrow", "null_handling": "special", "side_effects": True}
    define(con, "qmdb_similar", similar, ["VARCHAR", "BIGINT", "INTEGER", "VARCHAR"], RESULT, **options)
    define(con, "qmdb_similar_to_vector", similar_to_vector, ["VARCHAR", "FLOAT[]", "INTEGER", "VARCHAR"],
           RESULT, **options)
    define(con, "qmdb_similar_to_text", similar_to_text, ["VARCHAR", "INTEGER", "VARCHAR"], RESULT, **options)
    define(con, "embed_text", embed_text, ["VARCHAR", "VARCHAR"], "FLOAT[]", **options)
    more_like.register(con)
    _create_macros(con)


def _create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Each macro stored with a hash of its text as its comment, so that one already stored as it is
    now is left alone (opening a project writes nothing)."""
    writable = con.execute("SELECT current_setting('access_mode') <> 'read_only'").fetchall()[0][0]
    existing = dict(con.execute(
        "SELECT function_name, comment FROM duckdb_functions() WHERE function_type = 'table_macro' "
        "AND database_name = current_database()").fetchall())
    for name, (signature, body) in MACROS.items():
        version = "qmdb " + hashlib.sha1(f"{signature} {body}".encode()).hexdigest()[:16]
        if writable and existing.get(name, "") != version:
            con.execute(f"CREATE OR REPLACE MACRO {name}({signature}) AS TABLE {body}")
            con.execute(f"COMMENT ON MACRO TABLE {name} IS '{version}'")
        elif not writable and name not in existing:
            con.execute(f"CREATE OR REPLACE TEMP MACRO {name}({signature}) AS TABLE {body}")
