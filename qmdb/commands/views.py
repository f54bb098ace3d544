"""qmdb views: list, show, run, save and delete views."""

import argparse
import re

from .. import views
from ..database import project
from ..errors import ViewError
from ..output import FORMATS, print_table, write
from . import COMMANDS
from .arguments import table_options, view_params

NAME = "views"
HELP = COMMANDS[NAME]

_PARAM_SPEC = re.compile(r"^(\w+)\s+(.+?)\s*=\s*(.+)$")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("action", nargs="?", default="list", choices=("list", "show", "run", "save", "delete"))
    parser.add_argument("name", nargs="?", help="the view")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                        help="run: a parameter value; save: a declaration 'NAME TYPE = DEFAULT'")
    parser.add_argument("--sql", help="save: the SELECT")
    parser.add_argument("--description", help="save: what the view returns")
    parser.add_argument("--replace", action="store_true", help="save: overwrite a saved view of that name")
    parser.add_argument("--format", "-f", choices=FORMATS, default="table")
    parser.add_argument("--output", "-o", help="run: file to write (default: stdout)")
    table_options(parser)


def _need_name(args: argparse.Namespace) -> str:
    if not args.name:
        raise ViewError(f"'qmdb views {args.action}' needs a view name")
    return args.name


def _list(con, args) -> None:
    print_table(con.sql(
        "SELECT name, CASE WHEN builtin THEN 'built-in' ELSE 'saved' END AS kind, "
        "CASE WHEN needs_qmdb THEN 'qmdb' ELSE 'any' END AS client, "
        "(SELECT string_agg(p->>'name' || ' = ' || (p->>'default'), ', ') FROM unnest(CAST(parameters AS JSON[])) t(p)) AS parameters, "
        "description FROM saved_views ORDER BY builtin DESC, name"), max_rows=500, max_width=args.max_width)


def _show(con, args) -> None:
    view = views.get(con, _need_name(args))
    print(f"-- {view.name}: {view.description}")
    for p in view.params:
        print(f"-- param: {p.name} {p.type} = {p.default}" + (f" -- {p.doc}" if p.doc else ""))
    print(f"-- needs: {'qmdb' if view.needs_qmdb else 'tables'}")
    print(view.sql)


def _run(con, args) -> None:
    params = view_params(args.param)
    write(views.run(con, _need_name(args), **params), args.format, args.output, max_rows=args.max_rows,
          max_width=args.max_width)


def _save(con, args) -> None:
    if not args.sql or not args.description:
        raise ViewError("'qmdb views save' needs --sql and --description")
    params = {}
    for item in args.param:
        match = _PARAM_SPEC.match(item)
        if not match:
            raise ViewError(f"parameter '{item}' must be declared as 'NAME TYPE = DEFAULT'")
        params[match.group(1)] = (match.group(2), match.group(3))
    view = views.save(con, _need_name(args), args.sql, args.description, params, replace=args.replace)
    print(f"saved view {view.name}")


def _delete(con, args) -> None:
    views.delete(con, _need_name(args))
    print(f"deleted view {args.name}")


ACTIONS = {"list": _list, "show": _show, "run": _run, "save": _save, "delete": _delete}


def run(args: argparse.Namespace) -> int:
    with project(args.database) as con:
        ACTIONS[args.action](con, args)
    return 0
