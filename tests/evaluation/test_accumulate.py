"""accumulate's integer search for COCO's recall thresholds: the fewest TPs whose recall reaches each."""

import numpy as np

from qmdb.evaluation.accumulate import _first_reaching
from qmdb.evaluation.params import RECALL_THRESHOLDS


def test_first_reaching_is_the_float_searchsorted_of_pycocotools():
    gts = np.array([1, 2, 3, 7, 10, 49, 100, 101, 333, 1000, 4097])
    x = _first_reaching(gts, RECALL_THRESHOLDS)
    for k, g in enumerate(gts):
        rc = np.arange(g + 1) / g                    # every recall a class with g ground truths can have
        expected = np.searchsorted(rc, RECALL_THRESHOLDS, side="left")   # what COCOeval.accumulate does
        assert x[k].tolist() == expected.tolist()
