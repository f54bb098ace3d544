"""The embed_* views: duplicates, uniqueness, class outliers — plain SQL over the tables."""

import cv2
import pytest

import qmdb

from .conftest import add_dataset, digit_images, photographs


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("views")
    con = qmdb.connect(root / "p.duckdb")
    images, target = digit_images()
    images, target = images[:300], target[:300].astype(object)
    flipped = [5, 50, 120, 210, 290]
    target[flipped] = [(t + 5) % 10 for t in target[flipped]]  # wrong labels
    photo = cv2.resize(photographs()[1], (32, 32), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 70])
    extra = [photo, photo.copy(), cv2.imdecode(jpeg, cv2.IMREAD_UNCHANGED)]  # odd one out, exact copy, re-encoded
    add_dataset(con, root, "digits", images + extra, classes=list(target) + ["photo"] * 3)
    qmdb.embed(con, neighbors=10, progress=False)
    yield con, flipped
    con.close()


def test_duplicates_finds_the_exact_copy_and_the_reencoded_one(project):
    con, _ = project
    rows = con.sql("SELECT path_a, path_b, exact_copy, distance FROM embed_duplicates(max_distance := 0.05) "
                   "WHERE path_a >= '00300' OR path_b >= '00300'").fetchall()
    pairs = {(a, b): (exact, d) for a, b, exact, d in rows}
    assert pairs[("00300.png", "00301.png")][0] is True
    assert pairs[("00300.png", "00301.png")][1] == pytest.approx(0, abs=1e-5)
    assert pairs[("00300.png", "00302.png")][0] is False
    assert pairs[("00300.png", "00302.png")][1] < 0.05
    strict = con.sql("SELECT count(*) FROM embed_duplicates(max_distance := 0.0) WHERE NOT exact_copy").fetchall()
    assert strict == [(0,)]


def test_uniqueness_ranks_images_by_mean_neighbour_distance(project):
    con, _ = project
    rows = con.sql("SELECT image_id, uniqueness FROM embed_uniqueness(k_neighbors := 5)").fetchall()
    assert len(rows) == 303
    check = con.sql("SELECT item_id, avg(distance) FROM neighbors WHERE rank <= 5 GROUP BY 1").fetchall()
    expected = dict(check)
    for image_id, value in rows[:20]:
        assert value == pytest.approx(expected[image_id])
    assert [v for _, v in rows] == sorted((v for _, v in rows), reverse=True)


def test_outliers_surface_wrongly_labelled_images(project):
    con, flipped = project
    rows = con.sql("SELECT i.path FROM embed_outliers(min_z := 2.0) o JOIN images i USING (image_id) "
                   "LIMIT 15").fetchall()
    found = {int(p[:5]) for (p,) in rows}
    assert len(found & set(flipped)) >= 4
    assert con.sql("SELECT count(*) FROM embed_outliers(min_z := 100.0)").fetchall() == [(0,)]
