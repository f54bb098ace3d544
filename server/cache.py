"""A bounded cache of JSON pages, used only where an answer cannot change while served.

A read-only server holds the file with a shared lock, so no writer can change it
while it runs: the same deterministic query with the same parameters and page
gives the same bytes. Whether a query is deterministic is DuckDB's word: the
functions it calls (found by sqlglot, through the views and macros it uses) are
looked up in ``duckdb_functions()``, and one that DuckDB does not call
CONSISTENT (VOLATILE: random, nextval, a Python UDF registered with
side effects; CONSISTENT_WITHIN_QUERY only: now, current_date, getvariable) or
does not know makes the answer uncacheable, as does a sample. Nothing on a
server started with --allow-writes is cached.

>>> cache = PageCache(entries=2)
>>> key = cache.key("SELECT 1", None, 10, 0)
>>> cache.put(key, b"[1]"); cache.get(key)
b'[1]'
>>> cache.learn({"shuffled": "SELECT * FROM images ORDER BY random()", "top": "SELECT * FROM shuffled LIMIT 5"})
>>> cache.cacheable("SELECT * FROM top"), cache.cacheable("SELECT count(*) FROM images")
(False, True)
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from functools import lru_cache

import duckdb
import sqlglot
from sqlglot import exp

MEMO_CHARS = 16_384  # longer SQL texts are analysed every time rather than kept

# SQL syntax that sqlglot models as a function but DuckDB does not list as one: deterministic.
SYNTAX = frozenset({"cast", "try_cast", "coalesce", "columns", "exists", "unnest", "extract"})
# What DuckDB does not call CONSISTENT but cannot change between the requests of a read-only server
# whose configuration is locked: `error` raises instead of varying (VOLATILE so that it is never folded
# away); the catalogue and session functions are CONSISTENT_WITHIN_QUERY or unrated only because a
# USE, SET or ATTACH could change them, and the server runs none.
SERVED_CONSTANT = frozenset({"error", "current_database", "current_schema", "current_schemas", "in_search_path",
                             "duckdb_databases"})
_HEAD = re.compile(r"\s*([A-Za-z_]\w*)\s*(\()?")
# DuckDB writes a lambda back as (lambda x: ...), which sqlglot does not read; (x) -> ... it does
_LAMBDA = re.compile(r"\blambda\s+([\w\s,]+?)\s*:", re.IGNORECASE)

_FUNCTIONS = """
SELECT function_name, function_type, stability, macro_definition FROM duckdb_functions()
WHERE internal OR function_type NOT IN ('macro', 'table_macro')
"""


def _references(sql: str) -> tuple[set[str], set[str]] | None:
    """(functions called, relations read) by `sql`, lower case; None when sqlglot cannot read it or it
    samples rows."""
    functions, relations = set(), set()
    try:
        trees = sqlglot.parse(_LAMBDA.sub(r"(\1) ->", sql), read="duckdb")
    except sqlglot.errors.SqlglotError:
        return None
    for tree in filter(None, trees):
        for node in tree.find_all(exp.Func, exp.Table, exp.TableSample):
            if isinstance(node, exp.TableSample):
                return None
            if isinstance(node, exp.Table):
                relations.add(node.name.lower())  # '' for a table function: its call is a Func below
            elif isinstance(node, exp.Anonymous):
                functions.add(node.name.lower())
            else:  # a function sqlglot knows: its name as DuckDB spells it, unless it is an operator or syntax
                text = node.sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.IGNORE)
                head = _HEAD.match(text)
                if head and (head.group(2) or head.group(0).strip() == text.strip()):
                    functions.add(head.group(1).lower())
    return functions - SYNTAX, relations - {""}


def _spread(direct: dict[str, bool], calls: dict[str, set[str]]) -> set[str]:
    """The names that are volatile themselves or call (read) one that is, directly or not."""
    volatile = {name for name, is_volatile in direct.items() if is_volatile}
    while True:
        more = {name for name, used in calls.items() if name not in volatile and used & volatile}
        if not more:
            return volatile
        volatile |= more


def volatility(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """{function name: whether an answer that calls it may change} for the functions and internal macros of
    `con`: volatile unless some overload is CONSISTENT and none VOLATILE (or it is in `SERVED_CONSTANT`);
    a macro is volatile when its body calls something volatile or unknown."""
    stabilities: dict[str, set] = {}
    bodies: dict[str, list[str]] = {}
    for name, kind, stability, body in con.execute(_FUNCTIONS).fetchall():
        if kind in ("macro", "table_macro"):
            bodies.setdefault(name.lower(), []).append(body or "")
        else:
            stabilities.setdefault(name.lower(), set()).add(stability)
    direct = {name: "VOLATILE" in found or "CONSISTENT" not in found for name, found in stabilities.items()}
    calls: dict[str, set[str]] = {}
    for name, texts in bodies.items():
        used = [_references(text) for text in texts]
        if any(u is None for u in used):
            direct[name] = True
            continue
        functions = set().union(*(f for f, _ in used))
        unknown = any(f not in stabilities and f not in bodies for f in functions - SERVED_CONSTANT)
        direct[name] = direct.get(name, False) or unknown  # a name can be a function and a macro
        calls[name] = functions
    for name in SERVED_CONSTANT:
        direct[name] = False
    volatile = _spread(direct, calls)
    return {name: name in volatile for name in direct}


@lru_cache(maxsize=1)
def builtin_volatility() -> dict[str, bool]:
    """`volatility` of DuckDB's own functions (a fresh in-memory database: no Python UDF, which is then unknown)."""
    con = duckdb.connect()
    try:
        return volatility(con)
    finally:
        con.close()


