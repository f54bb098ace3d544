"""qmdb serve: the HTTP query server (read-only unless told otherwise)."""

import argparse
import os

from ..errors import MissingExtra, QmdbError
from . import COMMANDS

NAME = "serve"
HELP = COMMANDS[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("database", help="path of the .duckdb file")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes, each with its own read-only connection (read-only mode only)")
    parser.add_argument("--allow-writes", action="store_true", help="add the write endpoints (needs --token)")
    parser.add_argument("--token", default=os.environ.get("QMDB_WRITE_TOKEN"),
                        help="bearer token the write endpoints require (default: $QMDB_WRITE_TOKEN)")
    parser.add_argument("--token-file", help="read the write token from this file (first line)")
    parser.add_argument("--auth-token", default=os.environ.get("QMDB_AUTH_TOKEN"),
                        help="bearer token every request requires (default: $QMDB_AUTH_TOKEN)")
    parser.add_argument("--auth-token-file", help="read the token every request requires from this file (first line)")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="let pages from ORIGIN (e.g. http://localhost:3000, or *) call the server; repeatable")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="a Host header to accept besides localhost/127.0.0.1/::1 when bound to a loopback "
                             "address (any is accepted on other addresses); repeatable")
    parser.add_argument("--max-body-bytes", type=int, default=1_000_000, help="largest request body (413 beyond)")
    parser.add_argument("--max-requests", type=int, default=64,
                        help="requests in flight at once; more wait in line (see --queue-timeout)")
    parser.add_argument("--queue-timeout", type=float, default=10.0,
                        help="seconds a request waits in line before a 503 with Retry-After")
    parser.add_argument("--max-rows", type=int, default=1_000_000, help="most rows in one response")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a query is interrupted")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit of the server")
    parser.add_argument("--max-memory", default="4GB",
                        help="memory ceiling of each server process, DuckDB and Python together (Linux: "
                             "RLIMIT_DATA); a request past it gets 503 (default 4GB; 'none' for no ceiling)")
    parser.add_argument("--shutdown-timeout", type=float, default=3.0,
                        help="seconds running requests get on Ctrl-C / SIGTERM before they are interrupted")
    parser.add_argument("--cache-entries", type=int, default=1024,
                        help="JSON pages cached for repeated deterministic queries, read-only mode (0: off)")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--access-log", action="store_true", help="log every request (off by default: it costs throughput)")


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


def allowed_hosts(host: str, extra: list[str]) -> tuple[str, ...]:
    """The Host headers a server bound to `host` accepts: on a loopback address only loopback names (and
    `extra`), so a web page cannot reach it through a name that resolves to 127.0.0.1; elsewhere any.

    >>> allowed_hosts("127.0.0.1", [])
    ('localhost', '127.0.0.1', '::1', '[::1]')
    >>> allowed_hosts("0.0.0.0", [])
    ()
    """
    import ipaddress

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return (*LOOPBACK_NAMES, *extra) if loopback else ()


def _read_token(path: str) -> str | None:
    try:
        return open(path, encoding="utf-8").readline().strip() or None
    except OSError as error:
        raise QmdbError(f"{path}: cannot read the token file: {error.strerror}") from None


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..server import Settings, create_app
    except ImportError as error:
        raise MissingExtra("qmdb serve", "server") from error
    if args.workers < 1:
        raise QmdbError("--workers must be at least 1")
    if args.allow_writes and args.workers > 1:
        raise QmdbError("--allow-writes needs --workers 1: only one process may hold the file for writing")
    if not os.path.exists(args.database):
        raise QmdbError(f"{args.database}: no such database file (create it with 'qmdb init' or 'qmdb demo')")
    token = _read_token(args.token_file) if args.token_file else args.token
    auth_token = _read_token(args.auth_token_file) if args.auth_token_file else args.auth_token
    try:
        settings = Settings(database=args.database, max_rows=args.max_rows, timeout=args.timeout,
                            memory_limit=args.memory_limit, auth_token=auth_token,
                            max_memory=None if str(args.max_memory).lower() == "none" else args.max_memory,
                            allow_writes=args.allow_writes, write_token=token,
                            cache_entries=args.cache_entries, cors_origins=tuple(args.cors_origin),
                            max_body_bytes=args.max_body_bytes, max_requests=args.max_requests,
                            queue_timeout=args.queue_timeout, allowed_hosts=allowed_hosts(args.host, args.allow_host))
    except ValueError as error:
        raise QmdbError(str(error)) from None
    mode = "read-write" if args.allow_writes else "read-only"
    print(f"qmdb: serving {args.database} ({mode}) on http://{args.host}:{args.port}  (docs: /docs)")
    options = {"host": args.host, "port": args.port, "log_level": args.log_level, "access_log": args.access_log,
               "timeout_graceful_shutdown": args.shutdown_timeout}
    if args.workers > 1:  # each worker process builds the app, so opens its own read-only connection
        path = settings.to_file()
        try:
            uvicorn.run("qmdb.server.app:app_from_environment", factory=True, workers=args.workers, **options)
        finally:
            os.unlink(path)
    else:
        from ..server.memory import limit_process

        app = create_app(settings)
        limit_process(settings.max_memory)
        uvicorn.run(app, **options)
    return 0
