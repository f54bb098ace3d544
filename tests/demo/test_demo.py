"""The demo project: counts, truth, the models' realism, determinism, the cache."""

import hashlib
import json
from pathlib import Path

import cv2
import duckdb
import numpy as np
import pytest

from qmdb.demo import build, detector, digits, scenes, spec
from qmdb.demo.generate import STAGES, generate
from qmdb.errors import QmdbError


def data_dir(demo_db: Path) -> Path:
    con = duckdb.connect(str(demo_db), read_only=True)
    root = con.execute("SELECT root FROM datasets WHERE name = 'digits'").fetchall()[0][0]
    con.close()
    return Path(root).parent


@pytest.fixture(scope="module")
def con(demo_db):
    connection = duckdb.connect(str(demo_db), read_only=True)   # plain DuckDB: no qmdb functions needed
    yield connection
    connection.close()


def one(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()[0][0]


def test_counts(con, demo_db):
    data = data_dir(demo_db)
    coco = json.loads((data / "scenes_coco.json").read_text())
    results = json.loads((data / detector.RESULTS).read_text())
    assert one(con, "SELECT count(*) FROM images WHERE dataset = 'digits'") == 1797
    assert one(con, "SELECT count(*) FROM images WHERE dataset = 'scenes'") == len(coco["images"]) == spec.SCENES + 3
    assert one(con, "SELECT count(*) FROM labels JOIN images USING (image_id) WHERE dataset = 'digits'") == 1797
    assert one(con, "SELECT count(*) FROM labels JOIN images USING (image_id) WHERE dataset = 'scenes'") == len(coco["annotations"])
    assert one(con, "SELECT count(*) FROM predictions WHERE model = 'digits-logreg'") == 1797
    assert one(con, "SELECT count(*) FROM predictions WHERE model = 'detector'") == len(results) > 300
    assert one(con, "SELECT count(*) FROM classes WHERE dataset = 'scenes'") == 10


def test_flipped_labels_are_recorded(con):
    flipped = one(con, "SELECT count(*) FROM label_truth t JOIN labels l USING (label_id) JOIN images i USING (image_id) "
                       "WHERE i.dataset = 'digits' AND t.true_class <> l.class")
    noted = one(con, "SELECT count(*) FROM label_truth t JOIN labels l USING (label_id) JOIN images i USING (image_id) "
                     "WHERE i.dataset = 'digits' AND t.noise IS NOT NULL")
    assert flipped == noted == round(spec.FLIP_RATE * 1797)
    kinds = dict(con.execute("SELECT noise, count(*) FROM label_truth WHERE noise IS NOT NULL GROUP BY 1").fetchall())
    assert kinds["class_pair"] > 0 and kinds["symmetric"] > 0
    for fault in ("shifted_box", "duplicate_box", "wrong_class"):
        assert kinds[fault] == spec.FAULTS[fault]
    assert one(con, "SELECT count(*) FROM label_truth_missing") == spec.FAULTS["missing_box"]
    wrong = one(con, "SELECT count(*) FROM label_truth t JOIN labels l USING (label_id) WHERE t.noise = 'wrong_class' "
                     "AND t.true_class <> l.class")
    assert wrong == spec.FAULTS["wrong_class"]


def test_noisy_annotator_flips_most(con):
    rates = con.execute(
        "SELECT l.annotator, avg((t.noise IS NOT NULL)::INT) FROM labels l JOIN label_truth t USING (label_id) "
        "JOIN images i USING (image_id) WHERE i.dataset = 'digits' GROUP BY 1 ORDER BY 2 DESC").fetchall()
    assert rates[0][0] == "dana"
    assert rates[0][1] > 3 * rates[1][1]


def test_broken_files_are_errors_not_aborts(con):
    broken = con.execute("SELECT path, status FROM images WHERE status <> 'ok' ORDER BY path").fetchall()
    assert [p for p, _ in broken] == sorted(spec.BROKEN_FILES)
    errored = {f.rsplit("/", 1)[-1] for (f,) in con.execute("SELECT file FROM errors WHERE stage = 'import'").fetchall()}
    assert errored == set(spec.BROKEN_FILES)
    # the detector could not read them, so it predicted nothing there
    assert one(con, "SELECT count(*) FROM predictions p JOIN images i USING (image_id) WHERE i.status <> 'ok'") == 0


def test_classifier_accuracy_is_realistic(con):
    accuracy = one(con, "SELECT avg((p.class = t.true_class)::INT) FROM predictions p JOIN labels l USING (image_id) "
                        "JOIN label_truth t USING (label_id) WHERE p.model = 'digits-logreg'")
    assert 0.85 < accuracy < 0.99
    # out-of-fold: on flipped labels it mostly sides with the truth, not with the label it was trained on
    sides = one(con, "SELECT avg((p.class = t.true_class)::INT) FROM predictions p JOIN labels l USING (image_id) "
                     "JOIN label_truth t USING (label_id) WHERE p.model = 'digits-logreg' AND t.noise IS NOT NULL")
    assert sides > 0.5
    sums = con.execute("SELECT min(s), max(s) FROM (SELECT list_sum(map_values(probs)) s FROM predictions "
                       "WHERE model = 'digits-logreg')").fetchall()[0]
    assert sums[0] == pytest.approx(1, abs=1e-4) and sums[1] == pytest.approx(1, abs=1e-4)


RECALL = """
WITH truth AS (
  SELECT i.image_id, t.x, t.y, t.w, t.h, t.true_class, t.digit_height, t.ink_contrast, t.blur
  FROM read_csv($truth, types = {'true_class': 'VARCHAR', 'class': 'VARCHAR', 'fault': 'VARCHAR'}) t
  JOIN images i ON i.dataset = 'scenes' AND i.path = t.file
  WHERE t.fault IS DISTINCT FROM 'duplicate_box'),
hits AS (
  SELECT t.*, bool_or(p.prediction_id IS NOT NULL AND
      greatest(least(t.x + t.w, p.x + p.w) - greatest(t.x, p.x), 0) * greatest(least(t.y + t.h, p.y + p.h) - greatest(t.y, p.y), 0)
      / (t.w * t.h + p.w * p.h - greatest(least(t.x + t.w, p.x + p.w) - greatest(t.x, p.x), 0)
         * greatest(least(t.y + t.h, p.y + p.h) - greatest(t.y, p.y), 0)) >= 0.5) AS hit
  FROM truth t LEFT JOIN predictions p ON p.image_id = t.image_id AND p.model = 'detector' AND p.class = t.true_class
  GROUP BY ALL)
SELECT avg(hit::INT) FILTER (WHERE digit_height >= 30 AND ink_contrast >= 60 AND blur < 1),
       avg(hit::INT) FILTER (WHERE digit_height < 16 OR ink_contrast < 30 OR blur > 2.5)
FROM hits
"""


def test_detector_finds_clear_digits_not_all_hard_ones(con, demo_db):
    clear, hard = con.execute(RECALL, {"truth": str(data_dir(demo_db) / "scenes_truth.csv")}).fetchall()[0]
    assert clear > 0.5
    assert hard < clear and hard < 0.9
    fp = one(con, "SELECT count(*) FROM predictions p WHERE model = 'detector' AND NOT EXISTS (SELECT 1 FROM labels l "
                  "WHERE l.image_id = p.image_id AND abs(l.x - p.x) < l.w / 2 AND abs(l.y - p.y) < l.h / 2)")
    assert fp > 0                                   # a real detector also fires on texture


def test_same_seed_same_files(con, demo_db):
    """The stages' seeds are fixed: regenerating the digits and a scene gives the same bytes."""
    seeds = np.random.SeedSequence(spec.SEED).spawn(len(STAGES))
    images, targets = digits.sources.digits()
    rng = np.random.default_rng(seeds[1])
    first = rng.spawn(spec.SCENES)[0]
    bgr, conditions, _ = scenes.render(first, images[1::2], targets[1::2])
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, conditions["jpeg_quality"]])
    stored = one(con, "SELECT sha256 FROM images WHERE dataset = 'scenes' AND path = 'scene_0000.jpg'")
    assert hashlib.sha256(jpeg.tobytes()).hexdigest() == stored


