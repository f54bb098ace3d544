"""kill -9 in the middle of a run, run again: no duplicate row, no lost row, the same values as a clean run.

The fault is injected from here only: the killed run is a script of this test that replaces the
commit seam of `qmdb.transaction` with one that SIGKILLs its own process before the Nth commit,
then calls the public runner.
"""

import signal
import subprocess
import sys
import textwrap

import qmdb

from .conftest import BOXES, BROKEN, GOOD, make_project

FILES = GOOD + sorted(BROKEN) + ["missing.jpg"]
KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    import qmdb, qmdb.transaction

    con = qmdb.connect(sys.argv[1])
    kill_at, commits, commit = int(sys.argv[2]), [0], qmdb.transaction.commit

    def commit_or_die(con):
        commits[0] += 1
        if commits[0] == kill_at:  # inside this chunk's transaction, its rows written, before COMMIT
            os.kill(os.getpid(), signal.SIGKILL)
        commit(con)

    qmdb.transaction.commit = commit_or_die
    qmdb.compute_metrics(con, workers=2, chunk_size=2, progress=False)
""")


def table(con, name, key):
    return con.sql(f"SELECT * EXCLUDE (versions) FROM {name} ORDER BY {key}").fetchall()


def test_killed_run_resumes_without_duplicates_or_gaps(tmp_path, photo_dir):
    killed_db, clean_db = tmp_path / "killed.duckdb", tmp_path / "clean.duckdb"
    for db in (killed_db, clean_db):
        make_project(db, photo_dir, FILES, BOXES).close()

    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN)
    log = tmp_path / "killed.log"
    with open(log, "wb") as out:  # SIGKILL inside chunk 3's transaction, before COMMIT
        done = subprocess.run([sys.executable, str(script), str(killed_db), "3"], stdout=out, stderr=out,
                              timeout=120)
    assert done.returncode == -signal.SIGKILL, log.read_text()[-2000:]

    con = qmdb.connect(killed_db)
    assert con.sql("SELECT count(*) FROM image_metrics").fetchall() == [(4,)]  # two committed chunks of two
    resumed = qmdb.compute_metrics(con, workers=0, chunk_size=2, progress=False)
    assert resumed.images == len(FILES) - 4

    clean = qmdb.connect(clean_db)
    qmdb.compute_metrics(clean, workers=0, chunk_size=5, progress=False)
    for name, key in (("image_metrics", "image_id"), ("label_metrics", "label_id")):
        got = table(con, name, key)
        assert len(got) == len({row[0] for row in got}), f"duplicate rows in {name}"
        assert got == table(clean, name, key)
    errors = "SELECT image_id, file, message FROM errors WHERE stage = 'metrics' ORDER BY image_id"
    assert con.sql(errors).fetchall() == clean.sql(errors).fetchall()
    assert len(con.sql(errors).fetchall()) == len(BROKEN) + 1
