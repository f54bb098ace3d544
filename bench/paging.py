"""Gallery paging at depth: LIMIT/OFFSET against keyset (`qmdb.gallery.paging`), side by side in one process.

A label table of N synthetic rows (DuckDB `range()`, seeded hash: areas with ties and 1 % NULLs),
sorted by area descending then label_id, 50 rows a page at 40 random depths; p95 of each way.
Keyset is timed twice: on the query without its own ORDER BY (what a caller that strips it pages),
and on the query that keeps it (a view whose body sorts: DuckDB still sorts the rows after the cursor).

The gallery route itself (`POST /gallery/items`, `server.pages`) is timed on a project of N labels
with a saved view sorted by area: the first page, and at 40 random depths the page after the cursor
(the cursor fetched untimed by an `offset` link) against the same page by `offset`; cards included.

    python bench/paging.py --sizes 100000 1000000
    python bench/paging.py --route --sizes 1000000
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


def route(n: int) -> dict:
    import tempfile
    from pathlib import Path

    from fastapi.testclient import TestClient

    import qmdb
    from qmdb import views
    from qmdb.server import Settings, create_app

    path = Path(tempfile.mkdtemp()) / "paging.duckdb"
    con = qmdb.connect(path)
    con.execute(f"INSERT INTO images (image_id, dataset, path, width, height) "
                f"SELECT range, 'd', 'i' || range || '.jpg', 640, 480 FROM range({n // 10})")
    con.execute(f"INSERT INTO labels (label_id, image_id, class, x, y, w, h, source_id) "
                f"SELECT range, range // 10, 'c' || (range % 80), 0, 0, 1 + hash(range) % 300, 1 + hash(range, 3) % 200, "
                f"range::VARCHAR FROM range({n})")
    views.save(con, "labels_by_area", "SELECT label_id, image_id, class, w * h AS area FROM labels ORDER BY area DESC",
               "labels by area")
    views.save(con, "labels_by_area_over", "SELECT label_id, image_id, class, w * h AS area FROM labels "
               "WHERE w * h >= min_area ORDER BY area DESC", "labels by area, over a minimum",
               params={"min_area": ("INTEGER", "0")})
    con.close()
    app = create_app(Settings(database=path, page_size=LIMIT))
    rng = random.Random(0)
    out = {"cursor": [], "offset": [], "macro_cursor": []}
    with TestClient(app) as client:
        def post(view="labels_by_area", **body):
            start = time.perf_counter()
            page = client.post("/gallery/items", json={"view": view, "limit": LIMIT, **body})
            assert page.status_code == 200, page.text
            return time.perf_counter() - start, page.json()

        first, _ = post()
        for depth in [rng.randrange(LIMIT, n - 2 * LIMIT) for _ in range(PAGES)]:
            _, before = post(offset=depth - LIMIT)
            seconds, by_cursor = post(cursor=before["next_cursor"])
            out["cursor"].append(seconds)
            seconds, by_offset = post(offset=depth)
            out["offset"].append(seconds)
            assert by_cursor["rows"] == by_offset["rows"], depth
            _, before = post("labels_by_area_over", offset=depth - LIMIT, params={"min_area": 1})
            seconds, by_macro = post("labels_by_area_over", cursor=before["next_cursor"], params={"min_area": 1})
            out["macro_cursor"].append(seconds)
            assert by_macro["rows"] == by_offset["rows"], depth
    app.state.qmdb.con.close()
    return {"first": first * 1000, **{k: float(np.percentile(v, 95)) * 1000 for k, v in out.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--route", action="store_true", help="time POST /gallery/items on a project instead")
    args = parser.parse_args()
    if args.route:
        print("| labels | first page ms | cursor page p95 ms | offset page p95 ms | offset / cursor "
              "| cursor page p95 ms, view with parameters |")
        print("|---:|---:|---:|---:|---:|---:|")
        for n in args.sizes:
            r = route(n)
            print(f"| {n:,} | {r['first']:.0f} | {r['cursor']:.0f} | {r['offset']:.0f} | {r['offset'] / r['cursor']:.1f}× "
                  f"| {r['macro_cursor']:.0f} |",
                  flush=True)
        return
    print(f"| rows | OFFSET p95 ms | keyset p95 ms | OFFSET / keyset | keyset, body keeps its ORDER BY, p95 ms | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        r = run(n)
        print(f"| {n:,} | {r['offset']:.1f} | {r['keyset']:.1f} | {r['offset'] / r['keyset']:.1f}× | "
              f"{r['keyset_sorted_body']:.1f} | {r['offset'] / r['keyset_sorted_body']:.1f}× |", flush=True)


if __name__ == "__main__":
    main()
