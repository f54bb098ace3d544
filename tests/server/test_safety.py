"""The SQL checker on its own: the adversarial list is refused before DuckDB runs anything."""

import duckdb
import pytest

from qmdb.server.safety import Checker, UnsafeQuery, check

RELATIONS = {"images", "labels", "predictions", "datasets"}


def _con() -> duckdb.DuckDBPyConnection:
    """A connection whose catalog holds a table macro, as a project's does."""
    con = duckdb.connect()
    con.execute("CREATE MACRO class_counts(dataset_name) AS TABLE SELECT 1 AS n")
    return con

REFUSED = [
    "COPY images TO '/tmp/out.csv'",
    "COPY (SELECT * FROM images) TO '/tmp/out.parquet' (FORMAT parquet)",
    "ATTACH '/tmp/other.duckdb' AS other",
    "DETACH other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "FORCE INSTALL spatial",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM \"/etc/passwd\"",
    "SELECT * FROM images, 'secret.csv'",
    "SELECT read_text('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM read_parquet('x.parquet')",
    "SELECT * FROM parquet_scan('x.parquet')",
    "SELECT * FROM read_json_auto('x.json')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM query('SELECT 1')",
    "SELECT * FROM query_table('images')",
    "SELECT json_execute_serialized_sql('{}')",
    "SELECT * FROM checkpoint()",
    "SET threads = 1",
    "SET VARIABLE x = 1",
    "RESET threads",
    "PRAGMA database_list",
    "SELECT * FROM pragma_database_list()",
    "CALL pragma_version()",
    "CREATE TABLE t AS SELECT 1",
    "CREATE TEMP VIEW v AS SELECT 1",
    "CREATE MACRO m() AS 1",
    "INSERT INTO images (dataset, path) VALUES ('x', 'y')",
    "UPDATE images SET width = 0",
    "DELETE FROM images",
    "DROP TABLE images",
    "ALTER TABLE images ADD COLUMN z INTEGER",
    "EXPORT DATABASE '/tmp/dump'",
    "IMPORT DATABASE '/tmp/dump'",
    "PREPARE p AS SELECT 1",
    "EXECUTE p",
    "CHECKPOINT",
    "BEGIN TRANSACTION",
    "USE memory",
    "DESCRIBE images",
    "SUMMARIZE images",
    "SELECT 1; DROP TABLE images",
    "SELECT 1; SELECT 2",
    "SELECT 1 /* hidden */; DROP TABLE images",
    "SELECT 1 -- comment\n; DELETE FROM images",
    "/* SELECT 1 */ DROP TABLE images",
    "SELECT 1 INTO t",
    "SELECT * FROM nowhere",
    "",
    "   ",
]


@pytest.mark.parametrize("sql", REFUSED)
def test_adversarial_sql_is_refused(sql):
    with pytest.raises(UnsafeQuery):
        check(sql, RELATIONS, duckdb.connect())


ALLOWED = [
    "SELECT * FROM images",
    "FROM images SELECT path",
    "WITH big AS (SELECT * FROM images WHERE width > 10) SELECT count(*) FROM big",
    "VALUES (1, 'a'), (2, 'b')",
    "SELECT 1 UNION ALL SELECT 2",
    "SELECT * FROM images i JOIN labels l USING (image_id) WHERE l.class = ? LIMIT 5",
    "SELECT * FROM range(10) t(x)",
    "SELECT unnest([1, 2, 3])",
    "SELECT * FROM class_counts(dataset_name := 'digits')",
]


@pytest.mark.parametrize("sql", ALLOWED)
def test_queries_pass(sql):
    assert check(sql, RELATIONS, _con()) == sql


def test_checker_remembers_passes_and_never_refusals():
    checker, con = Checker(RELATIONS), _con()
    for _ in range(2):
        for sql in REFUSED:
            with pytest.raises(UnsafeQuery):
                checker.check(sql, con)
        for sql in ALLOWED:
            assert checker.check(sql, con) == sql
    assert not any(checker.passed(sql) for sql in REFUSED)
    assert all(checker.passed(sql) for sql in ALLOWED)


def test_checker_forgets_the_oldest_past_its_size():
    checker, con = Checker(RELATIONS, entries=2), duckdb.connect()
    for sql in ALLOWED[:3]:
        checker.check(sql, con)
    assert [checker.passed(sql) for sql in ALLOWED[:3]] == [False, True, True]


def test_a_check_without_duckdb_is_not_remembered():
    checker = Checker(RELATIONS)
    assert checker.check("SELECT * FROM images") == "SELECT * FROM images"
    assert not checker.passed("SELECT * FROM images")
