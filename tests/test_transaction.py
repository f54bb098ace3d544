"""`transaction`: all of a group of writes or none of them, with the Arrow tables they read."""

import doctest

import pyarrow as pa
import pytest

import qmdb
import qmdb.transaction
from qmdb.transaction import transaction

TAG = "INSERT INTO tags (item_type, item_id, tag) SELECT 'image', id, tag FROM rows"


def tags(con):
    return con.sql("SELECT item_id, tag FROM tags ORDER BY item_id").fetchall()


def test_the_doctest_runs():
    assert doctest.testmod(qmdb.transaction).failed == 0


def test_commits_and_unregisters_the_tables():
    con = qmdb.connect()
    with transaction(con, rows=pa.table({"id": [1, 2], "tag": ["a", "b"]})) as inside:
        assert inside is con
        con.execute(TAG)
    assert tags(con) == [(1, "a"), (2, "b")]
    with pytest.raises(Exception):
        con.sql("SELECT * FROM rows").fetchall()


def test_an_exception_rolls_everything_back_and_propagates():
    con = qmdb.connect()
    with pytest.raises(KeyboardInterrupt):
        with transaction(con, rows=pa.table({"id": [1], "tag": ["a"]})):
            con.execute(TAG)
            raise KeyboardInterrupt
    assert tags(con) == []
    with pytest.raises(Exception):
        con.sql("SELECT * FROM rows").fetchall()
    with transaction(con):  # the connection is usable again: no transaction left open
        pass


def test_a_failed_statement_rolls_back_the_earlier_ones():
    con = qmdb.connect()
    with pytest.raises(Exception, match="nope"):
        with transaction(con, rows=pa.table({"id": [1], "tag": ["a"]})):
            con.execute(TAG)
            con.execute("SELECT * FROM nope")
    assert tags(con) == []


def test_refuses_to_nest_in_an_open_transaction():
    con = qmdb.connect()
    con.execute("BEGIN TRANSACTION")
    with pytest.raises(qmdb.QmdbError, match="transaction of its own"):
        with transaction(con):
            pass
    con.execute("ROLLBACK")


def test_every_transaction_ends_through_the_commit_seam(monkeypatch):
    """Tests interrupt a run just before a commit by replacing `qmdb.transaction.commit`."""
    con = qmdb.connect()
    seen = []

    def commit(con):
        seen.append(tags(con))  # the rows are written, not yet committed
        con.execute("COMMIT")

    monkeypatch.setattr(qmdb.transaction, "commit", commit)
    with transaction(con, rows=pa.table({"id": [7], "tag": ["x"]})):
        con.execute(TAG)
    assert seen == [[(7, "x")]] and tags(con) == [(7, "x")]
