"""CLI commands, one module each: `NAME`, `HELP`, `configure(parser)`, `run(args) -> int`."""

COMMANDS: tuple[str, ...] = (
    "init",
    "sql",
    "tables",
    "views",
)
