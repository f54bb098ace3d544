"""CLI commands, one module each: `NAME`, `HELP`, `configure(parser)`, `run(args) -> int`; the modules
are named by the `qmdb_commands` hook (`qmdb.builtins` for these, a plugin for its own)."""
