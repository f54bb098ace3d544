"""open_clip models by name (a pretrained tag, an hf-hub id) through open_clip's loader and a Hugging Face
cache laid out as the hub writes it; and the one-line error when the cache is empty and there is no network."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import qmdb
from qmdb.cli import main

from .conftest import add_dataset, photographs
from .test_clip import TINY

REPO = "qmdb-test/tiny-vit"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory):
    """A hub cache holding REPO (config + weights of a seeded tiny ViT) and the reference model."""
    torch = pytest.importorskip("torch")
    from qmdb.embeddings.clip import _open_clip

    clip = _open_clip()
    folder = tmp_path_factory.mktemp("hf")
    config = folder / "tiny-vit.json"
    config.write_text(json.dumps(TINY))
    clip.add_model_config(config)
    torch.manual_seed(1)
    model = clip.create_model("tiny-vit", pretrained=None)
    repo = folder / "hub" / f"models--{REPO.replace('/', '--')}"
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    (snapshot / "open_clip_config.json").write_text(json.dumps({"model_cfg": TINY, "preprocess_cfg": {}}))
    torch.save(model.state_dict(), snapshot / "open_clip_pytorch_model.bin")
    return folder / "hub", model


@pytest.fixture
def offline(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


def _embeds_like(embedder, reference):
    import torch

    photos = photographs()[:2]
    with torch.no_grad():
        expected = reference.eval().encode_image(torch.from_numpy(embedder.preprocess(photos)),
                                                 normalize=True).numpy()
    np.testing.assert_allclose(embedder.embed_images(photos), expected, atol=1e-5)


def test_hub_id_loads_from_the_cache_offline(hub_cache, offline):
    from qmdb.embeddings import get_embedder

    cache, reference = hub_cache
    embedder = get_embedder(f"hf-hub:{REPO}", cache_dir=str(cache), device="cpu")
    assert embedder.name == f"open_clip:hf-hub:{REPO}" and embedder.dim == 32
    assert embedder.weights_sha256 is not None
    _embeds_like(embedder, reference)


def test_pretrained_tag_loads_through_open_clip_and_reopens(hub_cache, offline, monkeypatch, tmp_path, capsys):
    import open_clip.pretrained as registry

    cache, reference = hub_cache
    monkeypatch.setitem(registry._PRETRAINED, "tiny-vit", {"qmdbtag": {"url": "", "hf_hub": f"{REPO}/"}})
    db = tmp_path / "p.duckdb"
    con = qmdb.connect(db)
    add_dataset(con, tmp_path, "photos", photographs()[:3])
    con.close()
    assert main(["embed", str(db), "--model", "tiny-vit", "--pretrained", "qmdbtag", "--cache-dir", str(cache),
                 "--device", "cpu", "--no-progress"]) == 0
    assert "open_clip:tiny-vit:qmdbtag: embedded 3 image vectors" in capsys.readouterr().out
    con = qmdb.connect(db)
    assert con.sql("SELECT weights FROM embedding_models").fetchall() == [("pretrained:qmdbtag",)]
    from qmdb.embeddings.models import _reopen

    _reopen.cache_clear()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    _embeds_like(qmdb.embeddings.models.reopen(con, "open_clip:tiny-vit:qmdbtag"), reference)
    con.close()


def test_unknown_tag_lists_the_known_ones(tmp_path, capsys):
    db = tmp_path / "p.duckdb"
    assert main(["init", str(db)]) == 0
    assert main(["embed", str(db), "--model", "ViT-B-32", "--pretrained", "nosuchtag", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "nosuchtag: --pretrained: not a pretrained tag of ViT-B-32" in err and "laion2b_s34b_b79k" in err


def test_missing_cache_offline_is_one_line_naming_the_folder_and_weights(tmp_path):
    """Run as a user would, with HF_HUB_OFFLINE=1 and an empty cache: a quick, one-line failure."""
    db = tmp_path / "p.duckdb"
    assert main(["init", str(db)]) == 0
    empty = tmp_path / "empty-cache"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(empty)}
    done = subprocess.run([sys.executable, "-c", "import sys; from qmdb.cli import main; sys.exit(main())", "embed", str(db), "--model", "ViT-B-32",
                           "--pretrained", "laion2b_s34b_b79k", "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"{empty}/models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K" in lines[0]
    assert "--weights FILE" in lines[0] and "offline" in lines[0]
