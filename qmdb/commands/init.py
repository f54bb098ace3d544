"""qmdb init: create a project database, or migrate and repair one."""

import argparse

from ..database import STORAGE_VERSION, project
from ..schema import schema_version
from ..storage import storage_of
from . import COMMANDS

NAME = "init"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("--storage-version", metavar="VERSION",
                        help=f"a new file's DuckDB storage format (default {STORAGE_VERSION}, which DuckDB 1.4 "
                             "and later read, or $QMDB_STORAGE_VERSION; 'latest' for DuckDB 2.0's own)")
    parser.add_argument("--convert", action="store_true",
                        help="rewrite an existing project in that storage format (the original is kept as "
                             "DB.before-convert)")


def _objects(con) -> set[str]:
    return {name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "UNION SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal "
        "UNION SELECT function_name FROM duckdb_functions() WHERE database_name = current_database() "
        "AND NOT internal AND function_type IN ('macro', 'table_macro')"
    ).fetchall()}


def run(args: argparse.Namespace) -> int:
    import duckdb
    from pathlib import Path

    if args.convert:
        return _convert(args)
    before = set()
    if Path(args.database).exists():
        with duckdb.connect(args.database, read_only=True) as plain:
            before = _objects(plain)
    with project(args.database, create=True, repair=True, storage_version=args.storage_version) as con:
        versions = ", ".join(f"{c} v{v}" for c, v in schema_version(con).items())
        storage = storage_of(con)
        repaired = sorted(_objects(con) - before) if before else []
    print(f"{args.database}: schema {versions}; storage {storage}")
    if repaired:
        print(f"re-created {len(repaired)}: {', '.join(repaired)}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from ..database import NoProject, storage_version
    from ..storage import convert, file_storage_version
    from pathlib import Path

    if not Path(args.database).is_file():
        raise NoProject(args.database)
    version = storage_version(args.storage_version)
    was = file_storage_version(args.database)
    kept = convert(args.database, version)
    print(f"{args.database}: storage {was} -> {file_storage_version(args.database)}; "
          f"the original is kept as {kept} (remove it when you are satisfied)")
    return 0
