"""Multi-annotator consensus for image-level labels against cleanlab's get_label_quality_multiannotator.

Tolerance: 1e-9 absolute on every score (consensus quality, annotator agreement, each label's
quality, annotator quality and weights, the model weight); the measured gap is ~1e-15 (float
rounding). Consensus classes and worst classes must be equal: 0 decisions differ, except where
cleanlab breaks a tie at random (the views take the lowest class index), which are counted and
left out.
"""

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

import qmdb
from qmdb.label_errors.arrays import load_classification

cleanlab_multiannotator = pytest.importorskip("cleanlab.multiannotator")

TOLERANCE = 1e-9
RANDOM_SEED = 0     # np.random.choice([0, 1]) under this seed gives 0


@pytest.fixture(scope="module")
def annotated(demo_db, tmp_path_factory):
    """A copy of the demo with three more annotators of the digits (1-4 labels per image) and three more of
    the scenes' boxes (qmdb.demo.annotators)."""
    from qmdb.demo.annotators import add_annotators, add_box_annotators

    path = tmp_path_factory.mktemp("consensus") / "demo.duckdb"
    shutil.copy(demo_db, path)
    con = qmdb.connect(path)
    add_annotators(con)
    add_box_annotators(con)
    yield con
    con.close()


def _inputs(con, model):
    """cleanlab's inputs read from the project: the wide label matrix (NaN = not labelled) and pred_probs."""
    votes = con.sql(f"SELECT image_id, annotator, k FROM consensus_votes(model_name := '{model}')").df()
    probs = con.sql(f"SELECT image_id, k, p FROM consensus_probs(model_name := '{model}')").df()
    wide = votes.pivot(index="image_id", columns="annotator", values="k").astype(float).sort_index()
    pred = probs.pivot(index="image_id", columns="k", values="p").loc[wide.index].to_numpy()
    return wide, pred


