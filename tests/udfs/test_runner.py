"""The batch runner: one row per image and label, errors as rows, incremental by metric version."""

import textwrap

import pytest

import qmdb
from qmdb.cli import main
from qmdb.udfs import registry
from qmdb.udfs.compute import image_values
from qmdb.udfs.pixels import read

from .conftest import BOXES, BROKEN, GOOD


def test_fills_one_row_per_image_and_label_with_the_computed_values(project, photo_dir):
    report = qmdb.compute_metrics(project, workers=0, chunk_size=4, progress=False)
    assert report.images == len(GOOD) + len(BROKEN) + 1
    assert project.sql("SELECT count(*), count(DISTINCT image_id) FROM image_metrics").fetchall() == \
        [(report.images, report.images)]
    assert project.sql("SELECT count(*) FROM label_metrics").fetchall() == [(len(BOXES) + 1,)]
    row = project.sql("SELECT * FROM metrics_images WHERE path = 'flower.png'").to_arrow_table().to_pylist()[0]
    expected, _ = image_values(read(photo_dir / "flower.png"), registry.metrics("image"))
    for name, value in expected.items():
        assert row[name] == pytest.approx(value, rel=1e-12), name
    dup = project.sql("SELECT max_iou_same_class, image_brightness FROM metrics_labels "
                      "WHERE path = 'china.png' AND x = 155").fetchall()[0]
    china = project.sql("SELECT brightness FROM metrics_images WHERE path = 'china.png'").fetchall()[0][0]
    assert dup[0] > 0.8 and dup[1] == china
    shares = project.sql("SELECT class, class_frequency FROM metrics_labels WHERE class IN ('sky', 'no-box')").fetchall()
    assert sorted(set(shares)) == [("no-box", pytest.approx(1 / 12)), ("sky", pytest.approx(2 / 12))]


def test_broken_files_become_error_rows_and_the_run_completes(project):
    report = qmdb.compute_metrics(project, workers=0, chunk_size=3, progress=False)
    errors = dict(project.sql(
        "SELECT i.path, e.message FROM errors e JOIN images i USING (image_id) WHERE e.stage = 'metrics'").fetchall())
    assert set(errors) == set(BROKEN) | {"missing.jpg"}
    assert "empty" in errors["zero_byte.jpg"] and "truncated" in errors["truncated.jpg"]
    assert "not found" in errors["missing.jpg"] and "decode" in errors["not_an_image.png"]
    assert report.errors == len(errors)
    files = project.sql("SELECT file FROM errors WHERE stage = 'metrics'").fetchall()
    assert all(f.startswith("/") for (f,) in files)
    broken = project.sql("SELECT brightness FROM metrics_images WHERE path = 'truncated.jpg'").fetchall()
    assert broken == [(None,)]
    assert project.sql("SELECT count(*) FROM metrics_images WHERE brightness IS NOT NULL").fetchall() == [(len(GOOD),)]


def test_second_run_computes_nothing_and_writes_nothing_twice(project):
    qmdb.compute_metrics(project, workers=0, progress=False)
    before = project.sql("SELECT * FROM image_metrics ORDER BY image_id").fetchall()
    again = qmdb.compute_metrics(project, workers=0, progress=False)
    assert (again.images, again.labels, again.errors) == (0, 0, 0)
    assert project.sql("SELECT * FROM image_metrics ORDER BY image_id").fetchall() == before
    assert project.sql("SELECT count(*) FROM errors").fetchall() == [(len(BROKEN) + 1,)]
    project.execute("INSERT INTO images (dataset, path) VALUES ('photos', 'coffee_dark.png')"
                    " ON CONFLICT DO NOTHING")
    project.execute("INSERT INTO datasets VALUES ('more', (SELECT root FROM datasets), 'folders', NULL, NULL, now())")
    project.execute("INSERT INTO images (dataset, path) VALUES ('more', 'coffee.png')")
    new = qmdb.compute_metrics(project, workers=0, progress=False)
    assert (new.images, new.labels) == (1, 0)


def plugin(tmp_path, version: int, scale: float):
    path = tmp_path / "my_metrics.py"
    path.write_text(textwrap.dedent(f"""
        import qmdb

        @qmdb.image_metric(version={version}, type="DOUBLE", unit="0..1")
        def red_share(image):
            '''Share of pixels whose red channel is the largest, times a scale.'''
            b, g, r = image.channels
            return float(((r > g) & (r > b)).mean()) * {scale}
    """))
    return path


def test_a_new_version_recomputes_that_metric_only(project, tmp_path):
    path = plugin(tmp_path, 1, 1.0)
    qmdb.compute_metrics(project, workers=0, plugins=[path], progress=False)
    project.execute("UPDATE image_metrics SET brightness = -1")  # a marker: must survive a rerun
    first = dict(project.sql("SELECT image_id, red_share FROM image_metrics").fetchall())
    assert project.sql("SELECT version FROM metric_versions WHERE metric = 'red_share'").fetchall() == [(1,)]
    report = qmdb.compute_metrics(project, workers=0, plugins=[plugin(tmp_path, 2, 2.0)], progress=False)
    assert report.images == len(first) and report.labels == 0
    second = dict(project.sql("SELECT image_id, red_share FROM image_metrics").fetchall())
    assert {k: v for k, v in second.items() if v is not None} == \
        {k: 2 * v for k, v in first.items() if v is not None}
    assert project.sql("SELECT DISTINCT brightness FROM image_metrics").fetchall() == [(-1.0,)]
    assert project.sql("SELECT DISTINCT versions['red_share'] FROM image_metrics").fetchall() == [(2,)]
    registry.unregister("image", "red_share")


