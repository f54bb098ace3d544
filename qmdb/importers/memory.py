"""The memory DuckDB may hold while an import's transaction is open.

DuckDB keeps an open transaction's new rows in its buffer pool, up to its `memory_limit` (80 % of
RAM by default), so without a bound the peak of an import grows with the dataset (6.4 GiB for
1,000,000 images and 10,000,000 boxes). Under `IMPORT_MEMORY` (2 GiB; `QMDB_IMPORT_MEMORY`
overrides it, e.g. `4GiB`) DuckDB writes the overflow to its temporary files instead: 3.97 GiB peak
for the same import, 84.8 s against 78.5 s unbounded. A lower limit the user set stays; the limit is put back
after the import (`RESET` when it was DuckDB's default). The metric pass runs under its own bound
(`qmdb.udfs.runner.METRICS_MEMORY`, `QMDB_METRICS_MEMORY`): there the buffer pool would keep the
work list and every metric row written (2.4 GiB at 1,000,000 images).

>>> size_bytes("18.8 GiB"), size_bytes("476.8 MiB"), size_bytes("2GB")
(20186346291, 499961036, 2000000000)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from ..errors import QmdbError

IMPORT_MEMORY = "2GiB"
_UNITS = {"": 1, "b": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")


def size_bytes(text: str, variable: str = "QMDB_IMPORT_MEMORY") -> int:
    """Bytes of a DuckDB memory size ('18.8 GiB', '2GB', '500MiB'); `variable` names where it came from."""
    match = _SIZE.match(text)
    if not match or match.group(2).lower() not in _UNITS:
        raise QmdbError(f"{variable}: '{text}' is not a memory size such as 2GiB or 4000MB")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _setting(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]


@contextmanager
def bounded(con: duckdb.DuckDBPyConnection, limit: str = IMPORT_MEMORY,
            variable: str = "QMDB_IMPORT_MEMORY") -> Iterator[None]:
    """Run the block with DuckDB's memory limit at most `limit` (the environment `variable` overrides
    it), then restore it."""
    limit = os.environ.get(variable, limit)
    wanted = size_bytes(limit, variable)
    before = _setting(con)
    if size_bytes(before) <= wanted:
        yield
        return
    default = _setting(duckdb.connect()) == before
    con.execute(f"SET memory_limit = '{wanted}B'")
    try:
        yield
    finally:
        con.execute("RESET memory_limit" if default else f"SET memory_limit = '{before}'")
