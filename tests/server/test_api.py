"""Read endpoints: answers equal what DuckDB gives directly, in every format."""

import io
import shutil

import cv2
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

DIGIT_SQL = "SELECT i.image_id, i.path, l.class FROM images i JOIN labels l USING (image_id) " \
            "WHERE i.dataset = 'digits' AND l.class = ? ORDER BY i.image_id"


@pytest.fixture(scope="module")
def direct(project, tmp_path_factory):
    """The same file, copied and opened without the server (one process cannot open a file twice)."""
    copy = tmp_path_factory.mktemp("direct") / "copy.duckdb"
    shutil.copyfile(project["db"], copy)
    con = duckdb.connect(str(copy), read_only=True)
    yield con
    con.close()


def test_tables_list_columns_and_row_counts(client, direct):
    tables = {t["name"]: t for t in client.get("/tables").json()["tables"]}
    assert tables["images"]["rows"] == direct.sql("SELECT count(*) FROM images").fetchall()[0][0]
    assert {"image_id", "path", "width", "sha256"} <= {c["name"] for c in tables["images"]["columns"]}


def test_views_list_description_and_parameters(client):
    listed = {v["name"]: v for v in client.get("/views").json()["views"]}
    assert listed["digits_of_class"]["parameters"] == [
        {"name": "digit", "type": "VARCHAR", "default": "'3'", "doc": ""}]
    assert listed["class_counts"]["builtin"] and listed["class_counts"]["description"]
    assert "SELECT" in client.get("/views/digits_of_class").json()["sql"]
    assert client.get("/views/nope").status_code == 404


def test_view_runs_with_default_and_given_parameters(client, direct):
    for params, digit in (({}, "3"), ({"digit": "7"}, "7")):
        page = client.get("/views/digits_of_class/rows", params=params).json()
        assert [tuple(r) for r in page["rows"]] == direct.execute(DIGIT_SQL, [digit]).fetchall()
    posted = client.post("/views/digits_of_class/rows", json={"params": {"digit": "7"}}).json()
    assert [tuple(r) for r in posted["rows"]] == direct.execute(DIGIT_SQL, ["7"]).fetchall()
    assert client.get("/views/digits_of_class/rows", params={"nope": 1}).status_code == 400


def test_query_binds_parameters(client, direct):
    expected = direct.execute(DIGIT_SQL, ["5"]).fetchall()
    for body in ({"sql": DIGIT_SQL, "params": ["5"]},
                 {"sql": DIGIT_SQL.replace("?", "$digit"), "params": {"digit": "5"}}):
        assert [tuple(r) for r in client.post("/query", json=body).json()["rows"]] == expected
    assert [tuple(r) for r in client.get("/query", params={"sql": DIGIT_SQL, "params": '["5"]'}).json()["rows"]] == expected


def test_json_pages_cover_the_result_once(client, direct):
    sql = "SELECT image_id, path FROM images ORDER BY image_id"
    rows, offset = [], 0
    while offset is not None:
        page = client.post("/query", json={"sql": sql, "limit": 17, "offset": offset}).json()
        rows += page["rows"]
        offset = page["next_offset"]
    assert [tuple(r) for r in rows] == direct.sql(sql).fetchall()


@pytest.mark.parametrize("fmt", ["arrow", "csv", "parquet"])
def test_formats_carry_the_same_rows(client, direct, fmt):
    sql = "SELECT image_id, path, width, height, sha256 FROM images WHERE sha256 IS NOT NULL ORDER BY image_id"
    response = client.post("/query", json={"sql": sql, "format": fmt})
    assert response.status_code == 200
    data = io.BytesIO(response.content)
    table = {"arrow": lambda: pa.ipc.open_stream(data).read_all(),
             "csv": lambda: pacsv.read_csv(data),
             "parquet": lambda: pq.read_table(data)}[fmt]()
    expected = direct.sql(sql).to_arrow_table()
    assert table.num_rows == expected.num_rows > 100
    for name in expected.column_names:
        assert table[name].to_pylist() == expected[name].to_pylist()


def test_streaming_a_large_result_in_batches(client):
    response = client.post("/query", json={"sql": "SELECT range AS n FROM range(4000)", "format": "arrow"})
    table = pa.ipc.open_stream(io.BytesIO(response.content)).read_all()
    assert table["n"].to_pylist() == list(range(4000))


def test_nested_columns_are_text_in_csv(client):
    response = client.post("/query", json={"sql": "SELECT [1, 2] AS xs, {'a': 1} AS s", "format": "csv"})
    assert response.status_code == 200
    assert pacsv.read_csv(io.BytesIO(response.content))["xs"].to_pylist() == ["[1, 2]"]


