"""On the demo project: the digits' flipped labels (label_truth) found as well as cleanlab finds them."""

import numpy as np
import pytest
from cleanlab.filter import find_label_issues

import qmdb


@pytest.mark.slow
def test_demo_digits_flips_are_found(demo_db):
    con = qmdb.connect(demo_db, read_only=True)
    model = "digits-logreg"
    rows = con.sql(
        "SELECT l.label_id, l.class, p.probs, coalesce(t.true_class <> l.class, false) AS flipped FROM labels l "
        "JOIN images i USING (image_id) JOIN predictions p ON p.image_id = l.image_id AND p.model = ? "
        "LEFT JOIN label_truth t USING (label_id) WHERE i.dataset = 'digits' ORDER BY l.label_id", params=[model]).fetchall()
    classes = sorted(rows[0][2])
    ids = np.array([r[0] for r in rows])
    given = np.array([classes.index(r[1]) for r in rows])
    probs = np.array([[r[2][c] for c in classes] for r in rows])
    flipped = set(ids[[r[3] for r in rows]].tolist())
    ours = {r[1] for r in qmdb.find_label_errors(con, model, hide_reviewed=False).fetchall()}
    theirs = set(ids[find_label_issues(given, probs, n_jobs=1)].tolist())
    assert len(ours ^ theirs) <= 2
    recall = len(ours & flipped) / len(flipped)
    precision = len(ours & flipped) / len(ours)
    assert recall >= 0.7 and precision >= 0.3, (precision, recall)
