"""errors_classification against cleanlab 2.9 on the same out-of-fold probabilities, and against the known flips."""

import duckdb
import numpy as np
import pytest
from cleanlab.count import compute_confident_joint
from cleanlab.filter import find_label_issues

import qmdb

from .conftest import noisy_digits, project, shared_project


def _issues(con, **params) -> np.ndarray:
    rows = qmdb.find_label_errors(con, "digits-lda", **params).fetchall()
    # label ids were given in image order from 1
    return np.array([r[1] - 1 for r in rows], dtype=int)


def _precision_recall(found, flipped):
    hits = len(set(found.tolist()) & set(flipped.tolist()))
    return hits / max(len(found), 1), hits / len(flipped)


def _our_joint(con):
    joint = np.zeros((10, 10), dtype=int)
    for _, i, j, n in con.sql("SELECT * FROM errors_confident_joint(model_name := 'digits-lda')").fetchall():
        joint[int(i), int(j)] = n
    return joint


def test_confident_joint_is_cleanlabs(setting):
    _, _, given, probs = noisy_digits(*setting)
    ours = _our_joint(shared_project(*setting))
    theirs = compute_confident_joint(given, probs)
    # same calibration; rows total the same; rounding ties may be broken differently (numpy's argsort is unstable)
    assert (ours.sum(axis=1) == theirs.sum(axis=1)).all()
    assert np.abs(ours - theirs).max() <= 1
    assert np.abs(ours - theirs).sum() <= 4


@pytest.mark.parametrize("rank_by", ["self_confidence", "normalized_margin"])
def test_issues_and_order_are_cleanlabs_given_the_same_joint(setting, rank_by):
    _, _, given, probs = noisy_digits(*setting)
    con = shared_project(*setting)
    ours = _issues(con, rank_by=rank_by)
    theirs = find_label_issues(given, probs, confident_joint=_our_joint(con),
                               return_indices_ranked_by=rank_by, n_jobs=1)
    assert len(ours) > 20
    # the same issues, up to which of several labels with equal margins is pruned (digits has duplicate
    # images, hence equal probabilities; cleanlab breaks such ties by numpy's unstable argsort)
    assert len(set(ours.tolist()) ^ set(theirs.tolist())) <= 2
    # same order, up to the order of equal scores (digits has duplicate images, hence equal probabilities)
    self_confidence = probs[np.arange(len(given)), given]
    others = np.where(np.eye(10, dtype=bool)[given], -1, probs).max(axis=1)
    score = self_confidence if rank_by == "self_confidence" else (self_confidence - others + 1) / 2
    assert (np.diff(score[ours]) >= 0).all()
    common = np.isin(theirs, ours)
    assert ours[np.isin(ours, theirs)].tolist() == theirs[common].tolist() or \
        np.allclose(score[ours[np.isin(ours, theirs)]], score[theirs[common]], rtol=0, atol=1e-12)


def test_precision_and_recall_at_least_cleanlabs(setting):
    _, y, given, probs = noisy_digits(*setting)
    flipped = np.flatnonzero(given != y)
    ours = _precision_recall(_issues(shared_project(*setting)), flipped)
    theirs = _precision_recall(find_label_issues(given, probs, return_indices_ranked_by="self_confidence",
                                                 n_jobs=1), flipped)
    # equal up to how ties in rounding the confident joint are broken: at most two flips either way
    assert ours[0] >= theirs[0] - 0.02 and ours[1] >= theirs[1] - 2 / len(flipped)
    assert ours[1] >= 0.75  # most flips are found
    assert ours[0] >= 3 * len(flipped) / len(y)  # far better than flagging at random


def test_ranking_puts_flips_first(setting):
    _, y, given, _ = noisy_digits(*setting)
    found = _issues(shared_project(*setting))
    top = found[: len(found) // 4]
    assert np.mean(given[top] != y[top]) > np.mean(given[found] != y[found])


def test_suggested_class_is_often_the_truth():
    _, y, _, _ = noisy_digits("class_conditional", 0.10)
    rows = qmdb.find_label_errors(shared_project("class_conditional", 0.10), "digits-lda").fetchall()
    flips = [(r[1] - 1, r[6]) for r in rows if int(r[5]) != y[r[1] - 1]]
    assert np.mean([int(s) == y[i] for i, s in flips]) > 0.8


def test_reviewed_labels_are_hidden():
    con = project("symmetric", 0.05)
    first = qmdb.find_label_errors(con, "digits-lda").fetchall()[0]
    qmdb.tag(con, "label", first[1], "reviewed", author="ana")
    assert first[1] not in [r[1] for r in qmdb.find_label_errors(con, "digits-lda").fetchall()]
    shown = qmdb.find_label_errors(con, "digits-lda", hide_reviewed=False).fetchall()
    assert shown[0][1] == first[1]


def test_bad_rank_by_is_refused():
    con = project("symmetric", 0.05)
    with pytest.raises(ValueError, match="rank_by"):
        qmdb.find_label_errors(con, "digits-lda", rank_by="loss")
    with pytest.raises(duckdb.Error, match="rank_by must be"):
        qmdb.run_view(con, "errors_classification", rank_by="loss").fetchall()


def test_misshapen_arrays_are_an_input_error():
    with pytest.raises(qmdb.InputError, match="class_names"):
        from qmdb.label_errors import load_classification
        load_classification(qmdb.connect(), dataset="d", model="m", root=".", paths=["a"],
                            given=np.array([0]), probs=np.array([[0.5, 0.5]]), class_names=["a"])