def test_errors_are_json_with_status(client):
    cases = [(client.post("/query", json={"sql": "SELECT nope FROM images"}), 400),
             (client.post("/query", json={"sql": "SELEC 1"}), 400),
             (client.post("/query", json={"sql": 1}), 422),
             (client.post("/query", json={"sql": "SELECT 1", "format": "xml"}), 422),
             (client.get("/images/999999"), 404),
             (client.get("/no/such/endpoint"), 404),
             (client.get("/query", params={"sql": "SELECT 1", "params": "{not json"}), 400),
             (client.post("/views", json={"name": "x"}), 403)]  # read-only: start with --allow-writes
    for response, status in cases:
        assert response.status_code == status, response.text
        assert response.json()["status"] == status and response.json()["error"]
        assert "Traceback" not in response.text


def test_image_thumbnail_and_crop(client, project, direct):
    image_id, path = direct.sql("SELECT image_id, path FROM images WHERE dataset = 'photos' AND path = 'china.jpg'").fetchall()[0]
    original = (project["photos"] / path).read_bytes()
    response = client.get(f"/images/{image_id}")
    assert response.content == original and response.headers["content-type"] == "image/jpeg"
    thumb = cv2.imdecode(np.frombuffer(client.get(f"/images/{image_id}/thumbnail", params={"size": 64}).content, np.uint8), cv2.IMREAD_COLOR)
    assert max(thumb.shape[:2]) == 64
    pixels = cv2.imdecode(np.frombuffer(original, np.uint8), cv2.IMREAD_COLOR)
    label_id, x, y, w, h = direct.sql(f"SELECT label_id, x, y, w, h FROM labels WHERE image_id = {image_id} ORDER BY x LIMIT 1").fetchall()[0]
    crop = cv2.imdecode(np.frombuffer(client.get(f"/labels/{label_id}/crop", params={"margin": 0.1}).content, np.uint8), cv2.IMREAD_COLOR)
    top, left = int(y - 0.1 * h), int(x - 0.1 * w)
    assert crop.shape[:2] == (int(np.ceil(y + 1.1 * h)) - top, int(np.ceil(x + 1.1 * w)) - left)
    region = pixels[top:top + crop.shape[0], left:left + crop.shape[1]].astype(float)
    assert np.abs(region - crop).mean() < 4  # the same pixels, up to JPEG loss
    digit_label = direct.sql("SELECT label_id FROM labels WHERE x IS NULL LIMIT 1").fetchall()[0][0]
    assert client.get(f"/labels/{digit_label}/crop").status_code == 400


def test_openapi_docs(client):
    schema = client.get("/openapi.json").json()
    assert {"/query", "/views", "/views/{name}/rows", "/tables", "/labels/{label_id}/crop"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 200


def test_cache_serves_repeats_but_never_volatile_answers(client, app):
    cache = app.state.qmdb.cache
    sql = "SELECT count(*) AS n FROM labels WHERE class = ?"
    first = client.post("/query", json={"sql": sql, "params": ["4"]}).json()
    assert cache.get(cache.key(sql, ["4"], None, 0)) is not None
    assert client.post("/query", json={"sql": sql, "params": ["4"]}).json() == first
    shuffled = {tuple(client.post("/query", json={"sql": "SELECT random() AS r"}).json()["rows"][0]) for _ in range(3)}
    assert len(shuffled) == 3
    assert cache.get(cache.key("SELECT random() AS r", None, None, 0)) is None


def test_non_finite_floats_are_json_null(client):
    response = client.post("/query", json={"sql": "SELECT 'nan'::DOUBLE AS a, 'inf'::DOUBLE AS b, 1.5 AS c"})
    assert response.status_code == 200 and response.json()["rows"] == [[None, None, 1.5]]


def test_root_gives_json_to_clients_and_the_gallery_to_browsers(client):
    assert client.get("/").json()["gallery"] == "/gallery"
    page = client.get("/", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.headers["content-type"].startswith("text/html") and "/gallery/static/app.js" in page.text


def test_a_refused_query_stays_refused_and_a_passed_one_is_remembered(client, app):
    checker = app.state.qmdb.checker
    for _ in range(2):
        assert client.post("/query", json={"sql": "SELECT * FROM read_text('/etc/passwd')"}).status_code == 403
        assert client.get("/query", params={"sql": "SELECT 1; DROP TABLE images"}).status_code == 403
    assert not checker.passed("SELECT * FROM read_text('/etc/passwd')")
    sql = "SELECT class, count(*) AS n FROM labels GROUP BY class ORDER BY class LIMIT 3"
    first = client.get("/query", params={"sql": sql}).json()
    assert checker.passed(sql)
    assert client.get("/query", params={"sql": sql}).json() == first
    assert client.post("/query", json={"sql": sql, "limit": 1}).json()["rows"] == first["rows"][:1]
