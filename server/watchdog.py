"""Per-query timeouts that really stop DuckDB: one thread interrupts cursors whose time is up.

A heap of deadlines and one daemon thread, rather than a `threading.Timer`
(a new thread) per request; a request wakes the thread only when its deadline
is the earliest, so with one timeout for all requests a busy server wakes it
about once a second, not once a request.

>>> import duckdb, time
>>> cursor = duckdb.connect().cursor()
>>> with WATCHDOG.watch(cursor, 0.2) as ticket:
...     try:
...         _ = cursor.execute("SELECT count(*) FROM range(1000000) a(x), range(1000000) b(y) WHERE hash(x + y) = 7").fetchall()
...     except duckdb.InterruptException:
...         pass
>>> ticket.fired
True
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Any


class Ticket:
    """One watched query; `fired` says whether it was interrupted for time."""

    def __init__(self, watchdog: "Watchdog", cursor: Any, deadline: float):
        self.watchdog, self.cursor, self.deadline = watchdog, cursor, deadline
        self.fired = False
        self.done = False

    def cancel(self) -> None:
        self.done = True

    def __enter__(self) -> "Ticket":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


class Watchdog:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Ticket]] = []
        self._counter = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, cursor: Any, seconds: float) -> Ticket:
        """Interrupt `cursor` in `seconds` unless the ticket is cancelled first."""
        ticket = Ticket(self, cursor, time.monotonic() + seconds)
        with self._wake:
            heapq.heappush(self._heap, (ticket.deadline, next(self._counter), ticket))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="qmdb-watchdog", daemon=True)
                self._thread.start()
            if self._heap[0][2] is ticket:  # only an earlier deadline needs the thread awake sooner
                self._wake.notify()
        return ticket

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait(timeout=1.0)
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._wake.wait(timeout=min(wait, 1.0))
                    continue
                ticket = heapq.heappop(self._heap)[2]
            if not ticket.done:
                ticket.fired = True
                try:
                    ticket.cursor.interrupt()
                except Exception:  # a cursor already closed has nothing to interrupt
                    pass


WATCHDOG = Watchdog()
