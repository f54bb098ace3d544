"""The metrics as ad hoc SQL functions: same values as the materialized ones, NULL for a broken file."""

import pytest

import qmdb
from qmdb.udfs import registry


def test_ad_hoc_functions_match_materialized_values(project):
    qmdb.compute_metrics(project, workers=0, progress=False)
    image_sql = [m for m in registry.metrics("image") if m.sql_name]
    calls = ", ".join(f"{m.sql_name}(file) AS {m.name}" for m in image_sql)
    ad_hoc = project.sql(f"SELECT image_id, {calls} FROM metrics_images ORDER BY image_id").fetchall()
    stored = project.sql(f"SELECT image_id, {', '.join(m.name for m in image_sql)} FROM image_metrics ORDER BY image_id").fetchall()
    assert ad_hoc == stored
    label_sql = [m for m in registry.metrics("label") if m.sql_name]
    calls = ", ".join(f"{m.sql_name}(image_file(image_id), x, y, w, h)" for m in label_sql)
    ad_hoc = project.sql(f"SELECT label_id, {calls} FROM labels ORDER BY label_id").fetchall()
    stored = project.sql(f"SELECT label_id, {', '.join(m.name for m in label_sql)} FROM label_metrics ORDER BY label_id").fetchall()
    assert ad_hoc == stored


def test_image_file_and_broken_files(project, photo_dir):
    rows = dict(project.sql("SELECT path, sharpness(image_file(image_id)) FROM images").fetchall())
    assert project.sql("SELECT image_file(image_id) FROM images WHERE path = 'china.png'").fetchall() == \
        [(str(photo_dir / "china.png"),)]
    assert rows["china_blurred.png"] < rows["china.png"]
    assert rows["zero_byte.jpg"] is None and rows["missing.jpg"] is None
    assert project.sql("SELECT brightness(NULL)").fetchall() == [(None,)]


def test_entropy_is_image_entropy_in_sql(project):
    value = project.sql("SELECT image_entropy(image_file(image_id)) FROM images WHERE path = 'camera.png'").fetchall()
    assert 0 < value[0][0] <= 8
    assert project.sql("SELECT entropy(x) FROM (VALUES (1), (2)) t(x)").fetchall()[0][0] == pytest.approx(1.0)
