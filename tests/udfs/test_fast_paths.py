"""The metric pass's shortcuts give what the plain computation gives: the pair-counted grey
histogram, and SQL functions redefined only when a metric is new to the connection."""

import numpy as np
import pytest

import qmdb
import qmdb.database
from qmdb.udfs import registry
from qmdb.udfs.pixels import histogram

from .conftest import make_project


@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (2, 1), (3, 5), (7, 8), (31, 641), (5, 1), (0, 4)])
def test_histogram_counts_every_pixel_once(shape):
    gray = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    counts = histogram(gray)
    assert counts.dtype == np.float64
    np.testing.assert_array_equal(counts, np.bincount(gray.ravel(), minlength=256))


def test_histogram_of_a_strided_view_and_of_one_level():
    colour = np.random.default_rng(1).integers(0, 256, (40, 51, 3), dtype=np.uint8)
    np.testing.assert_array_equal(histogram(colour[..., 1]), np.bincount(colour[..., 1].ravel(), minlength=256))
    flat = histogram(np.full((300, 301), 7, np.uint8))
    assert flat[7] == 300 * 301 and flat.sum() == 300 * 301


def test_sql_functions_are_redefined_only_for_a_metric_new_to_the_connection(tmp_path, photo_dir, monkeypatch):
    con = make_project(tmp_path / "fast.duckdb", photo_dir, ["china.png"])
    calls = []
    register = qmdb.database.register
    monkeypatch.setattr(qmdb.database, "register", lambda c: calls.append(c) or register(c))
    try:
        qmdb.compute_metrics(con, only=["width"], workers=0, progress=False)
        assert calls == []  # every built-in metric is defined on the connection already

        @registry.image_metric(version=1, type="INTEGER")
        def twice_width(image):
            """Twice the width."""
            return 2 * image.width

        try:
            qmdb.compute_metrics(con, only=["twice_width"], workers=0, progress=False)
            assert len(calls) == 1
            assert con.sql("SELECT twice_width(image_id) = 2 * width(image_id) FROM images").fetchall() == [(True,)]
        finally:
            registry.unregister("image", "twice_width")
    finally:
        con.close()
