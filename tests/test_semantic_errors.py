"""Semantic pixel label errors: probability files, `semantic_pixel_issues` and `errors_semantic_pixels`,
measured side by side with cleanlab's `segmentation` module on the same arrays."""

import functools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data, transform

import qmdb
from qmdb.errors import InputError
from qmdb.importers import import_dataset, import_predictions
from qmdb.label_errors.semantic_pixels import PixelIssues, images_per_batch

cleanlab_filter = pytest.importorskip("cleanlab.segmentation.filter")
cleanlab_rank = pytest.importorskip("cleanlab.segmentation.rank")

CLASSES = ["sky", "dark", "mid", "bright"]
H, W = 24, 32
WRONG = [(1, (2, 10, 3, 12)), (3, (14, 22, 20, 30)), (4, (0, 6, 0, 8))]  # (image, (y0, y1, x0, x1)) relabelled


@functools.cache
def _scenes() -> list[np.ndarray]:
    photos = (data.camera(), data.coins(), data.moon(), data.page(), data.grass(), data.brick())
    return [(transform.resize(p, (H, W), anti_aliasing=True) * 255).astype(np.uint8) for p in photos]


def _truth(grey: np.ndarray) -> np.ndarray:
    return np.digitize(grey, np.quantile(grey, [0.25, 0.5, 0.75])).astype(np.uint8)


def _probs(truth: np.ndarray, rng: np.random.Generator, dtype: str) -> np.ndarray:
    """A noisy model that knows the truth: softmax of 3 x one-hot plus Gaussian noise."""
    logits = 3.0 * np.eye(len(CLASSES))[truth].transpose(2, 0, 1) + rng.normal(0, 1.2, (len(CLASSES), H, W))
    e = np.exp(logits - logits.max(axis=0))
    return (e / e.sum(axis=0)).astype(dtype)


