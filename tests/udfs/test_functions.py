"""The metrics as ad hoc SQL functions by id: same values as the materialized ones, NULL for a broken file
or an unknown id; no SQL function reads a file named by its caller."""

import duckdb
import pytest

import qmdb
from qmdb.udfs import registry
from qmdb.udfs.functions import measure


def test_ad_hoc_functions_match_materialized_values(project):
    qmdb.compute_metrics(project, workers=0, progress=False)
    image_sql = [m for m in registry.metrics("image") if m.sql_name]
    calls = ", ".join(f"{m.sql_name}(image_id) AS {m.name}" for m in image_sql)
    ad_hoc = project.sql(f"SELECT image_id, {calls} FROM images ORDER BY image_id").fetchall()
    stored = project.sql(f"SELECT image_id, {', '.join(m.name for m in image_sql)} FROM image_metrics ORDER BY image_id").fetchall()
    assert ad_hoc == stored
    label_sql = [m for m in registry.metrics("label") if m.sql_name]
    calls = ", ".join(f"{m.sql_name}(label_id)" for m in label_sql)
    ad_hoc = project.sql(f"SELECT label_id, {calls} FROM labels ORDER BY label_id").fetchall()
    stored = project.sql(f"SELECT label_id, {', '.join(m.name for m in label_sql)} FROM label_metrics ORDER BY label_id").fetchall()
    assert ad_hoc == stored


def test_image_file_and_broken_files(project, photo_dir):
    rows = dict(project.sql("SELECT path, sharpness(image_id) FROM images").fetchall())
    assert project.sql("SELECT image_file(image_id) FROM images WHERE path = 'china.png'").fetchall() == \
        [(str(photo_dir / "china.png"),)]
    assert rows["china_blurred.png"] < rows["china.png"]
    assert rows["zero_byte.jpg"] is None and rows["missing.jpg"] is None
    assert project.sql("SELECT brightness(NULL), brightness(123456789), box_area(NULL)").fetchall() == [(None,) * 3]


def test_functions_take_ids_not_paths(project, photo_dir):
    """A path is not an id: the functions take BIGINT only, and a file is never read for a caller."""
    with pytest.raises(duckdb.Error):
        project.sql(f"SELECT brightness('{photo_dir / 'china.png'}')").fetchall()
    signatures = project.sql("SELECT DISTINCT parameter_types FROM duckdb_functions() WHERE function_name IN "
                             "('brightness', 'box_brightness', 'image_entropy')").fetchall()
    assert signatures == [(["BIGINT"],)]


def test_entropy_is_image_entropy_in_sql(project):
    value = project.sql("SELECT image_entropy(image_id) FROM images WHERE path = 'camera.png'").fetchall()
    assert 0 < value[0][0] <= 8
    assert project.sql("SELECT entropy(x) FROM (VALUES (1), (2)) t(x)").fetchall()[0][0] == pytest.approx(1.0)


def test_measure_is_the_python_way_to_a_file(photo_dir, project):
    values = measure(photo_dir / "china.png", ["brightness", "width"])
    stored = project.sql("SELECT brightness(image_id), width(image_id) FROM images WHERE path = 'china.png'").fetchall()
    assert (values["brightness"], values["width"]) == stored[0]
    assert measure(photo_dir / "zero_byte.jpg", ["brightness"]) == {"brightness": None}
