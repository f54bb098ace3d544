"""Views: the built-in ones of `sql/` and the ones users save, stored in the project file.

A view is a name, a description, a SELECT and named parameters with defaults.
Without parameters it is installed as a DuckDB VIEW (`SELECT * FROM name`); with
them, as a table macro (`SELECT * FROM name(min_score := 0.9)`). Either way it
lives in the database file, so any DuckDB client can run it.

A built-in view is one file, `sql/<name>.sql`, whose header says what it is::

    -- description: Images whose predictions are least confident, most uncertain first.
    -- param: model_name VARCHAR = NULL -- the model to read; NULL reads every model
    -- param: limit_rows INTEGER = 100 -- how many images to return
    -- needs: tables
    SELECT ...

`needs: qmdb` marks a view that calls qmdb's Python functions and so runs only in
a connection opened by qmdb; `needs: tables` one that any DuckDB client can run.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .errors import ViewError
from .transaction import transaction

_HEADER = re.compile(r"^--\s*(\w+):\s*(.*)$")
_PARAM = re.compile(r"^(\w+)\s+([\w\[\]()., ]+?)\s*=\s*(.+?)\s*(?:--\s*(.*))?$")
NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str
    doc: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "default": self.default, "doc": self.doc}


@dataclass(frozen=True)
class View:
    name: str
    description: str
    sql: str
    params: tuple[Param, ...] = field(default_factory=tuple)
    needs_qmdb: bool = False
    builtin: bool = False

    @property
    def create_sql(self) -> str:
        if not self.params:
            return f"CREATE OR REPLACE VIEW {self.name} AS\n{self.sql}"
        signature = ", ".join(f"{p.name} := {p.default}" for p in self.params)
        return f"CREATE OR REPLACE MACRO {self.name}({signature}) AS TABLE\n{self.sql}"

    def call_sql(self, given: dict | None = None) -> tuple[str, list]:
        """The query that runs this view with some parameters bound, and the bound values."""
        given = dict(given or {})
        unknown = set(given) - {p.name for p in self.params}
        if unknown:
            raise ViewError(f"view {self.name}: unknown parameter(s) {', '.join(sorted(unknown))}; "
                            f"it takes {', '.join(p.name for p in self.params) or 'none'}")
        if not self.params:
            return f"SELECT * FROM {self.name}", []
        args = [f"{name} := CAST(? AS {self.param(name).type})" for name in given]
        return f"SELECT * FROM {self.name}({', '.join(args)})", list(given.values())

    def inline_sql(self, given: dict | None = None) -> tuple[str, list] | None:
        """The view's own query with its parameters in place, as DuckDB expands the macro (an unqualified
        column reference of a parameter's name becomes the value: `CAST(? AS type)` when given, its default
        otherwise), and the bound values; for a caller that rewrites the query (the gallery drops its ORDER BY
        to sort once). None when the text cannot be tokenized."""
        import sqlglot
        from sqlglot.tokens import TokenType

        self.call_sql(given)
        given = dict(given or {})
        names = {p.name.lower(): p for p in self.params}
        try:
            tokens = sqlglot.Dialect.get_or_raise("duckdb").tokenize(self.sql)
        except sqlglot.errors.SqlglotError:
            return None
        kinds = [t.token_type for t in tokens]
        parts, values, at = [], [], 0
        for i, token in enumerate(tokens):
            param = names.get(token.text.lower()) if kinds[i] in (TokenType.VAR, TokenType.IDENTIFIER) else None
            before = kinds[i - 1] if i else None
            after = kinds[i + 1] if i + 1 < len(kinds) else None
            if param is None or before in (TokenType.DOT, TokenType.ALIAS) \
                    or after in (TokenType.DOT, TokenType.COLON_EQ, TokenType.L_PAREN) \
                    or (after == TokenType.ALIAS and i + 2 < len(kinds) and kinds[i + 2] == TokenType.L_PAREN):
                continue
            parts.append(self.sql[at:token.start])
            if param.name in given:
                parts.append(f"(CAST(? AS {param.type}))")
                values.append(given[param.name])
            else:
                parts.append(f"(CAST({param.default} AS {param.type}))")
            at = token.end + 1
        return "".join(parts) + self.sql[at:], values

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)


def parse(name: str, text: str, *, builtin: bool = False) -> View:
    """Read a view file: header comments, then the SELECT."""
    meta: dict[str, list[str]] = {}
    body_lines = []
    in_header = True
    for line in text.splitlines():
        match = _HEADER.match(line.strip()) if in_header else None
        if match:
            meta.setdefault(match.group(1), []).append(match.group(2).strip())
        elif in_header and (not line.strip() or line.strip().startswith("--")):
            continue
        else:
            in_header = False
            body_lines.append(line)
    if "description" not in meta:
        raise ViewError(f"view {name}: the header has no '-- description:' line")
    params = []
    for spec in meta.get("param", []):
        match = _PARAM.match(spec)
        if not match:
            raise ViewError(f"view {name}: cannot read parameter '{spec}'; write '-- param: name TYPE = default -- doc'")
        params.append(Param(match.group(1), match.group(2).strip(), match.group(3), match.group(4) or ""))
    needs = (meta.get("needs") or ["tables"])[0]
    if needs not in ("tables", "qmdb"):
        raise ViewError(f"view {name}: 'needs' is '{needs}', expected 'tables' or 'qmdb'")
    sql = "\n".join(body_lines).strip().rstrip(";")
    return View(name, " ".join(meta["description"]), sql, tuple(params), needs == "qmdb", builtin)


def builtin_views() -> list[View]:
    """The views every project gets: the `.sql` files of each folder a `qmdb_views` hook names
    (`sql/` for qmdb's own), by file name; two files of one name are an error."""
    from . import plugins

    found: dict[str, tuple[View, Path]] = {}
    for folder in plugins.items("qmdb_views"):
        for path in sorted(Path(folder).glob("*.sql")):
            name = path.stem
            if name in found:
                raise ViewError(f"built-in view {name}: defined by both {found[name][1]} and {path}")
            found[name] = (parse(name, path.read_text(encoding="utf-8"), builtin=True), path)
    return [view for view, _ in sorted(found.values(), key=lambda pair: pair[0].name)]


def _from_row(row: tuple) -> View:
    name, description, sql, parameters, builtin, needs_qmdb = row
    params = tuple(Param(**p) for p in json.loads(parameters))
    return View(name, description, sql, params, needs_qmdb, builtin)


def _store(con: duckdb.DuckDBPyConnection, *views: View) -> None:
    """Write the views' rows of `saved_views` in one statement (one per view costs a round trip each)."""
    if not views:
        return
    rows = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(views))
    con.execute(
        f"INSERT OR REPLACE INTO saved_views (name, description, sql, parameters, builtin, needs_qmdb) VALUES {rows}",
        [value for view in views for value in (view.name, view.description, view.sql,
                                               json.dumps([p.as_dict() for p in view.params]),
                                               view.builtin, view.needs_qmdb)],
    )


