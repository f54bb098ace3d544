"""The label-history tables: `label_batches` (one row per change set) and `label_versions` (one row
per changed label per batch, with the whole row before and after as JSON).

`labels` stays the current state. The migration records the labels a project already holds as
version 1 of each, in one batch whose source is 'migration' (idempotent: a label that has a version
is never recorded again, so `qmdb.schema.repair` may run it twice).
"""

from __future__ import annotations

from ..schema import migrations

SCHEMA = migrations("history")(
    [
        """
        CREATE SEQUENCE IF NOT EXISTS label_batch_id_seq START 1;
        CREATE TABLE IF NOT EXISTS label_batches (
            batch_id BIGINT PRIMARY KEY DEFAULT nextval('label_batch_id_seq'),
            author VARCHAR,
            source VARCHAR NOT NULL,
            reason VARCHAR,
            changes BIGINT NOT NULL DEFAULT 0,
            undoes BIGINT,
            undone_by BIGINT,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE TABLE IF NOT EXISTS label_versions (
            label_id BIGINT NOT NULL,
            version INTEGER NOT NULL,
            batch_id BIGINT NOT NULL,
            op VARCHAR NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
            changed VARCHAR[] NOT NULL,
            old JSON,
            new JSON,
            author VARCHAR,
            source VARCHAR NOT NULL,
            reason VARCHAR,
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (label_id, version)
        );
        INSERT INTO label_batches (author, source, reason, changes)
        SELECT NULL, 'migration', 'the labels present when label history began', count(*)
        FROM labels l WHERE NOT EXISTS (SELECT 1 FROM label_versions v WHERE v.label_id = l.label_id)
        HAVING count(*) > 0;
        INSERT INTO label_versions (label_id, version, batch_id, op, changed, old, new, author, source, reason, created_at)
        SELECT l.label_id, 1, b.batch_id, 'insert',
               list_filter(json_keys(to_json(l)), lambda k: k <> 'label_id'), NULL, to_json(l), NULL, 'migration',
               b.reason, b.created_at
        FROM labels l, (SELECT max(batch_id) AS batch_id, arg_max(reason, batch_id) AS reason,
                               arg_max(created_at, batch_id) AS created_at
                        FROM label_batches WHERE source = 'migration') b
        WHERE b.batch_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM label_versions v WHERE v.label_id = l.label_id);
        """,
    ]
)
