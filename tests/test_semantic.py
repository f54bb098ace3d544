"""Semantic segmentation: class-index PNG import, class share / fragments / rare classes, and evaluation
against an independent numpy confusion matrix."""

import functools
import json

import numpy as np
import pytest
from PIL import Image
from skimage import data, transform

import qmdb
from qmdb.errors import InputError
from qmdb.importers import import_dataset, import_predictions

CLASSES = {0: "sky", 1: "dark", 2: "mid", 3: "bright", 4: "never"}
SIZE = (36, 48)  # h, w


@functools.cache
def _scenes() -> list[np.ndarray]:
    """Three grey photographs from skimage, resized small."""
    return [(transform.resize(img, SIZE, anti_aliasing=True) * 255).astype(np.uint8)
            for img in (data.camera(), data.coins(), data.moon())]


def _classes(grey: np.ndarray, cuts: tuple[int, int, int]) -> np.ndarray:
    """Class indices 0..3 by brightness, the border ring ignored (255)."""
    out = np.digitize(grey, cuts).astype(np.uint8)
    out[0, :] = 255
    return out


@pytest.fixture
def semantic(tmp_path):
    root = tmp_path / "city"
    for sub in ("images/train", "masks/train", "preds"):
        (root / sub).mkdir(parents=True)
    truth, guess = {}, {}
    for k, grey in enumerate(_scenes()):
        name = f"train/img{k}"
        Image.fromarray(np.stack([grey] * 3, axis=-1)).save(root / f"images/{name}.jpg")
        truth[name] = _classes(grey, (60, 120, 180))
        guess[name] = _classes(grey, (70, 110, 190))
        guess[name][5:9, 5:9] = 255  # a patch the model does not decide
        Image.fromarray(truth[name], mode="L").save(root / f"masks/{name}.png")
        Image.fromarray(guess[name], mode="L").save(root / f"preds/img{k}.png")
    (root / "classes.json").write_text(json.dumps({str(k): v for k, v in CLASSES.items()}))
    return root, truth, guess


def _imported(con, root):
    import_dataset(con, "semantic", root, name="city")
    import_predictions(con, "semantic", root / "preds", model="seg", dataset="city")


def test_one_label_per_image_and_class_with_the_exact_pixels(con, semantic):
    from pycocotools import mask as api

    root, truth, _ = semantic
    report = import_dataset(con, "semantic", root, name="city")
    rows = con.sql("SELECT i.path, l.class, l.source_id, l.mask, l.area, l.x, l.y, l.w, l.h FROM labels l "
                   "JOIN images i USING (image_id) ORDER BY i.path, l.source_id").fetchall()
    expected = [(f"{n}.jpg", CLASSES[c]) for n, m in sorted(truth.items()) for c in np.unique(m[m != 255])]
    assert [(r[0], r[1]) for r in rows] == expected and report.labels == len(expected)
    assert con.sql("SELECT task FROM datasets").fetchall() == [("semantic",)]
    for path, cls, source_id, mask, area, *box in rows:
        want = truth[path[:-4]] == int(source_id)
        rle = {"size": mask["size"], "counts": mask["counts"].encode()}
        assert np.array_equal(api.decode(rle), want)
        assert area == want.sum()
        ys, xs = np.nonzero(want)
        assert box == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
    ids = con.sql("SELECT label_id FROM labels ORDER BY label_id").fetchall()
    import_dataset(con, "semantic", root, name="city")
    assert con.sql("SELECT label_id FROM labels ORDER BY label_id").fetchall() == ids


def _confusion(truth: dict, guess: dict, k: int) -> np.ndarray:
    """Independent reference: a (k, k + 1) pixel confusion matrix over the labelled pixels, the last
    column the pixels predicted as ignore."""
    t = np.concatenate([m.ravel() for _, m in sorted(truth.items())]).astype(np.int64)
    g = np.concatenate([m.ravel() for _, m in sorted(guess.items())]).astype(np.int64)
    keep = t != 255
    t, g = t[keep], np.where(g[keep] == 255, k, g[keep])
    return np.bincount(t * (k + 1) + g, minlength=k * (k + 1)).reshape(k, k + 1)


