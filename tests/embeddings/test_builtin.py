"""The built-in descriptor meets the issue's measured targets on real images."""

import cv2
import numpy as np

from qmdb.embeddings.builtin import BuiltinEmbedder, describe

from .conftest import photographs


def test_digits_leave_one_out_knn_accuracy_from_the_neighbors_table(digits_ro):
    con = digits_ro
    # Each image's class is the majority class of its 10 nearest neighbours (itself excluded): plain SQL.
    accuracy = con.sql("""
        WITH votes AS (
            SELECT n.item_id, ln.class, count(*) AS votes, min(n.rank) AS best_rank
            FROM neighbors n JOIN labels ln ON ln.image_id = n.neighbor_id
            WHERE n.item_type = 'image' AND n.rank <= 10 GROUP BY ALL),
        predicted AS (SELECT item_id, arg_max(class, (votes, -best_rank)) AS predicted FROM votes GROUP BY 1)
        SELECT avg((p.predicted = l.class)::INT), count(*) FROM predicted p JOIN labels l ON l.image_id = p.item_id
    """).fetchall()[0]
    assert accuracy[1] == 1797
    assert accuracy[0] >= 0.95


def _augment(image, rng):
    """Crop ≤10% (at most 5% off each side), resize 0.6–1.4×, brightness ±20%, JPEG quality 50–90."""
    h, w = image.shape[:2]
    m = rng.uniform(0, 0.05, 4)
    part = image[int(m[0] * h):h - int(m[1] * h), int(m[2] * w):w - int(m[3] * w)]
    scale = rng.uniform(0.6, 1.4)
    part = cv2.resize(part, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    part = np.clip(part.astype(np.float32) * rng.uniform(0.8, 1.2), 0, 255).astype(np.uint8)
    ok, buffer = cv2.imencode(".jpg", part, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 91))])
    return cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)


def test_augmented_copies_find_their_original_at_rank_one():
    rng = np.random.default_rng(7)
    photos = photographs()
    originals = []
    for number in range(300):
        photo = photos[number % len(photos)]
        h, w = photo.shape[:2]
        size = int(rng.integers(96, 192))
        y, x = int(rng.integers(0, h - size)), int(rng.integers(0, w - size))
        originals.append(photo[y:y + size, x:x + size])
    copies = [_augment(o, rng) for o in originals]
    found = np.argmax(describe(copies) @ describe(originals).T, axis=1)
    assert (found == np.arange(len(originals))).mean() >= 0.95


def test_descriptor_is_deterministic_unit_length_and_fixed_size():
    photo = photographs()[0]
    a, b = describe([photo, photo[::2, ::2]]), describe([photo])
    assert a.shape == (2, BuiltinEmbedder.dim)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(a[0], b[0])
    assert float(a[0] @ a[1]) > 0.9  # a half-size copy is close
    assert float(a[0] @ describe([photographs()[1]])[0]) < float(a[0] @ a[1])
