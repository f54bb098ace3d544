"""The `qmdb` command line: one module per command (`qmdb/commands/`, and any plugin's `qmdb_commands`),
imported only when that command runs."""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys

import duckdb

from . import plugins
from .commands import COMMANDS, module_of
from .errors import QmdbError


def commands() -> dict[str, tuple[str, str]]:
    """Every command as name -> (module, help): the built-ins from `qmdb.commands.COMMANDS`, without
    importing their modules; a plugin's module is imported for its `NAME` and `HELP`."""
    builtin = {module_of(name): name for name in COMMANDS}
    found: dict[str, tuple[str, str]] = {}
    for module_name in plugins.items("qmdb_commands"):
        if module_name in builtin:
            found.setdefault(builtin[module_name], (module_name, COMMANDS[builtin[module_name]]))
        else:
            module = importlib.import_module(module_name)
            found.setdefault(module.NAME, (module_name, module.HELP))
    return found


def build_parser(listing: dict[str, tuple[str, str]], command: str | None = None) -> argparse.ArgumentParser:
    """The parser that lists every command with its help; only `command`'s module is imported, to
    configure its arguments and run it."""
    parser = argparse.ArgumentParser(
        prog="qmdb",
        description="Embedded analytics database for computer-vision data quality, on DuckDB.",
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, text) in listing.items():
        sub = subparsers.add_parser(name, help=text, description=text)
        if name == command:
            module = importlib.import_module(module_name)
            module.configure(sub)
            sub.set_defaults(handler=module.run)
    return parser


def _command_word(argv: list[str]) -> str | None:
    words = [word for word in argv if word != "--debug"]
    return words[0] if words and not words[0].startswith("-") else None


def _unknown(word: str, names: list[str]) -> str:
    near = difflib.get_close_matches(word, names, n=1)
    hint = f"did you mean '{near[0]}'? " if near else ""
    return f"qmdb: error: unknown command '{word}'; {hint}commands: {', '.join(names)}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    listing = commands()
    word = _command_word(argv)
    if word is not None and word not in listing:
        print(_unknown(word, list(listing)), file=sys.stderr)
        return 2
    parser = build_parser(listing, word)
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
