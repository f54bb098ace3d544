"""The SQL gate is an allow-list read from the serving connection's catalog: every parse error is
a 400 with the parser's message, and what discloses the host is refused by name."""

import shutil

import pytest
from fastapi.testclient import TestClient

import qmdb
from qmdb.errors import ViewError
from qmdb.server import Settings, create_app

UNPARSABLE = [
    "SELECT 'abc",
    "SELECT * FROM images /* x",
    'SELECT "abc',
    "SELECT (((",
    "SELECT $$abc",
]


@pytest.mark.parametrize("sql", UNPARSABLE)
def test_every_parse_error_is_a_400_with_the_parsers_message(client, sql):
    for response in (client.post("/query", json={"sql": sql}), client.get("/query", params={"sql": sql}),
                     client.post("/gallery/items", json={"sql": sql})):
        assert response.status_code == 400, response.text
        assert "cannot parse the query" in response.json()["error"]


# (query, the name the refusal must give)
HOST = [
    ("SELECT * FROM pragma_database_list", "pragma_database_list"),
    ("SELECT * FROM pragma_database_list()", "pragma_database_list"),
    ("FROM duckdb_databases", "duckdb_databases"),
    ("SELECT * FROM duckdb_databases()", "duckdb_databases"),
    ("SELECT current_setting('secret_directory')", "current_setting"),
    ("SELECT current_setting('home_directory') AS h FROM images", "current_setting"),
    ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
    ("SELECT * FROM duckdb_temporary_files()", "duckdb_temporary_files"),
    ("SELECT * FROM duckdb_memory()", "duckdb_memory"),
    ("SELECT * FROM duckdb_logs", "duckdb_logs"),
    ("SELECT * FROM duckdb_logs()", "duckdb_logs"),
    ("SELECT * FROM duckdb_log_contexts()", "duckdb_log_contexts"),
    ("SELECT * FROM truncate_duckdb_logs()", "truncate_duckdb_logs"),
    ("SELECT * FROM enable_logging()", "enable_logging"),
    ("SELECT write_log('x')", "write_log"),
    ("SELECT * FROM duckdb_secrets()", "duckdb_secrets"),
    ("SELECT * FROM which_secret('s3://x', 's3')", "which_secret"),
    ("SELECT * FROM duckdb_extensions()", "duckdb_extensions"),
    ("SELECT * FROM duckdb_extension_repositories()", "duckdb_extension_repositories"),
    ("SELECT * FROM pg_settings", "pg_settings"),
    ("SELECT * FROM duckdb_variables()", "duckdb_variables"),
    ("SELECT getvariable('x')", "getvariable"),
    ("SELECT * FROM pragma_platform()", "pragma_platform"),
    ("SELECT * FROM pragma_database_size()", "pragma_database_size"),
    ("SELECT * FROM pragma_storage_info('images')", "pragma_storage_info"),
    ("SELECT * FROM duckdb_external_file_cache()", "duckdb_external_file_cache"),
    ("SELECT * FROM duckdb_prepared_statements()", "duckdb_prepared_statements"),
    ("SELECT * FROM disable_profiling()", "disable_profiling"),
    ("SELECT * FROM force_checkpoint()", "force_checkpoint"),
    ("SELECT * FROM read_duckdb('x.duckdb')", "read_duckdb"),
    ("SELECT nextval('s')", "nextval"),
    ("WITH x AS (SELECT * FROM duckdb_settings()) SELECT * FROM x", "duckdb_settings"),
    ("SELECT (SELECT value FROM duckdb_settings() LIMIT 1)", "duckdb_settings"),
    ("SELECT no_such_function(1)", "no_such_function"),
]


@pytest.mark.parametrize("sql, name", HOST)
def test_what_discloses_the_host_is_refused_by_name(client, project, sql, name):
    for response in (client.post("/query", json={"sql": sql}), client.get("/query", params={"sql": sql})):
        assert response.status_code in (400, 403), response.text
        assert name in response.json()["error"]
        assert str(project["db"].parent) not in response.text


ALLOWED = [
    "SELECT lower(path), count(*) OVER () FROM images LIMIT 1",
    "SELECT * FROM range(3)",
    "SELECT * FROM generate_series(1, 3)",
    "SELECT unnest([1, 2])",
    "SELECT table_name FROM duckdb_tables()",
    "SELECT table_name FROM duckdb_tables",
    "SELECT column_name FROM information_schema.columns",
    "SELECT function_name FROM duckdb_functions() LIMIT 1",
    "SELECT * FROM digits_of_class(digit := '3') LIMIT 1",
    "SELECT * FROM dataset_summary",
    "SELECT brightness(image_id) FROM images LIMIT 1",
    "SELECT wilson_low(1, 2)",
    "SELECT approx_count_distinct(image_id), list_transform([1], lambda x: x + 1), CAST(1 AS INT) FROM images",
]


@pytest.mark.parametrize("sql", ALLOWED)
def test_the_catalogs_pure_functions_tables_and_views_pass(client, sql):
    response = client.post("/query", json={"sql": sql})
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def writable(project, tmp_path_factory):
    copy = tmp_path_factory.mktemp("gate") / "copy.duckdb"
    shutil.copyfile(project["db"], copy)
    with TestClient(create_app(Settings(database=copy, allow_writes=True, write_token="T", timeout=5))) as client:
        yield client, copy


@pytest.mark.parametrize("name", ["similar_images", "image_file", "duckdb_tables", "images", "lower",
                                  "dataset_summary", "read_csv"])
def test_no_saved_view_takes_a_catalog_name(writable, name):
    client, _ = writable
    for replace in (False, True):
        body = {"name": name, "sql": "SELECT 1 AS fake", "description": "A fake.", "replace": replace}
        response = client.post("/views", json=body, headers={"Authorization": "Bearer T"})
        assert response.status_code == 400, response.text
        assert name in response.json()["error"]
    assert client.post("/query", json={"sql": "SELECT count(*) FROM images"}).json()["rows"] == [[123]]


def test_a_saved_view_may_still_be_replaced(writable):
    client, _ = writable
    for replace in (False, True):
        body = {"name": "mine", "sql": "SELECT 1 AS one", "description": "Mine.", "replace": replace}
        assert client.post("/views", json=body, headers={"Authorization": "Bearer T"}).status_code == 201


def test_python_save_refuses_catalog_names(tmp_path):
    con = qmdb.connect(tmp_path / "p.duckdb")
    for name in ("similar_images", "image_file", "duckdb_tables", "labels"):
        with pytest.raises(ViewError, match=name):
            qmdb.save_view(con, name, "SELECT 1 AS x", "A fake.", replace=True)
    con.close()
