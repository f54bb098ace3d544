"""CLI commands, one module each: `NAME`, `HELP`, `configure(parser)`, `run(args) -> int`."""

COMMANDS: tuple[str, ...] = (
    "init",
    "sql",
    "tables",
    "views",
    "import_",
    "export",
    "metrics",
    "serve",
    "snapshot",
    "tag",
    "embed",
    "evaluate",
    "demo",
    "gallery",
    "plot",
)