def _project(root: Path, dtype: str = "float32", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Six photographs, their 4-class masks with the WRONG regions relabelled, and probability files
    (two as .npz); returns the labels (N, H, W) and probabilities (N, K, H, W) in image order."""
    rng = np.random.default_rng(seed)
    for sub in ("images", "masks", "preds"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "classes.json").write_text(json.dumps(CLASSES))
    labels, probs = [], []
    for k, grey in enumerate(_scenes()):
        truth = _truth(grey)
        label = truth.copy()
        for image, (y0, y1, x0, x1) in WRONG:
            if image == k:
                label[y0:y1, x0:x1] = (label[y0:y1, x0:x1] + 2) % len(CLASSES)
        p = _probs(truth, rng, dtype)
        Image.fromarray(np.stack([grey] * 3, axis=-1)).save(root / f"images/img{k}.png")
        Image.fromarray(label, mode="L").save(root / f"masks/img{k}.png")
        if k % 3 == 2:
            np.savez(root / f"preds/img{k}.npz", probs=p)
        else:
            np.save(root / f"preds/img{k}.npy", p)
        labels.append(label.astype(np.int64))
        probs.append(p)
    return np.stack(labels), np.stack(probs)


def _imported(con, root: Path, model: str = "segformer") -> None:
    import_dataset(con, "semantic", root, name="city")
    import_predictions(con, "semantic", root / "preds", model=model, dataset="city")


@pytest.fixture
def city(tmp_path):
    root = tmp_path / "city"
    labels, probs = _project(root)
    return root, labels, probs


def _stored_masks(con, model: str = "segformer") -> tuple[np.ndarray, np.ndarray]:
    from pycocotools import mask as api

    rows = con.sql(f"SELECT issue_mask, label_score FROM semantic_pixel_issues WHERE model = '{model}' "
                   "ORDER BY image_id").fetchall()
    masks = np.stack([api.decode({"size": m["size"], "counts": m["counts"].encode()}) for m, _ in rows]).astype(bool)
    return masks, np.array([s for _, s in rows])


def test_issues_and_scores_equal_cleanlab(con, city):
    root, labels, probs = city
    _imported(con, root)
    ours, scores = _stored_masks(con)
    theirs = cleanlab_filter.find_label_issues(labels, probs, verbose=False, n_jobs=1)
    image_scores, _ = cleanlab_rank.get_label_quality_scores(labels, probs, verbose=False)
    assert theirs.sum() > 50 and np.array_equal(ours, theirs)
    assert np.abs(scores - image_scores).max() < 1e-9
    injected = np.zeros_like(theirs)
    for image, (y0, y1, x0, x1) in WRONG:
        injected[image, y0:y1, x0:x1] = True
    assert ours[injected].mean() > 0.6 and injected[ours].mean() > 0.85  # mostly the relabelled regions, most of them
    counts = con.sql("SELECT image_id, issue_pixels, labelled_pixels FROM semantic_pixel_issues ORDER BY image_id").fetchall()
    assert [(n, m) for _, n, m in counts] == [(int(t.sum()), H * W) for t in theirs]


def test_the_view_names_the_flagged_class_and_the_suggestion(con, city):
    root, labels, probs = city
    _imported(con, root)
    rows = con.sql("SELECT path, issue_pixels, issue_share, score, flagged_class, flagged_pixels, suggested_class, "
                   "is_issue, item_type, issue_mask.size, reason FROM errors_semantic_pixels(model_name := 'segformer')").fetchall()
    assert len(rows) == 6
    assert [r[3] for r in rows if r[7]] == sorted(r[3] for r in rows if r[7])  # worst first
    theirs = cleanlab_filter.find_label_issues(labels, probs, verbose=False, n_jobs=1)
    predicted = probs.argmax(axis=1)
    for path, pixels, share, _, flagged, flagged_pixels, suggested, is_issue, item_type, size, reason in rows:
        k = int(re.search(r"\d+", path).group())
        issue = theirs[k]
        assert (pixels, is_issue, item_type, size) == (issue.sum(), issue.any(), "image", [H, W])
        assert share == pytest.approx(issue.sum() / (H * W), abs=1e-12)
        by_label = np.bincount(labels[k][issue], minlength=4)
        assert (flagged, flagged_pixels) == (_most(by_label), by_label.max() if is_issue else None)
        there = issue & (labels[k] == (CLASSES.index(flagged) if is_issue else -1))
        assert suggested == _most(np.bincount(predicted[k][there], minlength=4))
        assert not is_issue or reason.startswith(f"{pixels} of {H * W} labelled pixels") and reason.endswith(
            f"{flagged_pixels} of them labelled {flagged}, where the model mostly sees {suggested}")


def test_data_issues_lists_the_images_with_pixel_issues(con, city):
    root, labels, probs = city
    _imported(con, root)
    flagged = con.sql("SELECT image_id, score FROM errors_semantic_pixels() WHERE is_issue ORDER BY image_id").fetchall()
    listed = con.sql("SELECT item_id, score FROM data_issues() WHERE issue_type = 'pixel_label_errors' "
                     "AND source_view = 'errors_semantic_pixels' ORDER BY item_id").fetchall()
    assert listed == flagged and len(flagged) >= 3


def _most(counts: np.ndarray) -> str | None:
    """The class with the most pixels, ties to the first name alphabetically (as the view orders them)."""
    return min((CLASSES[c] for c in np.flatnonzero(counts == counts.max())), default=None) if counts.any() else None


def test_predictions_are_the_argmax_with_the_mean_probability_as_score(con, city):
    from pycocotools import mask as api

    root, _, probs = city
    _imported(con, root)
    rows = con.sql("SELECT i.path, p.class, p.score, p.mask FROM predictions p JOIN images i USING (image_id) "
                   "ORDER BY i.path, p.class").fetchall()
    predicted = probs.argmax(axis=1)
    expected = sorted((f"img{k}.png", CLASSES[c]) for k in range(6) for c in np.unique(predicted[k]))
    assert [(r[0], r[1]) for r in rows] == expected
    for path, cls, score, mask in rows:
        k, c = int(path[3]), CLASSES.index(cls)
        where = predicted[k] == c
        assert np.array_equal(api.decode({"size": mask["size"], "counts": mask["counts"].encode()}).astype(bool), where)
        assert score == pytest.approx(float(probs[k, c][where].astype(np.float64).mean()), abs=1e-12)


def test_ignored_pixels_take_no_part(con, tmp_path):
    root = tmp_path / "city"
    labels, probs = _project(root, seed=1)
    ring = np.zeros((H, W), bool)
    ring[0, :] = ring[-1, :] = True
    for k in range(6):
        mask = labels[k].astype(np.uint8)
        mask[ring] = 255
        Image.fromarray(mask, mode="L").save(root / f"masks/img{k}.png")
    _imported(con, root)
    ours, _ = _stored_masks(con)
    assert not ours[:, ring].any()
    assert con.sql("SELECT DISTINCT labelled_pixels FROM semantic_pixel_issues").fetchall() == [(H * W - 2 * W,)]
    # cleanlab on the labelled pixels only: one image holding them all, in the same order
    kept = labels[:, ~ring].reshape(1, 1, -1)
    theirs = cleanlab_filter.find_label_issues(kept, probs[:, :, ~ring].transpose(1, 0, 2).reshape(1, 4, 1, -1),
                                               verbose=False, n_jobs=1)
    assert np.array_equal(ours[:, ~ring].reshape(1, 1, -1), theirs)


def test_ties_at_the_cut_off_are_taken_in_pixel_order(tmp_path, monkeypatch):
    """Probabilities in steps of 1/10 tie everywhere; cleanlab with a stable argsort is the reference."""
    from cleanlab.experimental import label_issues_batched

    rng = np.random.default_rng(3)
    n, k = 5, 3
    labels = rng.integers(0, k, (n, 8, 10))
    steps = rng.multinomial(10, [0.2, 0.3, 0.5], size=(n, 8, 10))
    probs = (steps / 10.0).transpose(0, 3, 1, 2)
    monkeypatch.setattr(label_issues_batched, "find_top_issues", lambda scores, top: scores.argsort(kind="stable")[:top])
    theirs = cleanlab_filter.find_label_issues(labels, probs, verbose=False, n_jobs=1)
    finder = PixelIssues(k, images_per_batch=images_per_batch(k, 80), workdir=tmp_path)
    for i in range(n):
        finder.add(labels[i], probs[i], probs[i].argmax(axis=0))
    reread = []
    ours = np.zeros((n, 80), bool)
    for found in finder.issues(lambda i: reread.append(i) or (labels[i], probs[i])):
        ours[found.image, found.pixels] = True
    assert len(reread) == 1 and 0 < theirs.sum() < theirs.size
    assert np.array_equal(ours.reshape(theirs.shape), theirs)


def test_float16_agrees_but_for_ties_at_the_cut_off(con, tmp_path):
    root = tmp_path / "city"
    labels, probs = _project(root, dtype="float16", seed=2)
    _imported(con, root)
    ours, scores = _stored_masks(con)
    theirs = cleanlab_filter.find_label_issues(labels, probs, verbose=False, n_jobs=1)
    confidence = np.take_along_axis(probs, labels[:, None], axis=1)[:, 0]
    differ = ours != theirs
    cut = confidence[ours | theirs].max()
    assert theirs.sum() > 50 and np.all(confidence[differ] == cut)
    image_scores, _ = cleanlab_rank.get_label_quality_scores(labels, probs, verbose=False)
    assert np.abs(scores - image_scores).max() < 1e-9


def test_reimport_replaces_and_a_png_model_has_no_pixel_issues(con, city):
    root, labels, probs = city
    _imported(con, root)
    first = con.sql("SELECT image_id, issue_pixels FROM semantic_pixel_issues ORDER BY 1").fetchall()
    np.save(root / "preds/img0.npy", np.eye(4, dtype=np.float32)[labels[0]].transpose(2, 0, 1))  # agrees with the label
    import_predictions(con, "semantic", root / "preds", model="segformer", dataset="city")
    again = con.sql("SELECT image_id, issue_pixels FROM semantic_pixel_issues ORDER BY 1").fetchall()
    assert len(again) == 6 and again[0][1] == 0 and again != first
    for k in range(6):
        for suffix in (".npy", ".npz"):
            (root / f"preds/img{k}{suffix}").unlink(missing_ok=True)
        Image.fromarray(probs[k].argmax(axis=0).astype(np.uint8), mode="L").save(root / f"preds/img{k}.png")
    import_predictions(con, "semantic", root / "preds", model="segformer", dataset="city")
    assert con.sql("SELECT count(*) FROM semantic_pixel_issues").fetchall() == [(0,)]
    assert con.sql("SELECT count(*) FROM predictions WHERE score = 1").fetchall()[0][0] > 0


def _bad(root: Path, name: str) -> None:
    arrays = {
        "classes": np.full((3, H, W), 1 / 3, np.float32),
        "size": np.full((4, H, W - 1), 0.25, np.float32),
        "nan": np.where(np.arange(H * W).reshape(H, W) == 37, np.nan, 0.25).astype(np.float32)[None].repeat(4, 0),
        "logits": np.ones((4, H, W), np.float32),
        "ints": np.zeros((4, H, W), np.int64),
    }
    if name == "stray":
        np.save(root / "preds/nobody.npy", np.full((4, H, W), 0.25, np.float32))
    elif name == "twice":
        Image.fromarray(np.zeros((H, W), np.uint8), mode="L").save(root / "preds/img1.png")
    elif name == "map":
        (root / "preds/classes.json").write_text(json.dumps(["sky", "dark", "mid", "light"]))
    elif name == "npz":
        (root / "preds/img1.npy").unlink()
        np.savez(root / "preds/img1.npz", logits=arrays["logits"])
    else:
        np.save(root / "preds/img1.npy", arrays[name])


BAD = {
    "classes": "img1.npy: shape: 3 classes on the first axis, the class map has 4",
    "size": "img1.npy: shape: probabilities are 31x24 (w x h), its image 32x24",
    "nan": "img1.npy: pixel (5, 1): probability nan of class 'sky', expected 0..1",
    "logits": "img1.npy: pixel (0, 0): the class probabilities sum to 4, not 1 (softmax the logits first)",
    "ints": "img1.npy: dtype: expected float16, float32 or float64 probabilities, got int64",
    "stray": "nobody.npy: no image of dataset 'city' matches this file",
    "twice": "img1.png: image img1.png already has the prediction file img1.npy; keep one",
    "npz": "img1.npz: probs: no array named probs (it holds logits)",
    "map": "classes.json: label class 'bright' of dataset 'city' is not in the class map of the probabilities",
}


@pytest.mark.parametrize("name", BAD)
def test_bad_input_is_one_line_and_nothing_is_written(con, city, name):
    root, _, _ = city
    import_dataset(con, "semantic", root, name="city")
    _bad(root, name)
    with pytest.raises(InputError) as error:
        import_predictions(con, "semantic", root / "preds", model="segformer", dataset="city")
    assert str(error.value).endswith(BAD[name]) and "\n" not in str(error.value)
    assert con.sql("SELECT (SELECT count(*) FROM predictions), (SELECT count(*) FROM semantic_pixel_issues), "
                   "(SELECT count(*) FROM models)").fetchall() == [(0, 0, 0)]


def test_bad_file_on_reimport_keeps_the_earlier_rows(con, city):
    root, _, _ = city
    _imported(con, root)
    before = con.sql("SELECT * FROM semantic_pixel_issues ORDER BY image_id").fetchall()
    predictions = con.sql("SELECT prediction_id, score FROM predictions ORDER BY 1").fetchall()
    _bad(root, "nan")
    with pytest.raises(InputError):
        import_predictions(con, "semantic", root / "preds", model="segformer", dataset="city")
    assert con.sql("SELECT * FROM semantic_pixel_issues ORDER BY image_id").fetchall() == before
    assert con.sql("SELECT prediction_id, score FROM predictions ORDER BY 1").fetchall() == predictions


def test_pixel_issues_are_written_in_the_prediction_transaction(con, city, monkeypatch):
    """Both tables are written when the one commit comes; stopped there, neither is."""
    import qmdb.transaction

    root, _, _ = city
    import_dataset(con, "semantic", root, name="city")
    counts = "SELECT (SELECT count(*) FROM predictions), (SELECT count(*) FROM semantic_pixel_issues)"
    seen = []

    def interrupted(connection):
        seen.append(connection.sql(counts).fetchall()[0])
        connection.execute("ROLLBACK")
        raise KeyboardInterrupt

    monkeypatch.setattr(qmdb.transaction, "commit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        import_predictions(con, "semantic", root / "preds", model="segformer", dataset="city")
    monkeypatch.undo()
    assert len(seen) == 1 and seen[0][0] > 0 and seen[0][1] == 6
    assert con.sql(counts).fetchall() == [(0, 0)]


def test_an_old_project_file_gains_the_table(tmp_path):
    path = tmp_path / "old.duckdb"
    con = qmdb.connect(path)
    con.execute("DROP TABLE semantic_pixel_issues")
    con.execute("DELETE FROM schema_migrations WHERE component = 'semantic_pixels'")
    con.close()
    con = qmdb.connect(path)
    assert con.sql("SELECT count(*) FROM semantic_pixel_issues").fetchall() == [(0,)]
    con.close()


def _readme_sql() -> list[str]:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("### Semantic segmentation", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


def test_the_readme_sql_of_the_section_runs_as_written(con, city):
    root, _, _ = city
    _imported(con, root)
    blocks = _readme_sql()
    assert any("errors_semantic_pixels" in b for b in blocks)
    for block in blocks:
        for statement in filter(str.strip, block.split(";")):
            con.sql(statement).fetchall()


def test_an_image_without_labels_is_predicted_but_not_scored(con, city):
    root, labels, probs = city
    (root / "masks/img5.png").unlink()
    _imported(con, root)
    assert con.sql("SELECT count(*) FROM predictions p JOIN images i USING (image_id) "
                   "WHERE i.path = 'img5.png'").fetchall()[0][0] > 0
    ours, scores = _stored_masks(con)
    theirs = cleanlab_filter.find_label_issues(labels[:5], probs[:5], verbose=False, n_jobs=1)
    image_scores, _ = cleanlab_rank.get_label_quality_scores(labels[:5], probs[:5], verbose=False)
    assert np.array_equal(ours, theirs) and np.abs(scores - image_scores).max() < 1e-9
