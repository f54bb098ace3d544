"""The scale-out embedding path without Ray: manifest, the actor's per-batch call, loading back."""

import pyarrow.dataset as pds
import pyarrow.parquet as pq

import qmdb
from qmdb.scale import embeddings as scale_embed

from .conftest import FILES, table

VECTORS = "SELECT item_type, item_id, model, vector FROM embeddings ORDER BY ALL"
ERRORS = "SELECT dataset, image_id, file, stage, message FROM errors ORDER BY ALL"


def test_batches_embedded_apart_equal_the_local_pipeline_and_load_idempotently(pair, tmp_path):
    local, con = pair
    expected = qmdb.embed(local, labels=True, progress=False)
    todo = scale_embed.export_manifest(con, tmp_path / "m", "builtin-hog-v1", labels=True, images_per_file=25)
    assert todo == len(FILES) and len(list((tmp_path / "m").glob("*.parquet"))) == 3
    manifest = pds.dataset(tmp_path / "m", format="parquet").to_table()
    actor = scale_embed.EmbedBatch("builtin")
    out = tmp_path / "o'brien's results"        # a path is a value, never SQL text
    out.mkdir()
    for n, start in enumerate(range(0, manifest.num_rows, 11)):
        pq.write_table(actor(manifest.slice(start, 11)), out / f"part-{n}.parquet")
    report = scale_embed.load_results(con, out, "builtin-hog-v1", progress=False)
    assert report.written == expected.written and report.errors == expected.errors >= 4
    assert table(con, VECTORS) == table(local, VECTORS)
    assert table(con, ERRORS) == table(local, ERRORS)
    again = scale_embed.load_results(con, out, "builtin-hog-v1", progress=False)
    assert sum(again.written.values()) == 0 and again.errors == 0
    assert table(con, VECTORS) == table(local, VECTORS) and table(con, ERRORS) == table(local, ERRORS)
    assert scale_embed.export_manifest(con, tmp_path / "m2", "builtin-hog-v1", labels=True) == 0


def test_vectors_of_a_changed_image_are_not_loaded(pair, tmp_path):
    _, con = pair
    scale_embed.export_manifest(con, tmp_path / "m", "builtin-hog-v1")
    rows = scale_embed.EmbedBatch("builtin")(pds.dataset(tmp_path / "m", format="parquet").to_table())
    (tmp_path / "r").mkdir()
    pq.write_table(rows, tmp_path / "r" / "part.parquet")
    con.execute("UPDATE images SET sha256 = 'changed' WHERE path = 'photo2.png'")
    scale_embed.load_results(con, tmp_path / "r", "builtin-hog-v1", progress=False)
    assert table(con, "SELECT count(*) FROM embeddings e JOIN images i ON i.image_id = e.item_id "
                      "WHERE i.path = 'photo2.png'") == [(0,)]
    assert table(con, "SELECT count(*) FROM embeddings") == [(len(FILES) - 5,)]
