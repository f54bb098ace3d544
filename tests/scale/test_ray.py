"""`--engine ray` end to end on a local Ray (2 CPUs, no dashboard): the same rows as the local runners."""

import pytest

import qmdb
from qmdb.cli import main

from .conftest import BY_NAME, FILES, METRIC_TABLES, table, uri_manifest

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


def test_the_actor_pool_used_on_gpus_gives_the_same_vectors(pair, tmp_path):
    local, con = pair
    qmdb.embed(local, labels=True, progress=False)
    from qmdb.scale import embeddings as scale_embed

    scale_embed.export_manifest(con, tmp_path / "m", "builtin-hog-v1", labels=True, images_per_file=20)
    scale_embed.run_on_ray(tmp_path / "m", tmp_path / "r", "builtin", actors=2, batch_size=16, cpus_per_actor=0.5,
                           actor_pool=True)
    scale_embed.load_results(con, tmp_path / "r", "builtin-hog-v1", progress=False)
    assert table(con, EMBEDDINGS) == table(local, EMBEDDINGS)
    assert table(con, ERRORS) == table(local, ERRORS)


def test_cli_engine_ray(pair, capsys):
    _, con = pair
    path = con.sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    con.close()
    assert main(["metrics", path, "--engine", "ray", "--only", "brightness,box_area", "--quiet"]) == 0
    assert "on 54 image(s)" in capsys.readouterr().out
    assert main(["metrics", path, "--engine", "ray", "--only", "brightness,box_area", "--quiet"]) == 0
    assert "on 0 image(s)" in capsys.readouterr().out                   # done: nothing goes to Ray again


COUNTS = "SELECT (SELECT count(*) FROM images), (SELECT count(*) FROM image_metrics), " \
         "(SELECT count(*) FROM embeddings), (SELECT count(*) FROM errors)"


def test_a_manifest_of_uris_on_ray_equals_the_local_runners_and_a_rerun_writes_nothing(pair, tmp_path, image_root):
    local, _ = pair
    qmdb.compute_metrics(local, workers=0, progress=False)
    qmdb.embed(local, progress=False)
    from qmdb.scale import compute_metrics_ray, embed_ray

    con = qmdb.connect(tmp_path / "bucket.duckdb")
    path = uri_manifest(tmp_path, image_root, "bucket.parquet")
    report = compute_metrics_ray(con, manifest=path, chunk_size=8, progress=False)
    assert (report.images, report.errors) == (len(FILES), 4)
    embedded = embed_ray(con, manifest=path, batch_size=16, actors=2, progress=False)
    assert (embedded.written["image"], embedded.errors) == (len(FILES) - 4, 4)
    assert table(con, BY_NAME["metrics"]) == table(local, BY_NAME["metrics"])
    assert table(con, BY_NAME["vectors"]) == table(local, BY_NAME["vectors"])
    same = "SELECT * FROM (" + BY_NAME["errors"] + ") WHERE stage = 'metrics' OR name <> 'missing.jpg'"
    assert table(con, same) == table(local, same)
    assert table(con, "SELECT stage, message FROM errors WHERE file = ? ORDER BY 1".replace(
        "?", "'" + (image_root / "missing.jpg").resolve().as_uri() + "'")) == [
        ("embed", "builtin-hog-v1: unreadable image: file not found"), ("metrics", "file not found")]
    before = table(con, COUNTS)
    assert before == [(len(FILES), len(FILES), len(FILES) - 4, 8)]   # broken images: a row of NULLs, as local
    again = compute_metrics_ray(con, manifest=path, chunk_size=8, progress=False)
    assert (again.images, again.errors) == (0, 0)
    again = embed_ray(con, manifest=path, progress=False)
    assert sum(again.written.values()) == 0 and again.errors == 0
    assert table(con, COUNTS) == before
    con.close()


def test_cli_manifest(tmp_path, image_root, capsys):
    db, path = str(tmp_path / "cli.duckdb"), str(uri_manifest(tmp_path, image_root))
    qmdb.connect(db).close()
    assert main(["metrics", db, "--dataset", "shelf", "--only", "brightness"]) == 1
    assert "--dataset needs --manifest or --engine ray" in capsys.readouterr().err
    for _ in range(2):
        assert main(["metrics", db, "--engine", "ray", "--manifest", path, "--dataset", "shelf",
                     "--only", "brightness", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "on 54 image(s)" in out[0] and "on 0 image(s)" in out[1]
    assert main(["embed", db, "--engine", "ray", "--manifest", path, "--dataset", "shelf", "--no-progress"]) == 0
    assert "embedded 50 image vectors; 4 errors" in capsys.readouterr().out
    con = qmdb.connect(db)
    assert table(con, "SELECT dataset, count(*) FROM images GROUP BY 1") == [("shelf", len(FILES))]
    con.close()
