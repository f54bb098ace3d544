"""Gallery paging at depth: LIMIT/OFFSET against keyset (`qmdb.gallery.paging`), side by side in one process.

A label table of N synthetic rows (DuckDB `range()`, seeded hash: areas with ties and 1 % NULLs),
sorted by area descending then label_id, 50 rows a page at 40 random depths; p95 of each way.
Keyset is timed twice: on the query without its own ORDER BY (what a caller that strips it pages),
and on the query that keeps it (a view whose body sorts: DuckDB still sorts the rows after the cursor).

    python bench/paging.py --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import random
import time

import duckdb
import numpy as np

from qmdb.gallery.paging import Key, encode_cursor, decode_cursor, page_sql

KEYS = [Key("area", descending=True), Key("label_id")]
BODY = "SELECT label_id, image_id, class, area FROM labels"
LIMIT, PAGES = 50, 40


def timed(con, sql, params=None) -> float:
    start = time.perf_counter()
    con.execute(sql, params).fetchall()
    return time.perf_counter() - start


def run(n: int) -> dict:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE labels AS SELECT range AS label_id, range // 10 AS image_id, 'c' || (range % 80) AS class, "
                f"CASE WHEN hash(range, 7) % 100 = 0 THEN NULL ELSE round((hash(range) % 100000) / 10.0, 1) END AS area "
                f"FROM range({n})")
    order = ", ".join(k.order() for k in KEYS)
    rng = random.Random(0)
    depths = [rng.randrange(1, n - LIMIT) for _ in range(PAGES)]
    out = {"offset": [], "keyset": [], "keyset_sorted_body": []}
    for depth in depths:
        out["offset"].append(timed(con, f"SELECT * FROM ({BODY} ORDER BY {order}) LIMIT {LIMIT} OFFSET {depth}"))
        before = con.execute(f"{BODY} ORDER BY {order} LIMIT 1 OFFSET {depth - 1}").fetchall()[0]  # untimed: the cursor
        after = decode_cursor(encode_cursor(before, [3, 0]))
        expect = con.execute(f"{BODY} ORDER BY {order} LIMIT {LIMIT} OFFSET {depth}").fetchall()
        for name, body in (("keyset", BODY), ("keyset_sorted_body", f"{BODY} ORDER BY area DESC")):
            sql, params = page_sql(body, KEYS, after, LIMIT)
            out[name].append(timed(con, sql, params))
            assert con.execute(sql, params).fetchall() == expect, (name, depth)  # the same page both ways
    return {k: float(np.percentile(v, 95)) * 1000 for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    print(f"| rows | OFFSET p95 ms | keyset p95 ms | OFFSET / keyset | keyset, body keeps its ORDER BY, p95 ms | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        r = run(n)
        print(f"| {n:,} | {r['offset']:.1f} | {r['keyset']:.1f} | {r['offset'] / r['keyset']:.1f}× | "
              f"{r['keyset_sorted_body']:.1f} | {r['offset'] / r['keyset_sorted_body']:.1f}× |", flush=True)


if __name__ == "__main__":
    main()
