"""qmdb history: the versions of labels (of one label, since a time, of one batch), the batches, the
diff of the labels between two points in time or snapshots, and the undo of a batch."""

import argparse
import getpass

from ..database import project
from ..errors import QmdbError
from ..history import batches, diff, undo, versions
from ..output import FORMATS, write
from . import COMMANDS
from .arguments import table_options

NAME = "history"
HELP = COMMANDS[NAME]
ACTIONS = ("batches", "diff", "undo")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("words", nargs="+", metavar="[ACTION] DATABASE [BATCH]",
                        help="DATABASE alone lists versions; 'batches DATABASE' lists batches; "
                             "'diff DATABASE --from A --to B' diffs; 'undo DATABASE BATCH' undoes a batch")
    parser.add_argument("--label", type=int, metavar="ID", help="versions of one label")
    parser.add_argument("--since", metavar="T", help="versions from this time (YYYY-MM-DD[ HH:MM]) or snapshot on")
    parser.add_argument("--batch", type=int, metavar="B", help="versions of one batch")
    parser.add_argument("--from", dest="start", metavar="T|SNAPSHOT", help="diff: the earlier point")
    parser.add_argument("--to", dest="end", default="now", metavar="T|SNAPSHOT", help="diff: the later point (default now)")
    parser.add_argument("--author", help="undo: who undoes (default: the login name)")
    parser.add_argument("--format", "-f", choices=FORMATS, default="table")
    parser.add_argument("--output", "-o", help="file to write (default: stdout)")
    table_options(parser)


def _parse(words: list[str]) -> tuple[str, str, int | None]:
    action = words[0] if words[0] in ACTIONS and len(words) > 1 else "versions"
    rest = words[1:] if action != "versions" else words
    if action == "undo":
        if len(rest) != 2 or not rest[1].isdigit():
            raise QmdbError("'qmdb history undo DATABASE BATCH' needs the batch id ('qmdb history batches DATABASE')")
        return action, rest[0], int(rest[1])
    if len(rest) != 1:
        raise QmdbError(f"'qmdb history {'' if action == 'versions' else action + ' '}DATABASE' takes one database, "
                        f"got {' '.join(rest)}")
    return action, rest[0], None


def run(args: argparse.Namespace) -> int:
    action, database, batch = _parse(args.words)
    with project(database) as con:
        if action == "undo":
            done = undo(con, batch, author=args.author or getpass.getuser())
            changes = con.execute("SELECT changes FROM label_batches WHERE batch_id = ?", [done]).fetchall()[0][0]
            print(f"undid batch {batch}: {changes} label(s) restored, as batch {done}")
            return 0
        if action == "diff":
            if not args.start:
                raise QmdbError("'qmdb history diff' needs --from T|SNAPSHOT (and --to, default now)")
            relation = diff(con, args.start, args.end).select(
                "change, label_id, image_id, array_to_string(changed, ' ') AS changed, before_class, after_class, "
                "before_box::VARCHAR AS before_box, after_box::VARCHAR AS after_box")
        elif action == "batches":
            relation = batches(con)
        else:
            relation = versions(con, label_id=args.label, since=args.since, batch=args.batch).select(
                "label_id, version, batch_id, op, array_to_string(changed, ' ') AS changed, old_class, new_class, "
                "old_box::VARCHAR AS old_box, new_box::VARCHAR AS new_box, author, source, "
                "reason, created_at, undone_by")
        write(relation, args.format, args.output, max_rows=args.max_rows, max_width=args.max_width)
    return 0