def test_a_metric_column_added_by_a_run_shows_in_the_views_without_reinstalling(project, tmp_path, monkeypatch):
    """The runner installs no view: DuckDB binds a view's `m.*` when it is queried, so the view
    installed when the project was opened already shows a column that the run adds."""
    from qmdb import views

    def install(con):
        raise AssertionError("the runner must not install views")

    monkeypatch.setattr(views, "install", install)
    qmdb.compute_metrics(project, workers=0, only=["red_share"], plugins=[plugin(tmp_path, 1, 1.0)], progress=False)
    rows = project.sql("SELECT path, red_share FROM metrics_images WHERE red_share IS NOT NULL").fetchall()
    assert len(rows) == len(GOOD) and all(0 <= v <= 1 for _, v in rows)
    registry.unregister("image", "red_share")


def test_only_some_metrics_then_the_rest(project):
    qmdb.compute_metrics(project, workers=0, only=["brightness", "box_area"], progress=False)
    assert project.sql("SELECT count(brightness), count(sharpness) FROM image_metrics").fetchall() == [(len(GOOD), 0)]
    rest = qmdb.compute_metrics(project, workers=0, progress=False)
    assert rest.images == len(GOOD) + len(BROKEN) + 1
    assert project.sql("SELECT count(sharpness) FROM image_metrics").fetchall() == [(len(GOOD),)]
    with pytest.raises(qmdb.QmdbError, match="unknown metric"):
        qmdb.compute_metrics(project, only=["nope"], progress=False)


def test_cli_with_a_plugin_makes_a_column_and_a_sql_function(tmp_path, photo_dir, capsys):
    from .conftest import make_project

    db = tmp_path / "cli.duckdb"
    make_project(db, photo_dir, ["china.png", "coffee.png"]).close()
    assert main(["metrics", str(db), "--workers", "1", "--plugin", str(plugin(tmp_path, 1, 1.0)), "-q"]) == 0
    assert "on 2 image(s)" in capsys.readouterr().out
    con = qmdb.connect(db)
    registry.load_plugin(plugin(tmp_path, 1, 1.0))
    qmdb.register(con)
    rows = con.sql("SELECT red_share, red_share(image_id) FROM metrics_images").fetchall()
    assert len(rows) == 2 and all(a == pytest.approx(b) and a > 0 for a, b in rows)
    registry.unregister("image", "red_share")
    con.close()


def test_a_metric_must_be_fully_described():
    def undocumented(image):
        return 1

    with pytest.raises(qmdb.QmdbError, match="docstring"):
        qmdb.image_metric(version=1)(undocumented)
    with pytest.raises(qmdb.QmdbError, match="version"):
        qmdb.image_metric(version=0)(read)
    with pytest.raises(qmdb.QmdbError, match="type"):
        qmdb.label_metric(version=1, type="FLOAT8[]")(read)


def _limit(con) -> int:
    from qmdb.importers import memory

    return memory.size_bytes(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])


def test_the_pass_runs_under_a_memory_bound_and_puts_the_limit_back(project, monkeypatch):
    from qmdb.importers import memory
    from qmdb.udfs import runner

    limits, write = [], runner.write_chunk
    monkeypatch.setattr(runner, "write_chunk", lambda con, *a, **k: (limits.append(_limit(con)), write(con, *a, **k)))
    before = _limit(project)
    qmdb.compute_metrics(project, workers=0, chunk_size=4, progress=False)
    assert set(limits) == {memory.size_bytes(runner.METRICS_MEMORY)} and _limit(project) == before
    monkeypatch.setenv("QMDB_METRICS_MEMORY", "lots")
    with pytest.raises(qmdb.errors.QmdbError, match="QMDB_METRICS_MEMORY: 'lots' is not a memory size"):
        qmdb.compute_metrics(project, workers=0, progress=False)


def test_out_of_memory_under_the_bound_goes_on_under_duckdbs_limit_keeping_what_was_written(project, monkeypatch):
    import duckdb

    from qmdb.udfs import runner

    limits, write = [], runner.write_chunk

    def once_out_of_memory(con, *a, **k):
        limits.append(_limit(con))
        if len(limits) == 2:
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")
        return write(con, *a, **k)

    monkeypatch.setattr(runner, "write_chunk", once_out_of_memory)
    before = _limit(project)
    report = qmdb.compute_metrics(project, workers=0, chunk_size=4, progress=False)
    total = project.sql("SELECT count(*) FROM images").fetchall()[0][0]
    assert limits[0] < before and limits[-1] == before and _limit(project) == before
    assert report.images == total                        # the first chunk once, the rest after the retry
    assert project.sql("SELECT count(*), count(DISTINCT image_id) FROM image_metrics").fetchall() == [(total, total)]
