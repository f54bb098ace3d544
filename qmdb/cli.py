"""The `qmdb` command line: one module per command (`qmdb/commands/`, and any plugin's `qmdb_commands`)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

import duckdb

from . import plugins
from .errors import QmdbError


def _command_modules(only: str | None = None) -> list:
    found = []
    for module_name in plugins.items("qmdb_commands"):
        if only is not None and module_name.rsplit(".", 1)[-1].rstrip("_") != only:
            continue
        module = importlib.import_module(module_name)
        if only is None or module.NAME == only:
            found.append(module)
    return found


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given the command's name, of that command alone when a module of
    that name (`import_` for `import`) defines it, so a command imports only its own module."""
    parser = argparse.ArgumentParser(
        prog="qmdb",
        description="Embedded analytics database for computer-vision data quality, on DuckDB.",
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (only is not None and _command_modules(only)) or _command_modules():
        sub = commands.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.configure(sub)
        sub.set_defaults(handler=module.run)
    return parser


def _command_word(argv: list[str]) -> str | None:
    words = [word for word in argv if word != "--debug"]
    return words[0] if words and not words[0].startswith("-") else None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(_command_word(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        code = args.handler(args) or 0
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:  # `qmdb sql … | head -1`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except (QmdbError, duckdb.Error, OSError) as error:
        if args.debug:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"qmdb: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qmdb: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
