"""What SQL the server runs: one read-only query, nothing else.

Checked twice before DuckDB sees it, and enforced a third time by the serving
connection's own settings (`qmdb.server.connection`):

1. sqlglot parses it (any parse error is a 400 naming the parser's message):
   exactly one statement, a SELECT / WITH / VALUES query, no statement nested
   inside (INSERT, COPY, SET, ...), no `SELECT ... INTO`. What it may name is an
   allow-list read from the connection's own catalog (`catalog`): the project's
   tables and views, qmdb's macros, saved views, DuckDB's scalar, aggregate and
   window functions and macros (less `HOST_FUNCTIONS`), the table functions of
   `SAFE_TABLE_FUNCTIONS` and the system views of `SAFE_CATALOG_VIEWS`. Every
   other catalog name (`read_csv`, `glob`, `query`, `duckdb_settings()`,
   `pragma_database_list`, `current_setting`, `truncate_duckdb_logs`, secrets,
   extensions, memory, temp files, logs) is refused by name, and a table that
   is none of these, such as `FROM '/etc/passwd'`, is refused too.
2. DuckDB's own parser splits it: exactly one statement, of type SELECT
   (this closes any gap between the two parsers, e.g. comments).

>>> check("SELECT 1 AS one")
'SELECT 1 AS one'
>>> check("SELECT 1; DROP TABLE images")
Traceback (most recent call last):
...
qmdb.server.safety.UnsafeQuery: send exactly one statement; this text holds 2
>>> check("SELECT * FROM read_csv('/etc/passwd')")
Traceback (most recent call last):
...
qmdb.server.safety.UnsafeQuery: function read_csv is not allowed: it reads files, settings, logs or the host's state
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass, field
from collections import OrderedDict
from collections.abc import Iterable

import duckdb
import sqlglot
from sqlglot import exp

from qmdb.errors import QmdbError

# What a query may call is decided from the connection's catalog (`catalog()`): qmdb's macros and
# views, saved views and the project's tables (everything not internal), DuckDB's scalar, aggregate,
# window functions and macros except those below, and only these table functions and system views.
SAFE_TABLE_FUNCTIONS = frozenset({
    "range", "generate_series", "unnest", "json_each", "json_tree", "repeat", "repeat_row",
    "duckdb_tables", "duckdb_columns", "duckdb_views", "duckdb_functions", "duckdb_types", "duckdb_schemas",
    "duckdb_constraints", "duckdb_indexes", "duckdb_keywords", "duckdb_dependencies",
})
SAFE_CATALOG_VIEWS = frozenset({
    "duckdb_columns", "duckdb_constraints", "duckdb_indexes", "duckdb_schemas", "duckdb_tables", "duckdb_types",
    "duckdb_views", "tables", "columns", "schemata", "views", "table_constraints", "key_column_usage",
    "referential_constraints", "check_constraints", "constraint_column_usage", "constraint_table_usage",
    "character_sets", "pg_am", "pg_attrdef", "pg_attribute", "pg_class", "pg_collation", "pg_constraint",
    "pg_depend", "pg_description", "pg_enum", "pg_index", "pg_indexes", "pg_namespace", "pg_proc", "pg_sequence",
    "pg_sequences", "pg_tables", "pg_type", "pg_views", "sqlite_master", "sqlite_schema",
})
# Scalar functions of DuckDB's catalog a query may not call: they disclose the host or change state.
HOST_FUNCTIONS = frozenset({
    "current_setting", "getvariable", "getenv", "write_log", "nextval", "currval", "setval", "setseed",
    "parse_duckdb_log_message",
})
WHY = {"table": "it reads files, settings, logs or the host's state", "scalar": "it discloses the host or changes state",
       "pragma": "pragmas are not queries", "view": "it discloses the host (paths, settings, logs)"}
TABLE_KINDS = ("table", "table_macro")
SCALAR_KINDS = ("scalar", "aggregate", "window", "macro")
_HEAD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(")

# Node types that are statements or side effects: refused wherever they appear.
DENIED_NODES: tuple[type[exp.Expression], ...] = tuple(
    node for node in (
        getattr(exp, name, None) for name in (
            "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterTable", "Copy",
            "Command", "Set", "SetItem", "Pragma", "Use", "Attach", "Detach", "Install", "Transaction",
            "Commit", "Rollback", "Into", "LoadData", "Summarize", "Describe", "Kill", "Grant", "Revoke",
            "Analyze", "TruncateTable", "Export", "Refresh", "Cache", "Uncache",
        )
    ) if node is not None
)

ALLOWED_ROOTS = (exp.Query, exp.Values)


class UnsafeQuery(QmdbError):
    """SQL the server will not run: not a single read-only query."""


@dataclass(frozen=True)
class Catalog:
    """What a query may name, read from one connection's catalog (`catalog(con)`).

    `relations`: tables and views it may read; `tables` / `scalars`: functions it may call in FROM /
    elsewhere; `refused`: catalog names it may not use, with the reason. All lower case.
    """

    relations: frozenset[str]
    tables: frozenset[str] = frozenset()
    scalars: frozenset[str] = frozenset()
    refused: dict[str, str] = field(default_factory=dict)

    def with_functions(self, other: "Catalog") -> "Catalog":
        """These relations, the functions of `other` (a catalog read from a connection)."""
        return Catalog(self.relations, other.tables, other.scalars, other.refused)


def catalog(con: duckdb.DuckDBPyConnection, relations: Iterable[str] | None = None) -> Catalog:
    """The allow-list of one connection: its own tables, views, macros and functions, minus what discloses the host.

    >>> allowed = catalog(duckdb.connect())
    >>> "lower" in allowed.scalars, "range" in allowed.tables, allowed.refused["duckdb_settings"]
    (True, True, "it reads files, settings, logs or the host's state")
    """
    tables, scalars, refused = set(), set(), {}
    for name, kind, internal in con.execute(
            "SELECT DISTINCT lower(function_name), function_type, internal FROM duckdb_functions()").fetchall():
        if not internal:  # qmdb's macros and the saved views (Python UDFs are listed as internal)
            (tables if kind in TABLE_KINDS else scalars).add(name)
        elif kind in SCALAR_KINDS and name not in HOST_FUNCTIONS:
            scalars.add(name)
        elif kind in TABLE_KINDS and (name in SAFE_TABLE_FUNCTIONS or kind == "table_macro"):
            tables.add(name)
        else:
            refused.setdefault(name, WHY["scalar" if kind in SCALAR_KINDS else kind if kind in WHY else "table"])
    readable = set()
    for name, internal in con.execute(
            "SELECT lower(table_name), false FROM duckdb_tables() WHERE NOT internal "
            "UNION SELECT lower(view_name), internal FROM duckdb_views()").fetchall():
        if not internal or name in SAFE_CATALOG_VIEWS:
            readable.add(name)
        else:
            refused.setdefault(name, WHY["view"])
    if relations is not None:
        readable = {name.lower() for name in relations}
    for name in tables | scalars | readable:
        refused.pop(name, None)
    return Catalog(frozenset(readable), frozenset(tables), frozenset(scalars), refused)


@functools.lru_cache(maxsize=1)
def _builtin_catalog() -> Catalog:
    """DuckDB's own functions, for a check made without a connection."""
    con = duckdb.connect()
    try:
        return catalog(con)
    finally:
        con.close()


