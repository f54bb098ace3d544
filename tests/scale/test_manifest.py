"""User manifests (paths or object-store URIs) without Ray: registering, and the per-batch code on file:// URIs.

file:// URIs take the same code path as s3:// or gs:// ones (`pyarrow.fs.FileSystem.from_uri`), with no network.
"""

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pds
import pyarrow.parquet as pq
import pytest
from qmdb.udfs import registry

import qmdb
from qmdb.errors import InputError
from qmdb.scale import embeddings as scale_embed
from qmdb.scale import fetch, manifest
from qmdb.scale import metrics as scale_metrics
from qmdb.uris import UnreadableError, read_bytes

from .conftest import BY_NAME, FILES, table, uri_manifest


@pytest.fixture
def empty(tmp_path):
    con = qmdb.connect(tmp_path / "bucket.duckdb")
    yield con
    con.close()


def test_a_manifest_of_uris_registers_its_images_once_with_their_ids(empty, tmp_path, image_root):
    path = uri_manifest(tmp_path, image_root)
    assert manifest.register(empty, path) == ("bucket", len(FILES))
    rows = table(empty, "SELECT path, source_id, status, sha256 FROM images ORDER BY image_id")
    assert [r[0] for r in rows] == [(image_root / f).resolve().as_uri() for f in FILES]
    assert [r[1] for r in rows] == [str(1000 + n) for n in range(len(FILES))]
    assert {(r[2], r[3]) for r in rows} == {("ok", None)}            # nothing read on the driver
    assert table(empty, "SELECT name, root, format FROM datasets") == [("bucket", "", "manifest")]
    before = table(empty, "SELECT * FROM images ORDER BY image_id")
    manifest.register(empty, path)
    assert table(empty, "SELECT * FROM images ORDER BY image_id") == before


def test_relative_paths_are_relative_to_the_manifest(empty, tmp_path):
    (tmp_path / "lists").mkdir()
    pq.write_table(pa.table({"path": ["a.jpg", "/abs/b.jpg", "sub/c.png"], "split": ["train", None, "val"]}),
                   tmp_path / "lists" / "m.parquet")
    assert manifest.register(empty, tmp_path / "lists" / "m.parquet", "mine") == ("mine", 3)
    folder = str((tmp_path / "lists").resolve())
    assert table(empty, "SELECT path, split FROM images ORDER BY image_id") == [
        (f"{folder}/a.jpg", "train"), ("/abs/b.jpg", None), (f"{folder}/sub/c.png", "val")]


@pytest.mark.parametrize("columns, where", [
    ({"file": ["a.jpg"]}, "a manifest has one column naming each image, 'uri' or 'path'"),
    ({"uri": ["s3://b/a.jpg"], "path": ["a.jpg"]}, "'uri' or 'path'"),
    ({"uri": ["s3://b/a.jpg", "s3://b/a.jpg"]}, "rows[1].uri: names an image a second time"),
    ({"uri": ["s3://b/a.jpg", None]}, "rows[1].uri: required value is missing"),
    ({"uri": ["s3://b/a.jpg", "s3://b/c.jpg"], "image_id": [7, 7]}, "rows[1].image_id: names an image a second time"),
])
def test_a_bad_manifest_names_the_field_and_writes_nothing(empty, tmp_path, columns, where):
    pq.write_table(pa.table(columns), tmp_path / "bad.parquet")
    with pytest.raises(InputError, match=where.replace("[", r"\[").replace("]", r"\]")):
        manifest.register(empty, tmp_path / "bad.parquet")
    assert table(empty, "SELECT count(*) FROM images") == [(0,)]


def test_a_manifest_does_not_go_into_a_dataset_with_a_root(pair, tmp_path, image_root):
    _, con = pair
    with pytest.raises(InputError, match="dataset 'demo' holds images under"):
        manifest.register(con, uri_manifest(tmp_path, image_root), "demo")


def test_reading_uris_gives_bytes_or_a_reason(tmp_path):
    (tmp_path / "a b.jpg").write_bytes(b"bytes")
    files = [(tmp_path / "a b.jpg").as_uri(), (tmp_path / "gone.jpg").as_uri(), "nope://x/y.jpg",
             str(tmp_path / "a b.jpg")]
    assert fetch.read_uri(files[0]) == b"bytes"
    with fetch.readable(files) as paths:
        assert Path(paths[0]).read_bytes() == b"bytes" and paths[1:] == files[1:]
    with pytest.raises(UnreadableError, match="^file not found$"):
        read_bytes(files[1])
    with pytest.raises(UnreadableError, match="^cannot read: "):
        read_bytes(files[2])


