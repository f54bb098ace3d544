"""The adversarial list over HTTP: each request refused (4xx) or stopped (408), the database
file byte-identical afterwards, and no bait file outside the dataset roots opened."""

import pytest

from .conftest import file_hash
from .inotify import OpenWatch

ATTACKS = [
    "COPY images TO '{bait}/out.csv'",
    "COPY (SELECT * FROM labels) TO '{bait}/out.parquet' (FORMAT parquet)",
    "ATTACH '{bait}/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SELECT * FROM read_csv('{bait}/secret.csv')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM '{bait}/secret.csv'",
    "SELECT * FROM \"{bait}/secret.csv\"",
    "SELECT * FROM read_parquet('{bait}/secret.parquet')",
    "SELECT * FROM read_json_auto('{bait}/secret.json')",
    "SELECT read_text('{bait}/secret.txt')",
    "SELECT * FROM read_text('{bait}/secret.txt')",
    "SELECT * FROM read_blob('{bait}/secret.txt')",
    "SELECT * FROM glob('{bait}/*')",
    "SELECT * FROM query('SELECT * FROM read_csv(''{bait}/secret.csv'')')",
    "SET threads = 1",
    "SET enable_external_access = true",
    "SET VARIABLE secret = 1",
    "PRAGMA database_list",
    "CALL pragma_version()",
    "CREATE TABLE stolen AS SELECT 1",
    "CREATE TEMP TABLE stolen AS SELECT 1",
    "INSERT INTO images (dataset, path) VALUES ('x', 'y')",
    "UPDATE images SET width = 0",
    "DELETE FROM labels",
    "DROP TABLE images",
    "EXPORT DATABASE '{bait}/dump'",
    "CHECKPOINT",
    "SELECT 1; DROP TABLE images",
    "SELECT 1 /* a comment */; DELETE FROM images",
    "SELECT 1 -- a comment\n; DELETE FROM images",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_is_refused_and_nothing_changes(client, project, attack):
    sql = attack.format(bait=project["bait"])
    before = file_hash(project["db"])
    with OpenWatch(project["bait"]) as watch:
        for response in (client.post("/query", json={"sql": sql}),
                         client.get("/query", params={"sql": sql, "format": "csv"})):
            assert 400 <= response.status_code < 500, response.text
            assert response.json()["error"]
            assert "hunter2" not in response.text and "root:" not in response.text
    assert watch.opened == set()
    assert file_hash(project["db"]) == before


def test_huge_cross_join_is_interrupted(client, project):
    before = file_hash(project["db"])
    response = client.post("/query", json={
        "sql": "SELECT count(*) FROM range(1000000) a(x), range(1000000) b(y) WHERE hash(x + y) = 7"})
    assert response.status_code == 408
    assert "interrupted" in response.json()["error"]
    assert client.get("/query", params={"sql": "SELECT 41 + 1 AS answer"}).json()["rows"] == [[42]]
    assert file_hash(project["db"]) == before


def test_a_streamed_cross_join_is_cut_unfinished_not_short(client):
    """A stream the time limit stops raises in the body: the transfer is unfinished, never a short result."""
    from qmdb.server.execution import StreamBroken

    with pytest.raises(StreamBroken, match="interrupted"):
        client.post("/query", json={"sql": "SELECT * FROM range(1000000) a(x), range(1000000) b(y)", "format": "csv"})


def test_a_stream_carries_every_row_past_the_row_cap(client, app):
    cap = app.state.qmdb.settings.max_rows
    response = client.post("/query", json={"sql": f"SELECT * FROM range({3 * cap}) t(x)", "format": "csv"})
    assert response.status_code == 200 and len(response.text.strip().splitlines()) == 3 * cap + 1


def test_python_variables_are_not_tables(client):
    response = client.post("/query", json={"sql": "SELECT * FROM settings"})
    assert response.status_code == 403


def test_image_path_cannot_leave_its_dataset_root(client, project):
    escaped = client.get("/query", params={"sql": "SELECT image_id FROM images WHERE path LIKE '../%'"}).json()
    (image_id,), = escaped["rows"]
    with OpenWatch(project["bait"]) as watch:
        for url in (f"/images/{image_id}", f"/images/{image_id}/thumbnail"):
            response = client.get(url)
            assert response.status_code == 403 and "leaves the dataset root" in response.json()["error"]
    assert watch.opened == set()


def test_view_parameters_are_bound_not_spliced(client, project):
    before = file_hash(project["db"])
    response = client.get("/views/digits_of_class/rows", params={"digit": "3'; DROP TABLE images; --"})
    assert response.status_code == 200 and response.json()["rows"] == []
    assert file_hash(project["db"]) == before


def test_metric_functions_take_ids_and_never_a_clients_path(client, project):
    """qmdb's metric UDFs are served, by id: a path given by a client is refused, never opened."""
    import duckdb

    import qmdb

    plain = {name for (name,) in duckdb.connect().execute("SELECT function_name FROM duckdb_functions()").fetchall()}
    con = qmdb.connect()
    added = {name for (name,) in con.execute("SELECT function_name FROM duckdb_functions() "
                                             "WHERE function_type = 'scalar'").fetchall()} - plain
    con.close()
    metric_functions = sorted(n for n in added if not n.startswith(("qmdb_similar", "embed_text")))
    assert {"brightness", "box_brightness", "image_entropy"} <= set(metric_functions)
    secret = str(project["bait"] / "secret.txt")
    with OpenWatch(project["bait"]) as watch:
        for name in metric_functions:
            response = client.post("/query", json={"sql": f"SELECT {name}(?) AS v", "params": [secret]})
            assert response.status_code in (400, 403), (name, response.text)
        # the image row whose path climbs out of its dataset root gives NULL, its file unread
        response = client.post("/query", json={"sql": "SELECT path, brightness(image_id) AS b FROM images "
                                                      "WHERE path LIKE '../%'"})
        assert response.status_code == 200 and response.json()["rows"] == [["../bait/secret.txt", None]]
    assert watch.opened == set()


def test_metric_functions_by_id_over_http(client):
    response = client.get("/query", params={"sql": "SELECT image_id, brightness(image_id) AS b, width(image_id) AS w "
                                                   "FROM images WHERE dataset = 'photos' AND path NOT LIKE '../%' "
                                                   "ORDER BY image_id"})
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert len(rows) == 2 and all(0 < b < 1 and w > 0 for _, b, w in rows)
    response = client.get("/query", params={"sql": "SELECT label_id, box_brightness(label_id) AS b FROM labels "
                                                   "WHERE x IS NOT NULL ORDER BY label_id"})
    assert response.status_code == 200 and all(0 < b < 1 for _, b in response.json()["rows"])