def _names(node: exp.Func) -> set[str]:
    """The names a function node may go by: sqlglot's and the one DuckDB sees."""
    if isinstance(node, exp.Anonymous):
        return {str(node.name).lower()}
    names = {node.sql_name().lower()}
    head = _HEAD.match(node.sql(dialect="duckdb"))
    if head:
        names.add(head.group(1).lower())
    return names


def _parse(sql: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.SqlglotError as error:  # ParseError, TokenError (an open quote or comment), ...
        raise UnsafeQuery(f"cannot parse the query: {str(error).splitlines()[0] if str(error) else type(error).__name__}") from None
    except (RecursionError, ValueError) as error:
        raise UnsafeQuery(f"cannot parse the query: {type(error).__name__}") from None
    if len(statements) != 1:
        raise UnsafeQuery(f"send exactly one statement; this text holds {len(statements)}")
    return statements[0]


def _check_function(node: exp.Func, allowed: Catalog) -> None:
    in_from = isinstance(node.parent, exp.Table) and node.parent.this is node
    names = _names(node)
    for name in names:
        if name in allowed.refused:
            raise UnsafeQuery(f"function {name} is not allowed: {allowed.refused[name]}")
    if isinstance(node, (exp.ReadCSV, exp.ReadParquet)):
        raise UnsafeQuery(f"function {node.sql_name().lower()} is not allowed: it reads files")
    callable_ = allowed.tables if in_from else allowed.scalars
    if isinstance(node, exp.Anonymous) and not names & callable_:
        other = "a table function" if names & allowed.scalars else "a scalar function" if names & allowed.tables else None
        where = f"; it is {other}" if other else ""
        raise UnsafeQuery(f"function {node.name} is not allowed: not a function of this database{where}")


def check(sql: str, relations: Iterable[str] | Catalog | None = None,
          con: duckdb.DuckDBPyConnection | None = None) -> str:
    """Return `sql` when it is one read-only query, else raise UnsafeQuery saying why.

    `relations`: a `Catalog`, or the table and view names the query may read (lower case;
    the functions then come from `con`'s catalog); None skips the table check. `con`: a
    connection whose parser must agree it is one SELECT.
    """
    if not sql or not sql.strip():
        raise UnsafeQuery("the query is empty")
    allowed = relations if isinstance(relations, Catalog) else None
    if allowed is None:
        base = catalog(con) if con is not None else _builtin_catalog()
        allowed = base if relations is None else Catalog(frozenset(n.lower() for n in relations)).with_functions(base)
    tree = _parse(sql)
    if not isinstance(tree, ALLOWED_ROOTS):
        raise UnsafeQuery(f"only a SELECT, WITH or VALUES query is allowed, not {tree.key.upper()}")
    for node in tree.walk():
        if isinstance(node, DENIED_NODES):
            raise UnsafeQuery(f"{node.key.upper()} is not allowed: the server runs read-only queries only")
        if isinstance(node, exp.Func):
            _check_function(node, allowed)
    if relations is not None:
        names = set(allowed.relations) | {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if isinstance(table.this, exp.Identifier) and table.name.lower() not in names:
                name = table.name.lower()
                if name in allowed.refused:
                    raise UnsafeQuery(f"{name} is not allowed: {allowed.refused[name]}")
                raise UnsafeQuery(f"unknown table '{table.name}': a query reads the database's tables and views only")
    if con is not None:
        try:
            parsed = con.extract_statements(sql)
        except duckdb.Error as error:
            raise UnsafeQuery(f"cannot parse the query: {str(error).splitlines()[0]}") from None
        if len(parsed) != 1:
            raise UnsafeQuery(f"send exactly one statement; DuckDB reads {len(parsed)}")
        if parsed[0].type != duckdb.StatementType.SELECT:
            raise UnsafeQuery(f"only a query is allowed, not {parsed[0].type.name}")
    return sql


class Checker:
    """`check` against one catalog, remembering the texts that passed.

    The verdict depends only on the text and the catalog, so a text that passed once
    passes again: a repeated query skips both parsers. A server makes a new Checker
    whenever the catalog changes (a write), never edits one.

    >>> checker, con = Checker({"images"}), duckdb.connect()
    >>> checker.check("SELECT * FROM images", con), checker.passed("SELECT * FROM images")
    ('SELECT * FROM images', True)
    >>> checker.check("SELECT * FROM secrets", con)
    Traceback (most recent call last):
    ...
    qmdb.server.safety.UnsafeQuery: unknown table 'secrets': a query reads the database's tables and views only
    """

    def __init__(self, relations: Iterable[str] | Catalog, entries: int = 4096):
        self.catalog = relations if isinstance(relations, Catalog) else None
        self.relations = self.catalog.relations if self.catalog else frozenset(name.lower() for name in relations)
        self.entries = entries
        self._passed: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def passed(self, sql: str) -> bool:
        """Whether `sql` already passed this checker (cheap: no parsing)."""
        return sql in self._passed

    def check(self, sql: str, con: duckdb.DuckDBPyConnection | None = None) -> str:
        """`check(sql, self.catalog or self.relations, con)`, skipped for a text that passed before."""
        if sql in self._passed:
            return sql
        check(sql, self.catalog or self.relations, con)
        if con is not None:  # only the full check (both parsers) is remembered
            with self._lock:
                self._passed[sql] = None
                while len(self._passed) > self.entries:
                    self._passed.popitem(last=False)
        return sql


def relation_names(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Every table and view name a query may read: the project's own and the safe system views (lower case)."""
    return catalog(con).relations
