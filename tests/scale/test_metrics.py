"""The scale-out metric path without Ray: manifest export, the per-batch function, loading results back.

Each Ray task runs `compute_batch` on a slice of the manifest; here the same function runs on
slices of it in this process, so CI (which does not install Ray) covers everything but Ray itself.
"""

import pyarrow.dataset as pds
import pyarrow.parquet as pq
from qmdb.udfs import registry

import qmdb
from qmdb.scale import metrics as scale_metrics

from .conftest import FILES, METRIC_TABLES, table


def _run_without_ray(con, folder, chunk=7):
    """What `run_on_ray` does, in this process: manifest → compute_batch per chunk → Parquet files."""
    selected = registry.metrics()
    todo = scale_metrics.export_manifest(con, folder / "manifest", selected, images_per_file=20)
    manifest = pds.dataset(folder / "manifest", format="parquet", partitioning="hive").to_table()
    out = folder / "results" / "run1"
    out.mkdir(parents=True, exist_ok=True)
    for n, start in enumerate(range(0, manifest.num_rows, chunk)):
        rows = scale_metrics.compute_batch(manifest.slice(start, chunk), selected)
        pq.write_table(rows, out / f"part-{n:03d}.parquet")
    return todo, out, selected


def test_manifest_has_one_row_per_image_to_do_with_its_hash_needs_and_boxes(pair, tmp_path):
    _, con = pair
    todo = scale_metrics.export_manifest(con, tmp_path / "m", registry.metrics(), images_per_file=20)
    rows = pds.dataset(tmp_path / "m", format="parquet", partitioning="hive").to_table()
    assert todo == rows.num_rows == len(FILES)
    assert len(list((tmp_path / "m").rglob("*.parquet"))) == 3            # 54 images, 20 per file
    hashes = dict(table(con, "SELECT image_id, sha256 FROM images"))
    assert {r["image_id"]: r["sha256"] for r in rows.select(["image_id", "sha256"]).to_pylist()} == hashes
    assert all(len(n) == len(registry.metrics("image")) for n in rows["need"].to_pylist())
    n_boxes = sum(len(b or []) for b in rows["labels"].to_pylist())
    assert n_boxes == table(con, "SELECT count(*) FROM labels")[0][0]


def test_results_equal_the_local_runner_row_for_row(pair, tmp_path):
    local, con = pair
    expected = qmdb.compute_metrics(local, workers=0, progress=False)
    _, out, selected = _run_without_ray(con, tmp_path)
    report = scale_metrics.load_results(con, out, selected, progress=False)
    assert (report.images, report.labels, report.errors) == (expected.images, expected.labels, expected.errors)
    for sql in METRIC_TABLES:
        assert table(con, sql) == table(local, sql), sql
    broken = table(con, "SELECT i.path FROM errors e JOIN images i USING (image_id) ORDER BY 1")
    assert [p for (p,) in broken] == sorted(["missing.jpg", "not_an_image.png", "truncated.jpg", "zero_byte.jpg"])


def test_loading_twice_writes_nothing_twice_and_a_rerun_has_nothing_to_do(pair, tmp_path):
    _, con = pair
    _, out, selected = _run_without_ray(con, tmp_path)
    scale_metrics.load_results(con, out, selected, progress=False)
    before = [table(con, sql) for sql in METRIC_TABLES]
    scale_metrics.load_results(con, out, selected, progress=False)
    assert [table(con, sql) for sql in METRIC_TABLES] == before
    assert scale_metrics.export_manifest(con, tmp_path / "again", selected) == 0


def test_a_changed_file_or_metric_version_is_not_loaded_and_is_selected_again(pair, tmp_path):
    _, con = pair
    _, out, selected = _run_without_ray(con, tmp_path)
    con.execute("UPDATE images SET sha256 = 'changed' WHERE path = 'photo1.png'")
    brightness = registry.get("image", "brightness")
    bumped = [m if m.name != "brightness" else type(m)(**{**m.__dict__, "version": m.version + 1})
              for m in selected]
    scale_metrics.load_results(con, out, bumped, progress=False)
    assert table(con, "SELECT count(*) FROM image_metrics m JOIN images i USING (image_id) "
                      "WHERE i.path = 'photo1.png'") == [(0,)]
    versions = table(con, "SELECT DISTINCT versions['brightness'], brightness IS NULL FROM image_metrics "
                          "JOIN images USING (image_id) WHERE path = 'photo0.png'")
    assert versions == [(None, False)] or versions == [(None, True)]
    again = scale_metrics.export_manifest(con, tmp_path / "again", bumped)
    assert again == len(FILES)                                             # every image needs brightness v2
    assert brightness.version == registry.get("image", "brightness").version


def test_half_written_result_files_are_skipped(pair, tmp_path):
    _, con = pair
    _, out, selected = _run_without_ray(con, tmp_path)
    first = min(out.glob("*.parquet"))
    first.write_bytes(first.read_bytes()[:100])                           # killed while writing
    report = scale_metrics.load_results(con, out, selected, progress=False)
    assert report.images == len(FILES) - 7
    assert scale_metrics.export_manifest(con, tmp_path / "again", selected) == 7
