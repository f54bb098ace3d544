"""A bounded cache of JSON pages, used only where an answer cannot change while served.

A read-only server holds the file with a shared lock, so no writer can change it
while it runs: the same deterministic query with the same parameters and page
gives the same bytes. Queries that call a volatile function (random, now, nextval,
current_setting, ...) or a qmdb Python function are never cached, nor is anything
on a server started with --allow-writes.

>>> cache = PageCache(entries=2)
>>> key = cache.key("SELECT 1", None, 10, 0)
>>> cache.put(key, b"[1]"); cache.get(key)
b'[1]'
>>> cache.learn({"shuffled": "SELECT * FROM images ORDER BY random()", "top": "SELECT * FROM shuffled LIMIT 5"})
>>> cache.cacheable("SELECT * FROM top"), cache.cacheable("SELECT * FROM images")
(False, True)
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict

VOLATILE = re.compile(
    r"\b(random|rand|setseed|uuid|gen_random_uuid|uuidv4|uuidv7|now|current_timestamp|current_date|current_time|"
    r"localtime|localtimestamp|get_current_time|get_current_timestamp|today|transaction_timestamp|nextval|currval|"
    r"current_setting|getvariable|current_query|txid_current|similar_\w+|embed\w*|sample|tablesample|using\s+sample)\b",
    re.IGNORECASE)
MEMO_CHARS = 16_384  # longer SQL texts are searched every time rather than kept


class PageCache:
    def __init__(self, entries: int = 1024, max_bytes: int = 1 << 20):
        self.entries = entries
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

        self.volatile_names: re.Pattern | None = None
        self._verdicts: dict[str, bool] = {}

    def learn(self, definitions: dict[str, str]) -> None:
        """Mark the views and macros that call a volatile function, directly or through another one."""
        volatile = {name for name, sql in definitions.items() if VOLATILE.search(sql or "")}
        while True:
            pattern = re.compile(r"\b(" + "|".join(map(re.escape, volatile)) + r")\b", re.IGNORECASE) if volatile else None
            more = {name for name, sql in definitions.items()
                    if name not in volatile and pattern and pattern.search(sql or "")}
            if not more:
                break
            volatile |= more
        self.volatile_names = pattern
        self._verdicts = {}

    def cacheable(self, *sql: str) -> bool:
        """No volatile function, and no view or macro that calls one, in the SQL the answer depends on.

        >>> PageCache().cacheable("SELECT random()")
        False
        """
        return not any(self._volatile(text) for text in sql)

    def _volatile(self, text: str) -> bool:
        """Whether `text` calls a volatile function; remembered for repeated texts until the next `learn`."""
        known = self._verdicts.get(text)
        if known is None:
            known = bool(VOLATILE.search(text) or (self.volatile_names and self.volatile_names.search(text)))
            if len(text) <= MEMO_CHARS:
                if len(self._verdicts) >= self.entries + 64:
                    self._verdicts.clear()
                self._verdicts[text] = known
        return known

    @staticmethod
    def key(sql: str, params: list | dict | None, limit: int | None, offset: int) -> tuple:
        return sql, json.dumps(params, sort_keys=True, default=str), limit, offset

    def get(self, key: tuple) -> bytes | None:
        if not self.entries:
            return None
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: bytes) -> None:
        if not self.entries or len(page) > self.max_bytes:
            return
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.entries:
                self._pages.popitem(last=False)
