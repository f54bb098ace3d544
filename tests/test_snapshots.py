"""Snapshots: a view's result frozen with its parameters and versions; diffs across data versions."""

import json

import numpy as np
import pyarrow as pa
import pytest
from sklearn.datasets import load_digits

import qmdb
from qmdb import snapshots
from qmdb.cli import main
from qmdb.snapshots import SnapshotError


@pytest.fixture
def digits(con):
    """120 real digit images (their 8x8 ink as a brightness) with their true classes as labels."""
    data = load_digits()
    n = 120
    images = pa.table({"image_id": np.arange(1, n + 1), "dataset": ["digits"] * n,
                       "path": [f"{t}/{i:04d}.png" for i, t in enumerate(data.target[:n])],
                       "width": [8] * n, "height": [8] * n,
                       "brightness": data.images[:n].mean(axis=(1, 2)) / 16})
    con.execute("ALTER TABLE images ADD COLUMN brightness DOUBLE")
    con.register("new_images", images)
    con.execute("INSERT INTO images (image_id, dataset, path, width, height, brightness) SELECT * FROM new_images")
    con.execute("INSERT INTO labels (image_id, class, source_id) SELECT image_id, split_part(path, '/', 1), path FROM images")
    qmdb.save_view(con, "bright_images", "SELECT image_id, path, brightness FROM images WHERE brightness >= min_brightness "
                   "ORDER BY brightness DESC", "Images at least min_brightness bright.",
                   {"min_brightness": ("DOUBLE", "0.3")})
    return con


def test_snapshot_freezes_rows_with_types_parameters_and_versions(digits):
    taken = qmdb.snapshot(digits, "bright_images", "bright_v1", note="first pass")
    live = qmdb.run_view(digits, "bright_images").fetchall()
    assert taken.rows == len(live) > 0
    assert taken.parameters == {"min_brightness": "0.3"} and taken.key_columns == ("image_id",)
    assert snapshots.rows(digits, "bright_v1").fetchall() == live
    assert [str(t) for t in snapshots.rows(digits, "bright_v1").types] == ["BIGINT", "VARCHAR", "DOUBLE"]
    assert taken.versions["schema"]["core"] >= 1 and taken.versions["schema"]["snapshots"] >= 1
    assert taken.versions["data"]["images"]["rows"] == 120
    assert "label_versions" not in taken.versions                        # named by its last batch, not copied
    assert taken.versions["label_batch"] == digits.sql("SELECT max(batch_id) FROM label_batches").fetchall()[0][0]
    assert taken.note == "first pass"


def test_frozen_rows_survive_a_data_change_and_the_diff_shows_it(digits):
    qmdb.snapshot(digits, "bright_images", "before")
    darkest_kept = digits.sql("SELECT image_id FROM bright_images() ORDER BY brightness LIMIT 1").fetchall()[0][0]
    newly_bright = digits.sql("SELECT image_id FROM images WHERE brightness < 0.3 ORDER BY brightness DESC LIMIT 1").fetchall()[0][0]
    digits.execute("UPDATE images SET brightness = 0.1 WHERE image_id = ?", [darkest_kept])
    digits.execute("UPDATE images SET brightness = 0.9 WHERE image_id = ?", [newly_bright])
    top = digits.sql("SELECT image_id FROM bright_images() ORDER BY brightness DESC LIMIT 1 OFFSET 1").fetchall()[0][0]
    digits.execute("UPDATE images SET path = 'renamed.png' WHERE image_id = ?", [top])
    after = qmdb.snapshot(digits, "bright_images", "after")
    before = snapshots.get(digits, "before")
    assert before.versions["data"]["images"]["hash"] != after.versions["data"]["images"]["hash"]
    diff = qmdb.diff_snapshots(digits, "before", "after").fetchall()
    changes = {(change, json.loads(key)["image_id"]) for change, key, _, _ in diff}
    assert changes == {("left", darkest_kept), ("entered", newly_bright), ("changed", top)}
    assert snapshots.rows(digits, "before").fetchall() != snapshots.rows(digits, "after").fetchall()


def test_parameters_are_recorded_and_compared(digits):
    loose = qmdb.snapshot(digits, "bright_images", "loose", params={"min_brightness": 0.2})
    strict = qmdb.snapshot(digits, "bright_images", "strict", params={"min_brightness": 0.4})
    diff = qmdb.diff_snapshots(digits, "loose", "strict").fetchall()
    assert {d[0] for d in diff} == {"left"} and len(diff) == loose.rows - strict.rows


def test_views_without_an_id_are_keyed_by_whole_rows(digits):
    qmdb.snapshot(digits, "class_counts", "counts_before")
    digits.execute("DELETE FROM labels WHERE class = '0'")
    qmdb.snapshot(digits, "class_counts", "counts_after")
    diff = qmdb.diff_snapshots(digits, "counts_before", "counts_after").fetchall()
    assert {d[0] for d in diff} == {"left", "entered"}
    assert any(json.loads(d[2])["class"] == "0" for d in diff if d[0] == "left")
    assert snapshots.get(digits, "counts_after").key_columns == ()


def test_bad_snapshots_are_clear_errors_and_leave_nothing(digits):
    qmdb.snapshot(digits, "bright_images", "taken")
    with pytest.raises(SnapshotError, match="exists"):
        qmdb.snapshot(digits, "bright_images", "taken")
    with pytest.raises(qmdb.ViewError, match="no view named"):
        qmdb.snapshot(digits, "nope", "x")
    with pytest.raises(SnapshotError, match="lower-case"):
        qmdb.snapshot(digits, "bright_images", "Bad Name")
    with pytest.raises(SnapshotError, match="key column"):
        qmdb.snapshot(digits, "bright_images", "k", key=["nope"])
    with pytest.raises(SnapshotError, match="keyed differently"):
        qmdb.snapshot(digits, "class_counts", "counts")
        qmdb.diff_snapshots(digits, "taken", "counts")
    assert digits.sql("SELECT count(DISTINCT snapshot) FROM snapshot_rows").fetchall() == [(2,)]
    assert qmdb.snapshot(digits, "bright_images", "taken", params={"min_brightness": 0.5}, replace=True).parameters == {"min_brightness": 0.5}


def test_cli_snapshot_list_show_diff(db_path, capsys):
    con = qmdb.connect(db_path)
    con.execute("INSERT INTO images (image_id, dataset, path, width) VALUES (1, 'd', 'a.png', 10), (2, 'd', 'b.png', 30)")
    qmdb.save_view(con, "wide", "SELECT image_id, path FROM images WHERE width >= min_width", "Wide images.",
                   {"min_width": ("INTEGER", "20")})
    con.close()
    assert main(["snapshot", str(db_path), "wide", "--name", "w20"]) == 0
    assert main(["snapshot", str(db_path), "wide", "--name", "w5", "-p", "min_width=5"]) == 0
    assert "2 rows" in capsys.readouterr().out
    assert main(["snapshot", str(db_path), "--diff", "w20", "w5", "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [(r["change"], json.loads(r["key"])) for r in rows] == [("entered", {"image_id": 1})]
    assert main(["snapshot", str(db_path), "--list"]) == 0 and "w20" in capsys.readouterr().out
    assert main(["snapshot", str(db_path), "wide", "--name", "w20"]) == 1
    assert "exists" in capsys.readouterr().err