def test_digits_stage_is_deterministic(tmp_path, con):
    seeds = np.random.SeedSequence(spec.SEED).spawn(len(STAGES))
    digits.generate(tmp_path, np.random.default_rng(seeds[0]))
    made = {p.relative_to(tmp_path / "digits").as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (tmp_path / "digits").rglob("*.png")}
    stored = dict(con.execute("SELECT path, sha256 FROM images WHERE dataset = 'digits'").fetchall())
    assert made == stored


def test_rebuild_from_cache_reuses_files_and_writes_no_row_twice(demo_db, tmp_path):
    data = data_dir(demo_db)
    before = {p: p.stat().st_mtime_ns for p in data.rglob("*.json")}
    folder, cached = generate(data)
    assert cached and folder == data
    db = tmp_path / "again.duckdb"
    lines = []
    build(db, data, post_import=False, say=lines.append)
    assert any("reused from cache" in line for line in lines)
    build(db, data, post_import=False, say=lines.append)          # completing an existing build adds nothing
    con = duckdb.connect(str(db), read_only=True)
    counts = con.execute("SELECT (SELECT count(*) FROM labels), (SELECT count(*) FROM label_truth), "
                         "(SELECT count(*) FROM label_truth_missing), (SELECT count(*) FROM predictions)").fetchall()[0]
    con.close()
    original = duckdb.connect(str(demo_db), read_only=True)
    expected = original.execute("SELECT (SELECT count(*) FROM labels), (SELECT count(*) FROM label_truth), "
                                "(SELECT count(*) FROM label_truth_missing), (SELECT count(*) FROM predictions)").fetchall()[0]
    original.close()
    assert counts == expected
    assert before == {p: p.stat().st_mtime_ns for p in data.rglob("*.json")}


