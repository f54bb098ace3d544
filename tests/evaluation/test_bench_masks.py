"""bench/masks.py on a tiny case: its generator makes what it says, and the three evaluators agree on the 12 numbers."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pycocotools")


def _bench():
    spec = importlib.util.spec_from_file_location("_bench_masks", Path(__file__).parents[2] / "bench" / "masks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _bench()


@pytest.fixture(scope="module")
def files(bench, tmp_path_factory):
    return bench.case_files(seed=3, n_images=30, cache=tmp_path_factory.mktemp("masks"))


def test_the_case_has_every_form_the_benchmark_names(files):
    gt_file, dt_file = files
    data, results = json.loads(gt_file.read_text()), json.loads(dt_file.read_text())
    segs = [a["segmentation"] for a in data["annotations"]]
    crowd = [s for a, s in zip(data["annotations"], segs) if a["iscrowd"]]
    assert any(isinstance(s, list) and len(s) == 2 for s in segs)                           # two-ring polygons
    assert any(isinstance(s, dict) and isinstance(s["counts"], str) for s in segs)           # compressed RLE
    assert crowd and all(isinstance(s["counts"], list) for s in crowd)                       # crowd: uncompressed RLE
    assert all(isinstance(r["segmentation"]["counts"], str) for r in results)
    labelled = {a["image_id"] for a in data["annotations"]}
    predicted = {r["image_id"] for r in results}
    ids = [i["id"] for i in data["images"]]
    assert set(ids) - labelled - predicted and predicted - labelled                    # empty, predictions only
    assert ids != sorted(ids)
    by_score: dict[float, set] = {}
    for r in results:
        by_score.setdefault(r["score"], set()).add(r["image_id"])
    assert any(len(images) > 1 for images in by_score.values())                             # ties across images


def test_pycocotools_faster_coco_eval_and_qmdb_give_the_same_12_numbers(bench, files):
    try:
        import faster_coco_eval  # noqa: F401
        skip_faster = False
    except ImportError:
        skip_faster = True
    rows = bench.run(*files, rounds=1, skip_faster=skip_faster)
    names = [name for name, *_ in rows]
    assert names[0] == "pycocotools COCOeval" and names[-1] == "qmdb.evaluate(iou_type='segm')"
    assert len(rows) == 2 if skip_faster else names[1] == "faster-coco-eval"
    base = rows[0][2]
    assert base.shape == (12,) and 0 < base[0] < 1 and (base > 0).sum() >= 8                 # a case that tests something
    for name, _, stats, load in rows[1:]:
        np.testing.assert_allclose(stats, base, rtol=0, atol=1e-12, err_msg=name)
        assert load > 0
    assert "max |Δ| of 12 stats" in bench.table(rows).splitlines()[0]
