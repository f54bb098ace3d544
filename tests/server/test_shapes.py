"""JSON shapes as Datasette names them: `?_shape=arrays` (the default), `objects`, `array`."""

import io

import pandas as pd


SQL = "SELECT image_id, width FROM images ORDER BY image_id LIMIT 3"


def test_array_is_what_pandas_read_json_reads(client):
    response = client.get("/query", params={"sql": SQL, "_shape": "array"})
    assert response.status_code == 200, response.text
    frame = pd.read_json(io.StringIO(response.text))
    assert list(frame.columns) == ["image_id", "width"] and len(frame) == 3


def test_objects_keeps_the_page_with_rows_as_objects(client):
    default = client.post("/query", json={"sql": SQL}).json()
    objects = client.post("/query", json={"sql": SQL, "_shape": "objects"}).json()
    assert objects["rows"] == [dict(zip(["image_id", "width"], row)) for row in default["rows"]]
    assert objects["next_offset"] == default["next_offset"]
    assert pd.DataFrame(objects["rows"]).shape == (3, 2)


def test_views_take_the_shape_too(client):
    rows = client.get("/views/digits_of_class/rows", params={"digit": "3", "_shape": "array", "limit": 2}).json()
    assert len(rows) == 2 and set(rows[0]) == {"image_id", "path", "class"}
    rows = client.post("/views/digits_of_class/rows", json={"params": {"digit": "3"}, "_shape": "objects"}).json()
    assert rows["rows"][0]["class"] == "3"
    assert client.get("/query", params={"sql": SQL, "_shape": "nope"}).status_code == 422
