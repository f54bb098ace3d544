"""`qmdb plot calibration`: the reliability diagram draws scikit-learn's calibration_curve."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import qmdb  # noqa: E402
from qmdb.plots import draw  # noqa: E402
from qmdb.plots.calibration import calibration_figure  # noqa: E402
from qmdb.plots.registry import PlotError  # noqa: E402

from .test_classification import digits, project  # noqa: E402,F401  (the fixtures)


def test_reliability_diagram_is_sklearns_calibration_curve(project, tmp_path):  # noqa: F811
    from sklearn.calibration import calibration_curve

    con, y, probs = project
    qmdb.evaluate(con, "logreg", progress=False)
    confidence, correct = probs.max(1), (probs.argmax(1) == y).astype(int)
    for n_bins in (10, 6):
        prob_true, prob_pred = calibration_curve(correct, confidence, n_bins=n_bins, strategy="uniform")
        fig = calibration_figure(con, "logreg", n_bins)
        line = next(l for l in fig.axes[0].lines if l.get_label() == "logreg")
        np.testing.assert_allclose(line.get_xdata(), prob_pred, rtol=0, atol=1e-12)
        np.testing.assert_allclose(line.get_ydata(), prob_true, rtol=0, atol=1e-12)
        counts = [p.get_height() for p in fig.axes[1].patches]
        assert sum(counts) == len(y) and len(counts) == len(prob_true)
    path = draw(con, "calibration", tmp_path / "reliability.png", bins=8)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_detector_has_no_reliability_diagram(detection_project):
    con, _ = detection_project
    qmdb.evaluate(con, "det-model", progress=False)
    with pytest.raises(PlotError, match="no evaluated classifier"):
        calibration_figure(con)
