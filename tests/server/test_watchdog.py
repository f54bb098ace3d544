"""The watchdog interrupts a query whose deadline passed, even one queued behind a later deadline."""

import duckdb

from qmdb.server.watchdog import Watchdog

SLOW = "SELECT count(*) FROM range(1000000) a(x), range(1000000) b(y) WHERE hash(x + y) = 7"


def test_an_earlier_deadline_behind_a_later_one_still_fires():
    watchdog, con = Watchdog(), duckdb.connect()
    idle, busy = con.cursor(), con.cursor()
    with watchdog.watch(idle, 600) as late, watchdog.watch(busy, 0.2) as early:
        try:
            busy.execute(SLOW).fetchall()
            interrupted = False
        except duckdb.InterruptException:
            interrupted = True
    assert interrupted and early.fired and not late.fired


def test_a_finished_query_is_never_interrupted():
    watchdog, con = Watchdog(), duckdb.connect()
    cursor = con.cursor()
    with watchdog.watch(cursor, 0.05) as ticket:
        assert cursor.execute("SELECT 42").fetchall() == [(42,)]
    cursor.execute("SELECT count(*) FROM range(30000000)").fetchall()  # runs past the old deadline
    assert not ticket.fired