def _cleanlab(wide, pred, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cleanlab_multiannotator.get_label_quality_multiannotator(
            wide, pred, consensus_method=method, verbose=False, return_weights=True)


def _compare(con, model, method):
    """Run both; return (number of differing consensus classes, max abs gap of every score). A class may
    differ only where cleanlab broke a tie at random; then only the other images' scores are compared."""
    wide, pred = _inputs(con, model)
    ours = con.sql(f"SELECT * FROM consensus_classes(model_name := '{model}', consensus_method := '{method}')"
                   ).df().set_index("image_id").loc[wide.index]
    theirs = _cleanlab(wide, pred, method)
    names = con.sql(f"SELECT DISTINCT k, class FROM consensus_probs(model_name := '{model}') ORDER BY k").df()["class"]
    lq = theirs["label_quality"]
    random_ties = (ours.decided_by == "lowest_class").to_numpy()
    differ = ours.consensus_class.to_numpy() != names.to_numpy()[lq.consensus_label.to_numpy()]
    assert (differ & ~random_ties).sum() == 0
    keep = ~differ
    gaps = {
        "consensus_quality_score": np.abs(ours.consensus_quality_score - lq.consensus_quality_score)[keep].max(),
        "annotator_agreement": np.abs(ours.annotator_agreement - lq.annotator_agreement)[keep].max(),
    }
    if differ.any():
        return int(differ.sum()), gaps
    labels = con.sql(f"SELECT image_id, annotator, quality FROM annotator_labels(model_name := '{model}', "
                     f"consensus_method := '{method}')").df()
    detailed = theirs["detailed_label_quality"].set_axis(wide.index)
    detailed.columns = [c.removeprefix("quality_annotator_") for c in detailed.columns]
    expected = detailed.stack().rename("expected").reset_index().rename(columns={"level_1": "annotator"})
    merged = labels.merge(expected, on=["image_id", "annotator"], validate="one_to_one")
    assert len(merged) == len(labels) == wide.notna().to_numpy().sum()
    gaps["label quality"] = np.abs(merged.quality - merged.expected).max()
    stats = con.sql(f"SELECT * FROM annotator_quality(model_name := '{model}', consensus_method := '{method}')"
                    ).df().set_index("annotator")
    st = theirs["annotator_stats"]
    assert list(stats.index) == list(st.index)                      # same order: worst annotator first
    assert (stats.num_examples_labeled.to_numpy() == st.num_examples_labeled.to_numpy()).all()
    assert (stats.worst_class.to_numpy() == names.to_numpy()[st.worst_class.to_numpy()]).all()
    gaps["annotator_quality"] = np.abs(stats.annotator_quality - st.annotator_quality).max()
    gaps["agreement_with_consensus"] = np.abs(stats.agreement_with_consensus - st.agreement_with_consensus).max()
    weights = pd.Series(theirs["annotator_weight"], index=wide.columns)
    gaps["annotator_weight"] = np.abs(stats.annotator_weight - weights.loc[stats.index]).max()
    gaps["model_weight"] = np.abs(stats.model_weight - theirs["model_weight"]).max()
    return 0, gaps


def test_demo_matches_cleanlab_crowdlab(annotated):
    counts = annotated.sql("SELECT num_annotations, count(*) FROM consensus_classes() GROUP BY 1").fetchall()
    assert {n for n, _ in counts} == {1, 2, 3, 4}                   # real multi-annotator data
    differ, gaps = _compare(annotated, "digits-logreg", "best_quality")
    assert differ == 0
    assert max(gaps.values()) <= TOLERANCE, gaps


def test_consensus_beats_single_labels_and_finds_the_careless_annotator(annotated):
    accuracy = annotated.sql("""
        SELECT avg((c.consensus_class = t.true_class)::INTEGER), avg((l.class = t.true_class)::INTEGER)
        FROM consensus_classes() c
        JOIN labels l ON l.image_id = c.image_id AND NOT contains(l.source_id, ':')   -- the first annotation
        JOIN label_truth t USING (label_id)""").fetchall()[0]
    assert accuracy[0] > accuracy[1] + 0.05                        # consensus repairs most flipped labels
    order = [a for (a,) in annotated.sql("SELECT annotator FROM annotator_quality()").fetchall()]
    assert order[:2] == ["gus", "dana"]                             # the careless one, then the noisy one


def test_demo_boxes_find_the_careless_box_annotator(annotated):
    rows = annotated.sql("SELECT annotator, recall, mean_iou FROM annotator_box_quality()").fetchall()
    assert rows[0][0] == "joe"                                      # jittery, misses a quarter of the objects
    assert min(rows, key=lambda r: r[1])[0] == "joe" and min(rows, key=lambda r: r[2])[0] == "joe"
    shared = annotated.sql("SELECT count(*) FROM consensus_boxes() WHERE is_consensus AND annotators >= 3").fetchall()
    assert shared[0][0] > 300                                        # the scenes really have several annotators


def _tied_project():
    """300 images, 4 annotators over half of them each, 4 classes; probabilities on a coarse grid so that
    ties between voted classes happen and every tie-break of the majority vote is used."""
    rng = np.random.default_rng(7)
    n, m, k = 300, 4, 4
    truth = rng.integers(k, size=n)
    wide = np.full((n, m), np.nan)
    for a, accuracy in enumerate((0.9, 0.8, 0.7, 0.4)):
        who = rng.random(n) < 0.5
        wide[who, a] = np.where(rng.random(n) < accuracy, truth, rng.integers(k, size=n))[who]
    wide[np.isnan(wide).all(axis=1), 0] = truth[np.isnan(wide).all(axis=1)]
    grid = np.round(rng.dirichlet(np.ones(k), size=n) * 2) / 2 + 0.5
    probs = grid / grid.sum(axis=1, keepdims=True)
    names = [f"c{c}" for c in range(k)]
    con = qmdb.connect()
    paths = [f"{i:03d}.png" for i in range(n)]
    load_classification(con, dataset="tied", model="grid", root=".", paths=paths, given=truth, probs=probs,
                        class_names=names)
    con.execute("DELETE FROM labels")
    ids = np.array([r[0] for r in con.execute("SELECT image_id FROM images ORDER BY path").fetchall()])
    rows = [(int(ids[i]), names[int(wide[i, a])], f"a{a}", f"a{a}:0") for i, a in zip(*np.nonzero(~np.isnan(wide)))]
    con.executemany("INSERT INTO labels (image_id, class, annotator, source_id) VALUES (?, ?, ?, ?)", rows)
    return con


def test_majority_vote_tie_breaks_match_cleanlab():
    con = _tied_project()
    rules = dict(con.sql("SELECT decided_by, count(*) FROM consensus_labels(consensus_method := 'majority_vote') "
                         "GROUP BY 1").fetchall())
    assert {"majority", "model", "class_frequency"} <= set(rules), rules
    differ, gaps = _compare(con, "grid", "majority_vote")
    assert differ == 0
    assert max(gaps.values()) <= TOLERANCE, gaps


def test_last_tie_breaks_match_cleanlab(con):
    """Two classes voted equally often overall, tied images with even probabilities: the annotators'
    agreement with the untied images decides (t1, t2); where that ties too (r1) cleanlab picks at random
    (seeded here so that it picks what the view picks, the lowest class index)."""
    votes = {"u1": ("x", "x", "y"), "u2": ("y", "y", "x"), "t1": ("x", None, "y"), "t2": (None, "y", "x"),
             "r1": ("x", "y", None)}
    probs = np.array([[0.7, 0.3], [0.2, 0.8], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    load_classification(con, dataset="d", model="m", root=".", paths=[f"{v}.png" for v in votes],
                        given=np.zeros(5, dtype=int), probs=probs, class_names=["x", "y"])
    con.execute("DELETE FROM labels")
    rows = [(f"{item}.png", c, f"a{a}") for item, cs in votes.items() for a, c in enumerate(cs) if c]
    con.executemany("INSERT INTO labels (image_id, class, annotator, source_id) "
                    "SELECT image_id, ?, ?, 'x' || ? FROM images WHERE path = ?", [(c, a, a, p) for p, c, a in rows])
    decided = dict(con.sql("SELECT i.path, decided_by FROM consensus_labels(consensus_method := 'majority_vote') "
                           "JOIN images i USING (image_id)").fetchall())
    assert decided == {"u1.png": "majority", "u2.png": "majority", "t1.png": "annotator_agreement",
                       "t2.png": "annotator_agreement", "r1.png": "lowest_class"}
    np.random.seed(RANDOM_SEED)
    differ, gaps = _compare(con, "m", "majority_vote")
    assert differ == 0
    assert max(gaps.values()) <= TOLERANCE, gaps


def test_unknown_consensus_method_is_one_clear_error(con):
    import duckdb

    load_classification(con, dataset="d", model="m", root=".", paths=["a.png"], given=np.array([0]),
                        probs=np.array([[0.8, 0.2]]), class_names=["x", "y"])
    with pytest.raises(duckdb.Error, match="consensus_method must be best_quality or majority_vote"):
        con.sql("SELECT * FROM consensus_labels(consensus_method := 'vote')").fetchall()
