"""Argument parsing shared by the commands."""

from __future__ import annotations

from ..errors import QmdbError


def view_params(items: list[str]) -> dict[str, str]:
    """`-p NAME=VALUE` options as a dict.

    >>> view_params(["k=10", "model_name=detector"])
    {'k': '10', 'model_name': 'detector'}
    """
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise QmdbError(f"parameter '{item}' must be NAME=VALUE")
        params[key.strip()] = value
    return params


def table_options(parser, max_rows: int = 40) -> None:
    """`--max-rows` and `--max-width` for the commands that print tables (`-f vertical` shows every column)."""
    parser.add_argument("--max-rows", type=int, default=max_rows, help=f"rows shown in table format (default {max_rows})")
    parser.add_argument("--max-width", type=int, metavar="N",
                        help="table width in characters (default: the terminal's; no limit into a pipe or file)")


def vector_options(parser) -> None:
    """The project and which vectors: `database`, `--model`, `--item-type` (the commands over embeddings)."""
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("--model", help="embedding model (default: the only one with such vectors)")
    parser.add_argument("--item-type", choices=("image", "label", "prediction"), default="image",
                        help="which vectors (default image)")
