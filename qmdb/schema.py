"""The project schema: tables of DESIGN.md, versioned by component, migrated on open.

Each component (core, metrics, embeddings, evaluation, …) owns an ordered list
of migrations; `migrate` applies the ones a database has not seen yet, each in
its own transaction, and records them in `schema_migrations`. A component
registers with `@migrations("name")` in its own module, and that module is
named by a `qmdb_schema` hook (`qmdb.builtins` for qmdb's own, a plugin for
its tables), so opening a project brings every table up to date. After the
tables, the views are installed (`qmdb.views.install`): a built-in view that
does not install is an error, never a silent skip.

A migrated file carries the `fingerprint` of the code that migrated it (qmdb's
files, the plugins', DuckDB's version) as the comment of `schema_migrations`,
with the number of migrations it holds; `up_to_date` compares the two, so
opening a file that an unchanged installation migrated runs no DDL at all.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator

import duckdb

from .transaction import transaction

_REGISTRY: dict[str, list[str]] = {}


def migrations(component: str) -> Callable[[list[str]], list[str]]:
    """Register a component's migrations: a list of SQL scripts, oldest first. Never edit one
    that has shipped; append a new one."""

    def register(scripts: list[str]) -> list[str]:
        _REGISTRY[component] = scripts
        return scripts

    return register


CORE = migrations("core")(
    [
        """
        CREATE TABLE IF NOT EXISTS datasets (
            name VARCHAR PRIMARY KEY,
            root VARCHAR NOT NULL,
            format VARCHAR NOT NULL,
            source VARCHAR,
            task VARCHAR,
            imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE SEQUENCE IF NOT EXISTS image_id_seq START 1;
        CREATE TABLE IF NOT EXISTS images (
            image_id BIGINT PRIMARY KEY DEFAULT nextval('image_id_seq'),
            dataset VARCHAR NOT NULL,
            path VARCHAR NOT NULL,
            split VARCHAR,
            width INTEGER,
            height INTEGER,
            file_size BIGINT,
            sha256 VARCHAR,
            status VARCHAR NOT NULL DEFAULT 'ok',
            source_id VARCHAR,
            UNIQUE (dataset, path)
        );
        CREATE TABLE IF NOT EXISTS classes (
            dataset VARCHAR NOT NULL,
            class_id INTEGER NOT NULL,
            class VARCHAR NOT NULL,
            supercategory VARCHAR,
            PRIMARY KEY (dataset, class)
        );
        CREATE SEQUENCE IF NOT EXISTS label_id_seq START 1;
        CREATE TABLE IF NOT EXISTS labels (
            label_id BIGINT PRIMARY KEY DEFAULT nextval('label_id_seq'),
            image_id BIGINT NOT NULL,
            class VARCHAR NOT NULL,
            x DOUBLE,
            y DOUBLE,
            w DOUBLE,
            h DOUBLE,
            polygon DOUBLE[][],
            area DOUBLE,
            iscrowd BOOLEAN NOT NULL DEFAULT false,
            annotator VARCHAR,
            source_id VARCHAR NOT NULL,
            UNIQUE (image_id, source_id)
        );
        CREATE TABLE IF NOT EXISTS models (
            model VARCHAR PRIMARY KEY,
            task VARCHAR NOT NULL,
            dataset VARCHAR,
            source VARCHAR,
            imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE SEQUENCE IF NOT EXISTS prediction_id_seq START 1;
        CREATE TABLE IF NOT EXISTS predictions (
            prediction_id BIGINT PRIMARY KEY DEFAULT nextval('prediction_id_seq'),
            model VARCHAR NOT NULL,
            image_id BIGINT NOT NULL,
            class VARCHAR NOT NULL,
            score DOUBLE NOT NULL,
            x DOUBLE,
            y DOUBLE,
            w DOUBLE,
            h DOUBLE,
            polygon DOUBLE[][],
            probs MAP(VARCHAR, DOUBLE),
            source_id VARCHAR NOT NULL,
            UNIQUE (model, image_id, source_id)
        );
        CREATE SEQUENCE IF NOT EXISTS tag_id_seq START 1;
        CREATE TABLE IF NOT EXISTS tags (
            tag_id BIGINT PRIMARY KEY DEFAULT nextval('tag_id_seq'),
            item_type VARCHAR NOT NULL CHECK (item_type IN ('image', 'label', 'prediction')),
            item_id BIGINT NOT NULL,
            tag VARCHAR NOT NULL,
            author VARCHAR,
            note VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE SEQUENCE IF NOT EXISTS error_id_seq START 1;
        CREATE TABLE IF NOT EXISTS errors (
            error_id BIGINT PRIMARY KEY DEFAULT nextval('error_id_seq'),
            dataset VARCHAR,
            image_id BIGINT,
            file VARCHAR NOT NULL,
            stage VARCHAR NOT NULL,
            message VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE TABLE IF NOT EXISTS saved_views (
            name VARCHAR PRIMARY KEY,
            description VARCHAR NOT NULL,
            sql VARCHAR NOT NULL,
            parameters JSON NOT NULL,
            builtin BOOLEAN NOT NULL DEFAULT false,
            needs_qmdb BOOLEAN NOT NULL DEFAULT false,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        """,
    ]
)

# Masks and keypoints: COCO compressed RLE {size: [h, w], counts}, flat [x, y, v, ...] keypoints, the
# categories' keypoint names and skeleton, a prediction's area as COCO's loadRes computes it, and the
# materialized mask metrics. Registered after "core", whose tables it extends.
MASKS = migrations("masks")(
    [
        """
        ALTER TABLE labels ADD COLUMN IF NOT EXISTS mask STRUCT(size INTEGER[], counts VARCHAR);
        ALTER TABLE labels ADD COLUMN IF NOT EXISTS keypoints DOUBLE[];
        ALTER TABLE labels ADD COLUMN IF NOT EXISTS num_keypoints INTEGER;
        ALTER TABLE predictions ADD COLUMN IF NOT EXISTS mask STRUCT(size INTEGER[], counts VARCHAR);
        ALTER TABLE predictions ADD COLUMN IF NOT EXISTS keypoints DOUBLE[];
        ALTER TABLE predictions ADD COLUMN IF NOT EXISTS area DOUBLE;
        ALTER TABLE classes ADD COLUMN IF NOT EXISTS keypoints VARCHAR[];
        ALTER TABLE classes ADD COLUMN IF NOT EXISTS skeleton INTEGER[][];
        CREATE TABLE IF NOT EXISTS mask_metrics (
            label_id BIGINT PRIMARY KEY,
            mask_hash VARCHAR NOT NULL,
            versions MAP(VARCHAR, INTEGER) NOT NULL,
            mask_area DOUBLE,
            mask_fill DOUBLE,
            mask_outside_box DOUBLE,
            mask_parts INTEGER,
            mask_holes INTEGER,
            mask_vertices INTEGER,
            mask_circularity DOUBLE
        );
        """,
    ]
)


# Pixel label issues of semantic masks (`qmdb.label_errors.semantic_pixels`), written by a semantic
# prediction import with probability files: one row per (model, image) with labelled pixels.
SEMANTIC_PIXELS = migrations("semantic_pixels")(
    [
        """
        CREATE TABLE IF NOT EXISTS semantic_pixel_issues (
            model VARCHAR NOT NULL,
            image_id BIGINT NOT NULL,
            labelled_pixels BIGINT NOT NULL,
            issue_pixels BIGINT NOT NULL,
            label_score DOUBLE NOT NULL,
            issue_mask STRUCT(size INTEGER[], counts VARCHAR) NOT NULL,
            issue_classes STRUCT(label_class VARCHAR, suggested_class VARCHAR, pixels BIGINT)[] NOT NULL,
            PRIMARY KEY (model, image_id)
        );
        """,
    ]
)


def _load_components() -> None:
    from . import plugins

    for module in plugins.items("qmdb_schema"):
        importlib.import_module(module)


def migrate(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """Apply every migration this database lacks, then install the views (qmdb's SQL functions are
    registered on `con` first, as views call them); returns (component, version) of those applied."""
    from .database import register

    register(con)
    _load_components()
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " component VARCHAR, version INTEGER, applied_at TIMESTAMP DEFAULT current_timestamp,"
        " PRIMARY KEY (component, version))"
    )
    done = set(con.execute("SELECT component, version FROM schema_migrations").fetchall())
    applied = []
    for component, scripts in _REGISTRY.items():
        for version, script in enumerate(scripts, start=1):
            if (component, version) in done:
                continue
            with transaction(con):
                con.execute(script)
                con.execute("INSERT INTO schema_migrations (component, version) VALUES (?, ?)", [component, version])
            applied.append((component, version))
    from . import plugins, views

    plugins.call("qmdb_migrate", con=con)
    failed = views.install(con)
    _record_fingerprint(con, complete=not failed)  # a saved view that did not install is tried at every open
    return applied


# Packages whose files make qmdb's own schema: tables, metric columns, macros, views (`udfs/`, `sql/` and
# `server/` are folders of their own in a source checkout).
SOURCES = ("qmdb", "qmdb.udfs", "qmdb.sql", "qmdb.server")
_MARK = "qmdb schema"


def _locations(package: str) -> list[str]:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    return list(spec.submodule_search_locations or []) or ([spec.origin] if spec.origin else [])


def _files(location: str) -> Iterator[tuple[str, int, int]]:
    if os.path.isfile(location):
        stat = os.stat(location)
        yield location, stat.st_size, stat.st_mtime_ns
        return
    for folder, subfolders, names in os.walk(location):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__" and not d.startswith("."))
        for name in sorted(names):
            stat = os.stat(os.path.join(folder, name))
            yield os.path.join(folder, name), stat.st_size, stat.st_mtime_ns


def fingerprint() -> str:
    """A hash of what `migrate` does: DuckDB's version, the registered plugins, and the name, size and
    modification time of every file of qmdb's packages and of each plugin's top-level package.

    >>> fingerprint() == fingerprint()
    True
    """
    from . import plugins

    packages = set(SOURCES)
    digest = hashlib.sha1(duckdb.__version__.encode())
    for name, plugin in sorted(plugins.manager().list_name_plugin(), key=lambda item: item[0]):
        module = plugin.__name__ if isinstance(plugin, type(sys)) else type(plugin).__module__
        digest.update(f"{name}={module}:{type(plugin).__qualname__}".encode())
        packages.add(module.split(".")[0])
    for package in sorted(packages):
        for location in _locations(package):
            for entry in _files(location):
                digest.update(repr(entry).encode())
    return digest.hexdigest()


def _stored(con: duckdb.DuckDBPyConnection) -> tuple[str | None, int]:
    rows = con.execute("SELECT comment FROM duckdb_tables() WHERE database_name = current_database() "
                       "AND schema_name = current_schema() AND table_name = 'schema_migrations'").fetchall()
    if not rows:
        return None, 0
    return rows[0][0], con.execute("SELECT count(*) FROM schema_migrations").fetchall()[0][0]


def up_to_date(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this code migrated the file last and every migration it recorded is still there: then
    `migrate` would change nothing."""
    comment, count = _stored(con)
    return comment == f"{_MARK} {fingerprint()} {count}"


def _record_fingerprint(con: duckdb.DuckDBPyConnection, *, complete: bool) -> None:
    comment, count = _stored(con)
    mark = f"{_MARK} {fingerprint()} {count}" if complete else None
    if comment != mark:
        con.execute(f"COMMENT ON TABLE schema_migrations IS {repr(mark) if mark else 'NULL'}")


def _objects(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal "
        "UNION SELECT sequence_name FROM duckdb_sequences() WHERE database_name = current_database() "
        "UNION SELECT function_name FROM duckdb_functions() WHERE database_name = current_database() "
        "AND NOT internal AND function_type IN ('macro', 'table_macro')").fetchall()}


def repair(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Re-create what applied migrations made and a user dropped (a table, a sequence, a macro): every
    migration script creates `IF NOT EXISTS` or `OR REPLACE`, so the applied ones run again, each in a
    transaction, without a new `schema_migrations` row. `migrate` then reinstalls missing views.
    Returns the names re-created (`qmdb init` prints them).

    >>> import qmdb
    >>> con = qmdb.connect()
    >>> _ = con.execute("DROP TABLE tags")
    >>> repair(con)
    ['tags']
    """
    from .database import register

    register(con)
    _load_components()
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                       "AND table_name = 'schema_migrations'").fetchall()[0][0]:
        return []
    before = _objects(con)
    done = set(con.execute("SELECT component, version FROM schema_migrations").fetchall())
    for component, scripts in _REGISTRY.items():
        for version, script in enumerate(scripts, start=1):
            if (component, version) in done:
                with transaction(con):
                    con.execute(script)
    return sorted(_objects(con) - before)


def schema_version(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The highest applied migration per component."""
    rows = con.execute("SELECT component, max(version) FROM schema_migrations GROUP BY 1 ORDER BY 1").fetchall()
    return dict(rows)


def add_columns(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> list[str]:
    """Add the columns a table lacks (metadata fields, metric columns); returns those added."""
    have = {name for (name,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = current_schema()",
        [table],
    ).fetchall()}
    added = []
    for name, sql_type in columns.items():
        if name not in have:
            con.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {sql_type}')
            added.append(name)
    return added