class PageCache:
    def __init__(self, entries: int = 1024, max_bytes: int = 1 << 20):
        self.entries = entries
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

        self._functions: dict[str, bool] | None = None  # None: DuckDB's built-ins (looked up on first use)
        self._definitions: dict[str, bool] = {}  # view or macro of the database: volatile
        self._verdicts: dict[str, bool] = {}

    def learn(self, definitions: dict[str, str], functions: dict[str, bool] | None = None) -> None:
        """Judge the database's views and macros ({name: SQL}) by what they call, directly or through one
        another. ``functions`` is `volatility` of the serving connection (its Python UDFs included);
        without it, DuckDB's built-ins are known and any other function counts as volatile."""
        self._functions = functions
        names = {name.lower() for name in definitions}
        direct, reads = {}, {}
        for name, sql in definitions.items():
            used = _references(sql or "")
            called, read = used or (set(), set())
            direct[name.lower()] = used is None or self._unknown_or_volatile(called - names)
            reads[name.lower()] = (called | read) & names
        volatile = _spread(direct, reads)
        self._definitions = {name: name in volatile for name in direct}
        self._verdicts = {}

    def _unknown_or_volatile(self, functions: set[str]) -> bool:
        known = builtin_volatility() if self._functions is None else self._functions
        return any(known.get(function, True) for function in functions)

    def cacheable(self, *sql: str) -> bool:
        """No volatile or unknown function, and no view or macro that calls one, in the SQL the answer depends on.

        >>> PageCache().cacheable("SELECT random()"), PageCache().cacheable("SELECT now()")
        (False, False)
        """
        return not any(self._volatile(text) for text in sql)

    def _volatile(self, text: str) -> bool:
        """Whether `text` calls something volatile; remembered for repeated texts until the next `learn`."""
        known = self._verdicts.get(text)
        if known is None:
            used = _references(text)
            called, read = used or (set(), set())
            known = used is None or self._unknown_or_volatile(called - set(self._definitions)) or any(
                self._definitions.get(name, False) for name in called | read)
            if len(text) <= MEMO_CHARS:
                if len(self._verdicts) >= self.entries + 64:
                    self._verdicts.clear()
                self._verdicts[text] = known
        return known

    @staticmethod
    def key(sql: str, params: list | dict | None, limit: int | None, offset: int) -> tuple:
        return sql, json.dumps(params, sort_keys=True, default=str), limit, offset

    def get(self, key: tuple) -> bytes | None:
        if not self.entries:
            return None
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: bytes) -> None:
        if not self.entries or len(page) > self.max_bytes:
            return
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.entries:
                self._pages.popitem(last=False)
