"""What SQL the server runs: one read-only query, nothing else.

Checked twice before DuckDB sees it, and enforced a third time by the serving
connection's own settings (`qmdb.server.connection`):

1. sqlglot parses it: exactly one statement, a SELECT / WITH / VALUES query,
   no statement nested inside (INSERT, COPY, SET, ...), no `SELECT ... INTO`,
   no function that reads files or runs SQL given as a string (`read_csv`,
   `read_text`, `glob`, `query`, ...), and every table it names is a table or
   view of the database or one of its own CTEs — so `FROM '/etc/passwd'`,
   a file path in quotes, is refused by name.
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
qmdb.server.safety.UnsafeQuery: function read_csv is not allowed: it reads files or runs SQL text
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

import duckdb
import sqlglot
from sqlglot import exp

from qmdb.errors import QmdbError

# Function names refused anywhere in a query (lower case); prefixes below too.
DENIED_FUNCTIONS = frozenset({
    "glob", "query", "query_table", "sniff_csv", "read_text", "read_blob", "parquet_scan",
    "json_execute_serialized_sql", "checkpoint", "force_checkpoint", "duckdb_secrets",
    "which_secret", "load_aws_credentials", "st_read", "st_readosm", "st_read_meta",
    "getenv", "system", "httpfs", "from_substrait", "from_substrait_json", "arrow_scan",
    "arrow_scan_dumb", "python_map_function", "pandas_scan", "repository", "delta_scan",
    "iceberg_scan", "iceberg_metadata", "iceberg_snapshots", "sqlite_attach", "postgres_attach",
    "mysql_attach", "duckdb_extensions", "install", "load", "export", "import",
    "nextval", "setval", "currval", "setseed", "duckdb_databases", "enable_profiling",
})
DENIED_PREFIXES = ("read_", "parquet_", "sqlite_", "postgres_", "mysql_", "iceberg_", "delta_", "pragma_", "write_")
DENIED_SUFFIXES = ("_scan", "_attach")

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


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _denied(name: str) -> bool:
    return name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES) or name.endswith(DENIED_SUFFIXES)


def _parse(sql: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as error:
        raise UnsafeQuery(f"cannot parse the query: {str(error).splitlines()[0]}") from None
    if len(statements) != 1:
        raise UnsafeQuery(f"send exactly one statement; this text holds {len(statements)}")
    return statements[0]


def check(sql: str, relations: Iterable[str] | None = None, con: duckdb.DuckDBPyConnection | None = None) -> str:
    """Return `sql` when it is one read-only query, else raise UnsafeQuery saying why.

    `relations`: the table and view names the query may read (lower case); None
    skips that check. `con`: a connection whose parser must agree it is one SELECT.
    """
    if not sql or not sql.strip():
        raise UnsafeQuery("the query is empty")
    tree = _parse(sql)
    if not isinstance(tree, ALLOWED_ROOTS):
        raise UnsafeQuery(f"only a SELECT, WITH or VALUES query is allowed, not {tree.key.upper()}")
    for node in tree.walk():
        if isinstance(node, DENIED_NODES):
            raise UnsafeQuery(f"{node.key.upper()} is not allowed: the server runs read-only queries only")
        if isinstance(node, (exp.ReadCSV, exp.ReadParquet)) or (isinstance(node, exp.Func) and _denied(_function_name(node))):
            raise UnsafeQuery(f"function {_function_name(node)} is not allowed: it reads files or runs SQL text")
    if relations is not None:
        allowed = {name.lower() for name in relations}
        allowed |= {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if isinstance(table.this, exp.Identifier) and table.name.lower() not in allowed:
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
    """`check` against one set of relation names, remembering the texts that passed.

    The verdict depends only on the text and the names a query may read, so a text
    that passed once passes again: a repeated query skips both parsers. A server
    makes a new Checker whenever the names change (a write), never edits one.

    >>> checker, con = Checker({"images"}), duckdb.connect()
    >>> checker.check("SELECT * FROM images", con), checker.passed("SELECT * FROM images")
    ('SELECT * FROM images', True)
    >>> checker.check("SELECT * FROM secrets", con)
    Traceback (most recent call last):
    ...
    qmdb.server.safety.UnsafeQuery: unknown table 'secrets': a query reads the database's tables and views only
    """

    def __init__(self, relations: Iterable[str], entries: int = 4096):
        self.relations = frozenset(name.lower() for name in relations)
        self.entries = entries
        self._passed: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def passed(self, sql: str) -> bool:
        """Whether `sql` already passed this checker (cheap: no parsing)."""
        return sql in self._passed

    def check(self, sql: str, con: duckdb.DuckDBPyConnection | None = None) -> str:
        """`check(sql, self.relations, con)`, skipped for a text that passed before."""
        if sql in self._passed:
            return sql
        check(sql, self.relations, con)
        if con is not None:  # only the full check (both parsers) is remembered
            with self._lock:
                self._passed[sql] = None
                while len(self._passed) > self.entries:
                    self._passed.popitem(last=False)
        return sql


def relation_names(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Every table and view name a query may read, the system ones included (lower case)."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()"
    ).fetchall()
    return frozenset(name.lower() for (name,) in rows)