def test_refuses_a_foreign_data_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("not demo data")
    stale = folder.with_name("mine.partial")
    stale.mkdir()
    for name, _ in STAGES:
        (stale / f".{name}.done").touch()
    (stale / "stages.json").write_text(json.dumps({"generator": spec.VERSION, "seed": spec.SEED}))
    with pytest.raises(QmdbError, match="not a qmdb demo data folder"):
        generate(folder)
    assert (folder / "notes.txt").exists()


def test_every_table_reads_in_plain_duckdb(con):
    tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()]
    assert {"images", "labels", "predictions", "label_truth", "label_truth_missing", "errors"} <= set(tables)
    for table in tables:
        con.execute(f'SELECT * FROM "{table}" LIMIT 5').fetchall()
    assert one(con, "SELECT count(*) FROM dataset_summary") == 2


def test_cli_demo_prints_summary_and_examples(demo_db, tmp_path, capsys):
    from qmdb.cli import main

    assert main(["demo", "--db", str(tmp_path / "cli.duckdb"), "--data", str(data_dir(demo_db)), "--no-post"]) == 0
    out = capsys.readouterr().out
    for expected in ("dataset_summary", "digits-logreg", "broken_empty.jpg", "suggested_class", "Try next", "Built"):
        assert expected in out


def test_detector_reads_broken_files_without_libjpeg_noise(tmp_path, capfd):
    """The truncated JPEG is refused by qmdb's one reader before libjpeg sees it: nothing on stderr."""
    ok, jpeg = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))
    whole, cut = tmp_path / "whole.jpg", tmp_path / "cut.jpg"
    whole.write_bytes(jpeg.tobytes())
    cut.write_bytes(jpeg.tobytes()[:300])
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert detector.read(whole).shape == (64, 64, 3)
    assert detector.read(cut) is None and detector.read(tmp_path / "empty.jpg") is None
    assert detector.read(tmp_path / "absent.jpg") is None
    assert "JPEG" not in capfd.readouterr().err
    cv2.imread(str(cut))                      # what the detector used to do: libjpeg warns on stderr
    assert "Premature end of JPEG file" in capfd.readouterr().err
