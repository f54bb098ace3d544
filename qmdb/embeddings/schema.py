"""The embeddings component's tables: `embedding_models`, `embeddings`, `neighbors`, and what is derived
from a model's vectors: `embedding_map`, `clusters`, `duplicate_groups`, with `embedding_derived`
recording the vectors' state each was computed from (so a change of the vectors recomputes it).

Vectors are stored as `FLOAT[]` in one table for every model, because models
differ in dimension; each model's vectors all have its fixed dimension
(`embedding_models.dim`, checked on insert by the pipeline). Cast to a fixed-size
array for DuckDB's array functions: `vector::FLOAT[512]`.
"""

from __future__ import annotations

from ..schema import migrations

ITEM_TYPES = ("image", "label", "prediction")

MIGRATIONS = migrations("embeddings")(
    [
        """
        CREATE TABLE IF NOT EXISTS embedding_models (
            model VARCHAR PRIMARY KEY,
            kind VARCHAR NOT NULL,
            arch VARCHAR,
            weights VARCHAR,
            weights_sha256 VARCHAR,
            dim INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE TABLE IF NOT EXISTS embeddings (
            item_type VARCHAR NOT NULL CHECK (item_type IN ('image', 'label', 'prediction')),
            item_id BIGINT NOT NULL,
            model VARCHAR NOT NULL,
            vector FLOAT[] NOT NULL,
            PRIMARY KEY (item_type, model, item_id)
        );
        CREATE TABLE IF NOT EXISTS neighbors (
            item_type VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            item_id BIGINT NOT NULL,
            neighbor_id BIGINT NOT NULL,
            rank INTEGER NOT NULL,
            distance DOUBLE NOT NULL,
            PRIMARY KEY (item_type, model, item_id, rank)
        );
        """,
        """
        CREATE TABLE IF NOT EXISTS embedding_map (
            model VARCHAR NOT NULL,
            item_type VARCHAR NOT NULL,
            item_id BIGINT NOT NULL,
            x DOUBLE NOT NULL,
            y DOUBLE NOT NULL,
            method VARCHAR NOT NULL,
            PRIMARY KEY (model, item_type, item_id)
        );
        CREATE TABLE IF NOT EXISTS clusters (
            model VARCHAR NOT NULL,
            item_type VARCHAR NOT NULL,
            item_id BIGINT NOT NULL,
            cluster INTEGER NOT NULL,
            method VARCHAR NOT NULL,
            distance DOUBLE NOT NULL,
            PRIMARY KEY (model, item_type, item_id)
        );
        CREATE TABLE IF NOT EXISTS duplicate_groups (
            model VARCHAR NOT NULL,
            item_type VARCHAR NOT NULL,
            item_id BIGINT NOT NULL,
            group_id BIGINT NOT NULL,
            group_size INTEGER NOT NULL,
            keep BOOLEAN NOT NULL,
            max_distance DOUBLE NOT NULL,
            PRIMARY KEY (model, item_type, item_id)
        );
        CREATE TABLE IF NOT EXISTS embedding_derived (
            kind VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            item_type VARCHAR NOT NULL,
            method VARCHAR NOT NULL,
            params VARCHAR NOT NULL,
            vectors_count BIGINT NOT NULL,
            vectors_hash UBIGINT NOT NULL,
            computed_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (kind, model, item_type)
        );
        """,
    ]
)
