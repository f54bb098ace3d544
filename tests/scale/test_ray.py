"""`--engine ray` end to end on a local Ray (2 CPUs, no dashboard): the same rows as the local runners."""

import pytest

import qmdb
from qmdb.cli import main

from .conftest import FILES, METRIC_TABLES, table

ray = pytest.importorskip("ray", reason="Ray is the optional extra qmdb[ray] (pip install 'qmdb[ray]'); "
                                        "the non-Ray parts are tested in test_metrics/test_embeddings/test_shards")

EMBEDDINGS = "SELECT item_type, item_id, model, vector FROM embeddings ORDER BY ALL"
ERRORS = "SELECT dataset, image_id, file, stage, message FROM errors ORDER BY ALL"


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_metrics_on_ray_equal_the_local_runner_and_a_rerun_does_nothing(pair):
    local, con = pair
    expected = qmdb.compute_metrics(local, workers=0, progress=False)
    from qmdb.scale import compute_metrics_ray

    report = compute_metrics_ray(con, chunk_size=8, progress=False)
    assert (report.images, report.labels, report.errors) == (expected.images, expected.labels, expected.errors)
    for sql in METRIC_TABLES:
        assert table(con, sql) == table(local, sql), sql
    again = compute_metrics_ray(con, chunk_size=8, progress=False)
    assert (again.images, again.labels, again.errors) == (0, 0, 0)
    assert table(con, "SELECT count(*) FROM errors")[0][0] == 4


def test_embeddings_on_ray_equal_the_local_pipeline_with_boxes(pair):
    local, con = pair
    expected = qmdb.embed(local, labels=True, progress=False)
    from qmdb.scale import embed_ray

    report = embed_ray(con, labels=True, batch_size=16, actors=2, progress=False)
    assert report.written == expected.written and report.errors == expected.errors
    assert table(con, EMBEDDINGS) == table(local, EMBEDDINGS)
    assert table(con, ERRORS) == table(local, ERRORS)
    assert report.indexes == expected.indexes == {"image": len(FILES) - 4, "label": report.written["label"]}
    again = embed_ray(con, labels=True, progress=False)
    assert sum(again.written.values()) == 0 and again.errors == 0
    assert table(con, EMBEDDINGS) == table(local, EMBEDDINGS)


def test_cli_engine_ray(pair, capsys):
    _, con = pair
    path = con.sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    con.close()
    assert main(["metrics", path, "--engine", "ray", "--only", "brightness,box_area", "--quiet"]) == 0
    assert "on 54 image(s)" in capsys.readouterr().out
    assert main(["metrics", path, "--engine", "ray", "--only", "brightness,box_area", "--quiet"]) == 0
    assert "on 0 image(s)" in capsys.readouterr().out                   # done: nothing goes to Ray again
