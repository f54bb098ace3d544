"""qmdb's default thresholds against CleanVision's on real photos and faulty copies of them.

The table is held, per issue type: (both, only qmdb, only CleanVision). The README explains each
disagreement (dark: the Hubble field's sparse stars; blurry: CleanVision reads blur on a 64-pixel
thumbnail and misses σ = 6 blur; near duplicates: two different DCT hashes).
"""

import pytest

pytest.importorskip("cleanvision")

from qmdb.health import agreement  # noqa: E402

# issue type → (both at least, only qmdb at most, only CleanVision at most)
HELD = {
    "dark": (8, 2, 0), "light": (3, 0, 0), "blurry": (0, 17, 0), "low_information": (3, 0, 0),
    "odd_aspect_ratio": (2, 0, 0), "odd_size": (3, 0, 0), "grayscale": (28, 0, 0), "exact_duplicates": (8, 0, 0),
    "near_duplicates": (22, 7, 2),
}


def test_agreement_with_cleanvision_is_held(photo_project):
    con, root = photo_project
    rows = agreement.agreement(con, "photos", root)
    print("\n" + agreement.format_table(rows))
    for name, both, only_ours, only_theirs, _ in rows:
        least_both, most_ours, most_theirs = HELD[name]
        assert both >= least_both and only_ours <= most_ours and only_theirs <= most_theirs, (name, rows)


def test_planted_photo_faults_are_flagged(photo_project):
    con, _ = photo_project
    rows = con.sql("SELECT i.path FROM issues_blurry() f JOIN images i ON i.image_id = f.item_id WHERE is_issue").fetchall()
    blurry = {p for (p,) in rows}
    assert {p for p in blurry if p.startswith(("blurry/", "dark_blurry/"))} == {
        p for (p,) in con.sql("SELECT path FROM images WHERE path LIKE 'blurry/%' OR path LIKE 'dark_blurry/%'").fetchall()}