def _installed(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND database_name = current_database() "
        "UNION SELECT function_name FROM duckdb_functions() WHERE function_type = 'table_macro' "
        "AND database_name = current_database()"
    ).fetchall()
    return {name for (name,) in rows}


def install(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Create every built-in and saved view this database lacks or has out of date (`qmdb.schema.migrate`
    calls it, after the tables they read).

    A built-in view that fails to install raises `ViewError` naming it and DuckDB's reason. A saved
    view that no longer installs (a table it read was dropped) is left out with a warning; returns
    {view name: why} for those.
    """
    stored = {v.name: v for v in list_views(con)}
    builtins = builtin_views()
    _store(con, *(view for view in builtins if stored.get(view.name) != view))
    wanted = list_views(con)
    present = _installed(con)
    pending = [v for v in wanted if v.name not in present or stored.get(v.name) != v]
    failed: dict[str, str] = {}
    while pending:
        progress = []
        for view in pending:
            try:
                con.execute(view.create_sql)
                progress.append(view)
            except duckdb.Error as error:
                failed[view.name] = str(error).strip().splitlines()[0]
        if not progress:
            break
        pending = [v for v in pending if v not in progress]
        for view in progress:
            failed.pop(view.name, None)
    broken = sorted(set(failed) & {v.name for v in builtins})
    if broken:
        raise ViewError(f"built-in view {broken[0]} does not install: {failed[broken[0]]}"
                        + (f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""))
    for name, why in failed.items():
        warnings.warn(f"saved view {name} no longer installs: {why}", stacklevel=2)
    return failed


def list_views(con: duckdb.DuckDBPyConnection) -> list[View]:
    rows = con.execute(
        "SELECT name, description, sql, parameters, builtin, needs_qmdb FROM saved_views ORDER BY builtin DESC, name"
    ).fetchall()
    return [_from_row(r) for r in rows]


def get(con: duckdb.DuckDBPyConnection, name: str) -> View:
    rows = con.execute(
        "SELECT name, description, sql, parameters, builtin, needs_qmdb FROM saved_views WHERE name = ?", [name]
    ).fetchall()
    if not rows:
        known = ", ".join(v.name for v in list_views(con))
        raise ViewError(f"no view named '{name}'; known views: {known or 'none'}")
    return _from_row(rows[0])


_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\([0-9, ]*\))?(\[[0-9]*\])*$")


def _one_query(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> None:
    """The body must be exactly one SELECT / WITH / VALUES query, by sqlglot's and DuckDB's parsers both."""
    import sqlglot
    from sqlglot import exp

    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
        parsed = con.extract_statements(sql)
    except (sqlglot.errors.ParseError, duckdb.Error) as error:
        raise ViewError(f"view {name}: syntax error: {str(error).strip().splitlines()[0]}") from None
    if len(trees) != 1 or len(parsed) != 1:
        raise ViewError(f"view {name}: the SQL must be one query; it holds {max(len(trees), len(parsed))} statements")
    if not isinstance(trees[0], (exp.Query, exp.Values)) or parsed[0].type != duckdb.StatementType.SELECT:
        raise ViewError(f"view {name}: the SQL must be a SELECT, WITH or VALUES query, not {parsed[0].type.name}")


def _check_params(con: duckdb.DuckDBPyConnection, view: View) -> None:
    """Names, types and defaults are checked (a default is one value of its type), and each is used."""
    import sqlglot
    from sqlglot import exp

    used = {c.name for c in sqlglot.parse_one(view.sql, read="duckdb").find_all(exp.Column) if not c.table}
    for p in view.params:
        if not NAME.match(p.name):
            raise ViewError(f"view {view.name}: parameter name '{p.name}' must be lower-case letters, digits, underscores")
        if not _TYPE.match(p.type.strip()):
            raise ViewError(f"view {view.name}: parameter {p.name}: '{p.type}' is not a SQL type")
        try:
            statements = con.extract_statements(f"SELECT CAST({p.default} AS {p.type})")
            if len(statements) != 1:
                raise ViewError(f"view {view.name}: parameter {p.name}: the default must be one value")
            con.execute(statements[0]).fetchall()
        except duckdb.Error as error:
            raise ViewError(f"view {view.name}: parameter {p.name}: default {p.default} is not a {p.type}: "
                            f"{str(error).strip().splitlines()[0]}") from None
        if p.name not in used:
            raise ViewError(f"view {view.name}: parameter {p.name} is declared but the SQL never uses it")
    if len({p.name for p in view.params}) != len(view.params):
        raise ViewError(f"view {view.name}: a parameter is declared twice")


def _explain(view: View, error: duckdb.Error) -> str:
    message = str(error).strip().splitlines()[0]
    column = re.search(r'Referenced column "?(\w+)"? not found', message)
    if column and column.group(1) not in {p.name for p in view.params}:
        message += (f" (a column of no table in the query; if it is a parameter, declare it: "
                    f"-p '{column.group(1)} TYPE = DEFAULT')")
    return f"view {view.name}: {message}"


def _taken_name(con: duckdb.DuckDBPyConnection, name: str, saved: set[str]) -> str | None:
    """What else in the catalog is called `name` (a table, a built-in view or macro, a DuckDB function), if anything.

    `saved`: the names of the user's saved views, which a save may replace.
    """
    if name in saved:
        return None
    found = con.execute(
        "SELECT kind FROM (SELECT 'table' AS kind, table_name AS n FROM duckdb_tables() "
        "UNION ALL SELECT CASE WHEN internal THEN 'DuckDB view' ELSE 'view' END, view_name FROM duckdb_views() "
        "UNION ALL SELECT CASE WHEN internal THEN 'DuckDB function' ELSE function_type END, function_name "
        "FROM duckdb_functions()) WHERE lower(n) = lower(?) LIMIT 1", [name]).fetchall()
    return found[0][0].replace("table_macro", "table macro") if found else None


def save(con: duckdb.DuckDBPyConnection, name: str, sql: str, description: str,
         params: dict[str, tuple[str, str]] | None = None, *, replace: bool = False) -> View:
    """Save a user view; checked now (syntax, one query, tables, columns, parameters), not at its first run.

    `params` maps each parameter name to (SQL type, default as SQL literal).
    """
    if not NAME.match(name):
        raise ViewError(f"view name '{name}' must be lower-case letters, digits and underscores")
    if not description.strip():
        raise ViewError(f"view {name}: a description is required")
    view = View(name, description.strip(), sql.strip().rstrip(";").strip(),
                tuple(Param(p, t.strip(), d.strip()) for p, (t, d) in (params or {}).items()))
    _one_query(con, name, view.sql)
    _check_params(con, view)
    if len(con.extract_statements(view.create_sql)) != 1:
        raise ViewError(f"view {name}: the SQL must be one query")
    existing = {v.name: v for v in list_views(con)}
    if name in existing and existing[name].builtin:
        raise ViewError(f"'{name}' is a built-in view; choose another name")
    if name in existing and not replace:
        raise ViewError(f"a view named '{name}' exists; pass replace=True (--replace) to overwrite it")
    taken = _taken_name(con, name, {v.name for v in existing.values() if not v.builtin})
    if taken:
        raise ViewError(f"'{name}' is the name of a {taken}; a saved view cannot take it, choose another name")
    try:
        with transaction(con):
            con.execute(view.create_sql)
            con.execute(f"SELECT * FROM ({view.call_sql()[0]}) LIMIT 0")
            _store(con, view)
    except duckdb.Error as error:
        raise ViewError(_explain(view, error)) from None
    return view


def delete(con: duckdb.DuckDBPyConnection, name: str) -> None:
    view = get(con, name)
    if view.builtin:
        raise ViewError(f"'{name}' is a built-in view and cannot be deleted")
    kind = "MACRO TABLE" if view.params else "VIEW"
    con.execute(f"DROP {kind} IF EXISTS {name}")
    con.execute("DELETE FROM saved_views WHERE name = ?", [name])


def run(con: duckdb.DuckDBPyConnection, name: str, **params) -> duckdb.DuckDBPyRelation:
    """Run a view with parameters; returns a relation (`.arrow()`, `.df()`, `.fetchall()`)."""
    view = get(con, name)
    query, values = view.call_sql(params)
    try:
        return con.sql(query, params=values)
    except duckdb.Error as error:
        raise ViewError(f"view {name}: {str(error).splitlines()[0]}") from None
