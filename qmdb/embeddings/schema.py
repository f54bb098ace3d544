"""The embeddings component's tables: `embedding_models`, `embeddings`, `neighbors`.

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
    ]
)
