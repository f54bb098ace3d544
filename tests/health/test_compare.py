"""`compare_metrics`, `compare_labels`, the MMD test and `qmdb compare` against scipy and planted drift."""

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

import qmdb
from qmdb.cli import main
from qmdb.health import compare, synthetic

SIDES = "ids_a := (SELECT list(image_id) FROM images WHERE {a}), ids_b := (SELECT list(image_id) FROM images WHERE {b})"


def metric(con, name, where):
    return np.array([v for (v,) in con.sql(f"SELECT m.{name} FROM image_metrics m JOIN images USING (image_id) "
                                           f"WHERE {where}").fetchall()])


def test_ks_matches_scipy_and_drift_ranks_first(planted):
    con, ids = planted
    # the degraded images against the rest: brightness and sharpness have moved, the image sizes have not
    listed = ", ".join(map(str, ids["degraded"]))
    a, b = f"image_id NOT IN ({listed})", f"image_id IN ({listed})"
    rows = {r[0]: r for r in con.sql("SELECT metric, ks, ks_p_value, psi, psi_p_value FROM compare_metrics("
                                     + SIDES.format(a=a, b=b) + ")").fetchall()}
    for name in ("brightness", "sharpness", "width"):
        expected = stats.ks_2samp(metric(con, name, a), metric(con, name, b), method="asymp")
        assert rows[name][1] == pytest.approx(expected.statistic)
        assert rows[name][2] == pytest.approx(expected.pvalue, abs=0.03)
    ranked = [r[0] for r in con.sql("SELECT metric FROM compare_metrics(" + SIDES.format(a=a, b=b) + ")").fetchall()]
    assert set(ranked[:3]) <= {"brightness", "contrast", "sharpness", "entropy"}
    assert rows["brightness"][4] < 1e-6 and rows["width"][2] > 0.01


def test_same_distribution_is_not_drift(clean):
    rows = clean.sql("SELECT metric, ks_p_value, psi_p_value FROM compare_metrics("
                     + SIDES.format(a="split = 'train'", b="split = 'val'") + ")").fetchall()
    assert len(rows) >= 6 and min(p for _, p, _ in rows) > 0.001 and min(q for _, _, q in rows) > 0.001


def test_class_missing_from_a_split_shows_in_the_labels(planted):
    con, _ = planted
    rows = con.sql("SELECT statistic, value_a, value_b FROM compare_labels("
                   + SIDES.format(a="split = 'train'", b="split = 'test'") + ")").fetchall()
    top = [r for r in rows if r[0].startswith("class share")][0]
    assert top[0] == "class share: c3" and top[1] > 0.05 and top[2] == 0


def test_mmd_separates_shifted_samples_only():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(150, 8)), rng.normal(size=(150, 8))
    assert compare.mmd_test(x, y, permutations=100)[1] > 0.05
    _, p, witness = compare.mmd_test(x, y + 0.6, permutations=100)
    assert p < 0.02 and witness[:150].mean() > witness[150:].mean()


def test_compare_command(db_path, capsys):
    con = qmdb.connect(db_path)
    synthetic.project(con, 400, seed=4, drop_class="c3")
    n = 400
    vectors = np.random.default_rng(1).normal(size=(n, 8)).astype(np.float32)
    test = np.array([s == "test" for (s,) in con.sql("SELECT split FROM images ORDER BY image_id").fetchall()])
    vectors[test] += 1.0
    con.register("v", pa.table({"item_id": np.arange(1, n + 1),
                                "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), 8)}))
    con.execute("INSERT INTO embeddings SELECT 'image', item_id, 'toy', CAST(vector AS FLOAT[]) FROM v")
    con.close()
    assert main(["compare", str(db_path), "train", "test", "--permutations", "50", "--max-width", "200"]) == 0
    out = capsys.readouterr().out
    assert "i.split = 'train'" in out and "class share: c3" in out and ": distinguishable at 5 %" in out
    assert main(["compare", str(db_path), "synthetic", "no_such_column > 1"]) == 1
    pytest.importorskip("matplotlib")
    plot = db_path.parent / "drift.png"
    assert main(["compare", str(db_path), "train", "test", "--permutations", "10", "--plot", str(plot)]) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