def test_metrics_of_uris_equal_the_local_runner_and_unread_ones_are_error_rows(pair, empty, tmp_path, image_root):
    local, _ = pair
    qmdb.compute_metrics(local, workers=0, progress=False)
    manifest.register(empty, uri_manifest(tmp_path, image_root))
    selected = registry.metrics()
    manifest_folder, results = tmp_path / "o'brien's manifest", tmp_path / "o'brien's results"   # paths are values
    scale_metrics.export_manifest(empty, manifest_folder, selected, images_per_file=20, dataset="bucket")
    rows = pds.dataset(manifest_folder, format="parquet", partitioning="hive").to_table()
    results.mkdir()
    for n, start in enumerate(range(0, rows.num_rows, 9)):
        pq.write_table(scale_metrics.compute_batch(rows.slice(start, 9), selected), results / f"{n}.parquet")
    scale_metrics.load_results(empty, results, selected, progress=False)
    assert table(empty, BY_NAME["metrics"]) == table(local, BY_NAME["metrics"])
    assert table(empty, BY_NAME["errors"]) == table(local, BY_NAME["errors"])
    assert table(empty, "SELECT file, message FROM errors WHERE file LIKE '%missing.jpg'") == [
        ((image_root / "missing.jpg").resolve().as_uri(), "file not found")]


def test_embeddings_of_uris_equal_the_local_pipeline(pair, empty, tmp_path, image_root):
    local, _ = pair
    qmdb.embed(local, progress=False)
    manifest.register(empty, uri_manifest(tmp_path, image_root, "bucket.parquet"))
    scale_embed.export_manifest(empty, tmp_path / "m", "builtin-hog-v1", dataset="bucket")
    (tmp_path / "r").mkdir()
    rows = scale_embed.EmbedBatch("builtin")(pds.dataset(tmp_path / "m", format="parquet").to_table())
    pq.write_table(rows, tmp_path / "r" / "part.parquet")
    report = scale_embed.load_results(empty, tmp_path / "r", "builtin-hog-v1", progress=False)
    assert report.written["image"] == len(FILES) - 4 and report.errors == 4
    assert table(empty, BY_NAME["vectors"]) == table(local, BY_NAME["vectors"])
    unread = "SELECT name, message FROM (" + BY_NAME["errors"] + ") WHERE name <> 'missing.jpg'"
    assert table(empty, unread) == table(local, unread)
    assert table(empty, "SELECT file, message FROM errors WHERE file LIKE '%missing.jpg'") == [
        ((image_root / "missing.jpg").resolve().as_uri(), "builtin-hog-v1: unreadable image: file not found")]
    assert scale_embed.export_manifest(empty, tmp_path / "m2", "builtin-hog-v1") == 0   # errors are not retried


def test_the_local_engines_read_uris_too(pair, empty, tmp_path, image_root):
    local, _ = pair
    qmdb.compute_metrics(local, workers=0, progress=False)
    qmdb.embed(local, progress=False)
    manifest.register(empty, uri_manifest(tmp_path, image_root))
    qmdb.compute_metrics(empty, workers=1, progress=False)
    qmdb.embed(empty, progress=False)
    assert table(empty, BY_NAME["metrics"]) == table(local, BY_NAME["metrics"])
    assert table(empty, BY_NAME["vectors"]) == table(local, BY_NAME["vectors"])
    assert table(empty, BY_NAME["errors"]) == table(local, BY_NAME["errors"])
    missing = (image_root / "missing.jpg").resolve().as_uri()
    assert ("metrics", "file not found") in table(empty, f"SELECT stage, message FROM errors WHERE file = '{missing}'")


def test_cli_manifest_on_the_local_engine(tmp_path, image_root, capsys):
    from qmdb.cli import main

    db, path = str(tmp_path / "cli.duckdb"), str(uri_manifest(tmp_path, image_root))
    for _ in range(2):
        assert main(["metrics", db, "--manifest", path, "--dataset", "shelf", "--only", "brightness", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "on 54 image(s)" in out[0] and "on 0 image(s)" in out[1]
    assert main(["embed", db, "--manifest", path, "--dataset", "shelf", "--no-progress"]) == 0
    assert "embedded 50 image vectors; 4 errors" in capsys.readouterr().out
    con = qmdb.connect(db)
    assert table(con, "SELECT dataset, count(*) FROM images GROUP BY 1") == [("shelf", len(FILES))]
    con.close()
