"""The page cache judges a query by DuckDB's stability of the functions it calls, through views and macros."""

import duckdb
import pytest

import qmdb
from qmdb.server.cache import PageCache, volatility

DEFINITIONS = """
SELECT view_name, sql FROM duckdb_views() WHERE NOT internal UNION ALL
SELECT function_name, string_agg(macro_definition, ' ') FROM duckdb_functions()
WHERE function_type IN ('macro', 'table_macro') AND NOT internal GROUP BY 1
"""


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x INTEGER, ts TIMESTAMP, l INTEGER[])")
    yield con
    con.close()


def learned(con, functions: bool = True) -> PageCache:
    cache = PageCache()
    cache.learn(dict(con.execute(DEFINITIONS).fetchall()), volatility(con) if functions else None)
    return cache


@pytest.mark.parametrize("sql", [
    "SELECT now()", "SELECT random()", "SELECT current_timestamp", "SELECT current_date", "SELECT today()",
    "SELECT x FROM t ORDER BY random() LIMIT 3", "SELECT uuid()", "SELECT nextval('s')",
    "SELECT getvariable('v')", "SELECT * FROM t USING SAMPLE 50%", "SELECT * FROM t TABLESAMPLE 10 ROWS",
    "SELECT no_such_function(x) FROM t", "SELECT * FROM query('SELECT random()')",
    "SELECT x FROM t WHERE ts > now() - INTERVAL 1 DAY", "SELECT (1",
])
def test_volatile_unknown_or_sampled_is_never_cached(con, sql):
    assert not learned(con).cacheable(sql)


@pytest.mark.parametrize("sql", [
    "SELECT count(*) AS n, avg(x), list(x ORDER BY x) FROM t WHERE x > ?",
    "SELECT x::DOUBLE, CAST(x AS VARCHAR), coalesce(x, 0), nullif(x, 1), if(x > 1, 'a', 'b'), "
    "row_number() OVER (ORDER BY x), strftime(ts, '%Y'), year(ts) FROM t",
    "SELECT list_transform(l, lambda v: v + 1), unnest(l) FROM t",
    "SELECT * FROM range(10)",
    "SELECT EXISTS (SELECT 1 FROM t), current_database()",
])
def test_consistent_queries_are_cached(con, sql):
    assert learned(con).cacheable(sql)


def test_a_macro_or_view_that_calls_a_volatile_function_is_volatile_and_so_is_its_caller(con):
    con.execute("CREATE MACRO jitter(v) AS v + random()")
    con.execute("CREATE MACRO stamped() AS TABLE SELECT x, now() AS at FROM t")
    con.execute("CREATE VIEW shuffled AS SELECT jitter(x) AS x FROM t")
    con.execute("CREATE VIEW top AS SELECT * FROM shuffled LIMIT 1")
    con.execute("CREATE MACRO plus_one(v) AS v + 1")
    con.execute("CREATE VIEW incremented AS SELECT list_transform(l, lambda v: plus_one(v)) AS l FROM t")
    cache = learned(con)
    assert not cache.cacheable("SELECT jitter(1)")
    assert not cache.cacheable("SELECT * FROM stamped()")
    assert not cache.cacheable("SELECT * FROM top")
    assert cache.cacheable("SELECT plus_one(x) FROM t")
    assert cache.cacheable("SELECT * FROM incremented")  # DuckDB writes it back as (lambda v: ...)


def test_python_udfs_come_out_as_duckdb_rates_them(con):
    con.create_function("noisy", lambda v: v, [duckdb.sqltype("BIGINT")], duckdb.sqltype("BIGINT"),
                        side_effects=True)
    con.create_function("pure", lambda v: v, [duckdb.sqltype("BIGINT")], duckdb.sqltype("BIGINT"),
                        side_effects=False)
    cache = learned(con)
    assert not cache.cacheable("SELECT noisy(x) FROM t")
    assert cache.cacheable("SELECT pure(x) FROM t")
    without = learned(con, functions=False)  # only DuckDB's built-ins known: every Python UDF is volatile
    assert not without.cacheable("SELECT noisy(x) FROM t") and not without.cacheable("SELECT pure(x) FROM t")
    assert without.cacheable("SELECT count(*) FROM t")


def test_the_builtin_views_are_cached_except_those_that_call_python(tmp_path):
    con = qmdb.connect(tmp_path / "views.duckdb")
    try:
        for functions in (False, True):
            cache = learned(con, functions)
            volatile = sorted(name for name, sql in con.execute(DEFINITIONS).fetchall()
                              if not cache.cacheable(f"SELECT * FROM {name}"))
            # Python work, or a read of the catalog (issues_outliers finds the metric columns in duckdb_columns());
            # eval_semantic* and the mask error views call mask_intersection or mask_iou, unknown without the
            # served functions; annotator_box_quality's MATERIALIZED CTE is SQL the parser does not take
            masks = ("eval_semantic", "errors_bad_masks", "errors_missing_masks", "errors_mask_class_swaps")
            python = masks if not functions else ()
            assert all(name.startswith(("similar_", "more_like", "select_coreset", "issues_outliers", "data_issues",
                                        "annotator_box_quality", *python))
                       for name in volatile), volatile
            assert cache.cacheable("SELECT * FROM metrics_images")
            assert cache.cacheable("SELECT * FROM eval_by_metric(metric_name := 'brightness')")
    finally:
        con.close()


def test_a_verdict_is_remembered_until_the_next_learn(con):
    cache = learned(con)
    assert cache.cacheable("SELECT * FROM later")
    con.execute("CREATE VIEW later AS SELECT random() AS r")
    assert cache.cacheable("SELECT * FROM later")  # the database changed: the server calls learn again
    cache.learn(dict(con.execute(DEFINITIONS).fetchall()), volatility(con))
    assert not cache.cacheable("SELECT * FROM later")
