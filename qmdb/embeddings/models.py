"""Choosing an embedder, recording it in `embedding_models`, and reopening it later (text search)."""

from __future__ import annotations

from functools import lru_cache

import duckdb

from ..errors import InputError, QmdbError
from .base import Embedder
from .builtin import BuiltinEmbedder

def embedders() -> dict:
    """{model name: factory} of every embedder the `qmdb_embedders` hook names (the built-in descriptor
    as `builtin` / `builtin-hog-v1`, and any plugin's)."""
    from .. import plugins

    return plugins.formats("qmdb_embedders")


def get_embedder(model: str = "builtin", weights: str | None = None, *, device: str | None = None,
                 name: str | None = None, pretrained: str | None = None,
                 cache_dir: str | None = None) -> Embedder:
    """A named embedder (`embedders()`: `builtin` for the offline descriptor, or a plugin's); otherwise an
    open_clip architecture (a name, `hf-hub:ORG/REPO` or a config .json) with a local weights file or a
    `pretrained` tag loaded through open_clip's cache (`cache_dir`: another hub cache folder)."""
    named = embedders()
    if model in named:
        if pretrained is not None:
            raise InputError(pretrained, "--pretrained", f"model '{model}' takes no pretrained tag")
        return named[model](weights, device=device, name=name)
    from .clip import OpenClipEmbedder

    return OpenClipEmbedder(model, weights, pretrained=pretrained, cache_dir=cache_dir, device=device, name=name)


def record(con: duckdb.DuckDBPyConnection, embedder: Embedder) -> None:
    """Add the model to `embedding_models`, or check that it is the same one as recorded."""
    rows = con.execute("SELECT kind, arch, weights_sha256, dim FROM embedding_models WHERE model = ?",
                       [embedder.name]).fetchall()
    mine = (embedder.kind, embedder.arch, embedder.weights_sha256, embedder.dim)
    if not rows:
        con.execute("INSERT INTO embedding_models (model, kind, arch, weights, weights_sha256, dim) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [embedder.name, embedder.kind, embedder.arch, embedder.weights, embedder.weights_sha256,
                     embedder.dim])
    elif tuple(rows[0]) != mine:
        raise InputError(embedder.weights or embedder.name, "--weights",
                         f"model '{embedder.name}' is recorded with other weights or another architecture "
                         f"({rows[0]}); pass --name to embed under a new model name")


def resolve_model(con: duckdb.DuckDBPyConnection, item_type: str, model: str | None) -> str:
    """The model a search means: the one named, or the only one with `item_type` embeddings."""
    if model is not None:
        return model
    models = [m for (m,) in con.execute(
        "SELECT DISTINCT model FROM embeddings WHERE item_type = ? ORDER BY 1", [item_type]).fetchall()]
    if len(models) == 1:
        return models[0]
    if not models:
        raise QmdbError(f"no {item_type} embeddings yet: run `qmdb embed DB`"
                        + (" --labels" if item_type != "image" else ""))
    raise QmdbError(f"several models have {item_type} embeddings ({', '.join(models)}): pass model_name := '...'")


@lru_cache(maxsize=4)
def _reopen(kind: str, arch: str | None, weights: str | None, name: str) -> Embedder:
    if kind == "builtin":
        return BuiltinEmbedder()
    if kind in embedders():  # a plugin's embedder records its registered name as its kind
        return embedders()[kind](weights, name=name)
    from .clip import OpenClipEmbedder

    return OpenClipEmbedder(arch, weights, name=name)


def reopen(con: duckdb.DuckDBPyConnection, model: str) -> Embedder:
    """The embedder that produced a model's vectors, loaded again from `embedding_models` (cached)."""
    rows = con.execute("SELECT kind, arch, weights FROM embedding_models WHERE model = ?", [model]).fetchall()
    if not rows:
        raise QmdbError(f"unknown embedding model '{model}'")
    return _reopen(*rows[0], model)
