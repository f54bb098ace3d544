"""After new vectors: recompute whatever was derived from a model's vectors (map, clusters, duplicate
groups) with the method and parameters it was computed with, when those vectors changed."""

from __future__ import annotations

import duckdb

from . import clusters, derived, duplicate_groups
from . import map as embedding_map


def refresh(con: duckdb.DuckDBPyConnection, model: str) -> dict[str, int]:
    """{'kind item_type': rows written} for each derived table of `model` that was stale."""
    done = {}
    for kind, item_type, method, params in derived.recorded(con, model):
        if kind == "map":
            written = embedding_map.materialize(con, model, item_type, method, seed=params.get("seed", 0))
        elif kind == "clusters":
            written = clusters.materialize(con, model, item_type, params["k"], seed=params["seed"])
        else:
            written = duplicate_groups.materialize(con, model, item_type, params["max_distance"], k=params["k"])
        if written:
            done[f"{kind} {item_type}"] = written
    return done