def test_evaluation_equals_a_numpy_confusion_matrix(con, semantic):
    root, truth, guess = semantic
    _imported(con, root)
    k = len(CLASSES)
    cm = _confusion(truth, guess, k)
    tp = np.diag(cm[:, :k]).astype(float)
    label_px, pred_px = cm.sum(axis=1), cm[:, :k].sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = tp / (label_px + pred_px - tp)
    present = label_px + pred_px > 0
    per_class = {r[0]: r[1:] for r in con.sql(
        "SELECT class, label_pixels, predicted_pixels, tp, iou FROM eval_semantic(model_name := 'seg')").fetchall()}
    assert set(per_class) == {CLASSES[c] for c in np.flatnonzero(present)}
    for c in np.flatnonzero(present):
        assert per_class[CLASSES[c]][:3] == (label_px[c], pred_px[c], tp[c])
        assert per_class[CLASSES[c]][3] == pytest.approx(iou[c], abs=1e-12)
    miou, acc, fw = con.sql("SELECT miou, pixel_accuracy, fw_iou FROM eval_semantic_summary(model_name := 'seg')").fetchall()[0]
    freq = label_px / label_px.sum()
    assert miou == pytest.approx(np.nanmean(iou[present]), abs=1e-12)
    assert acc == pytest.approx(tp.sum() / label_px.sum(), abs=1e-12)
    assert fw == pytest.approx(np.nansum(freq[present] * iou[present]), abs=1e-12)
    assert 0.3 < miou < 1  # the cuts differ: neither perfect nor unrelated
    cells = con.sql("SELECT sum(pixels) FROM eval_semantic_confusion() WHERE predicted_class IS NULL").fetchall()[0][0]
    assert cells == cm[:, k].sum()
    worst = con.sql("SELECT path, pixel_accuracy FROM eval_semantic_images(model_name := 'seg')").fetchall()
    for path, value in worst:
        t, g = truth[path[:-4]], guess[path[:-4]]
        assert value == pytest.approx(((t == g) & (t != 255)).sum() / (t != 255).sum(), abs=1e-12)


def test_a_perfect_model_scores_one(con, semantic):
    root, truth, _ = semantic
    for name, m in truth.items():
        Image.fromarray(m, mode="L").save(root / f"preds/{name.split('/')[1]}.png")
    _imported(con, root)
    assert con.sql("SELECT miou, pixel_accuracy, fw_iou FROM eval_semantic_summary()").fetchall() == [(1.0, 1.0, 1.0)]


def test_class_share_fragments_and_rare_classes(con, semantic):
    from qmdb.udfs.mask_registry import compute_mask_metrics

    root, truth, _ = semantic
    import_dataset(con, "semantic", root, name="city")
    shares = con.sql("SELECT path, class, share, labelled_share FROM semantic_class_share()").fetchall()
    for path, cls, share, labelled in shares:
        m, c = truth[path[:-4]], {v: k for k, v in CLASSES.items()}[cls]
        assert share == pytest.approx((m == c).sum() / m.size) and labelled == pytest.approx((m == c).sum() / (m != 255).sum())
    compute_mask_metrics(con)
    import cv2

    parts = {(p[:-4], c): n for p, c, n in con.sql("SELECT path, class, parts FROM semantic_fragments(min_parts := 3)").fetchall()}
    for (name, cls), n in parts.items():
        m = (truth[name] == {v: k for k, v in CLASSES.items()}[cls]).astype(np.uint8)
        assert n == cv2.connectedComponents(m, connectivity=8)[0] - 1
    assert con.sql("SELECT bool_and(is_issue = (parts >= 3)) FROM semantic_fragments(min_parts := 3)").fetchall() == [(True,)]
    rare = con.sql("SELECT class, pixels, is_rare FROM semantic_rare_classes(max_share := 0.1)").fetchall()
    total = sum((m != 255).sum() for m in truth.values())
    want = {CLASSES[c]: sum((m == c).sum() for m in truth.values()) for c in CLASSES}
    assert {r[0]: r[1] for r in rare} == want
    assert {r[0] for r in rare if r[2]} == {c for c, n in want.items() if n / total < 0.1}
    assert "never" in {r[0] for r in rare if r[2]}


def _unchanged(con):
    return con.sql("SELECT (SELECT count(*) FROM labels), (SELECT count(*) FROM predictions)").fetchall()


def test_a_mask_of_the_wrong_size_names_the_file_and_field(con, semantic):
    root, truth, _ = semantic
    Image.fromarray(np.zeros((10, 10), np.uint8), mode="L").save(root / "masks/train/img1.png")
    with pytest.raises(InputError, match=r"masks/train/img1\.png: size: mask is 10x10 \(w x h\), its image 48x36"):
        import_dataset(con, "semantic", root, name="city")
    assert _unchanged(con) == [(0, 0)]


def test_an_index_outside_the_class_map_names_the_pixel(con, semantic):
    root, truth, _ = semantic
    import_dataset(con, "semantic", root, name="city")
    bad = truth["train/img2"].copy()
    bad[7, 11] = 9
    Image.fromarray(bad, mode="L").save(root / "preds/img2.png")
    before = _unchanged(con)
    with pytest.raises(InputError, match=r"preds/img2\.png: pixel \(11, 7\): class index 9 is not in the class map"):
        import_predictions(con, "semantic", root / "preds", model="seg", dataset="city")
    assert _unchanged(con) == before


def test_class_maps_as_csv_and_bad_entries(tmp_path):
    from qmdb.importers.semantic import read_class_map

    (tmp_path / "classes.csv").write_text("index,name\n0,road\n2,car\n")
    assert read_class_map(tmp_path / "classes.csv") == {0: "road", 2: "car"}
    (tmp_path / "classes.json").write_text('{"0": "road", "255": "void"}')
    with pytest.raises(InputError, match=r"classes\.json: 255: .*ignore index"):
        read_class_map(tmp_path / "classes.json")
    (tmp_path / "classes.json").write_text('["road", "road"]')
    with pytest.raises(InputError, match="listed twice"):
        read_class_map(tmp_path / "classes.json")
