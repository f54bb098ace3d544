"""open_clip through the real --weights path: a tiny architecture, weights saved to a local file."""

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

import qmdb
from qmdb.cli import main

from .conftest import add_dataset, photographs


TINY = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    """A tiny open_clip config file and a random-weights state dict saved beside it."""
    torch = pytest.importorskip("torch")
    from qmdb.embeddings.clip import _open_clip

    try:
        clip = _open_clip()
    except qmdb.QmdbError as error:
        pytest.skip(str(error))
    folder = tmp_path_factory.mktemp("clip")
    config = folder / "tiny-vit.json"
    config.write_text(json.dumps(TINY))
    clip.add_model_config(config)
    torch.manual_seed(0)
    model = clip.create_model("tiny-vit", pretrained=None)
    weights = folder / "tiny-vit.pt"
    torch.save(model.state_dict(), weights)
    return config, weights, model


def test_weights_file_loads_into_the_architecture_and_both_towers_embed(tiny_clip):
    import torch

    from qmdb.embeddings.clip import OpenClipEmbedder

    config, weights, reference = tiny_clip
    embedder = OpenClipEmbedder(str(config), weights, device="cpu")
    assert embedder.name == "open_clip:tiny-vit:tiny-vit" and embedder.dim == 32
    for name, tensor in reference.state_dict().items():
        assert torch.equal(embedder.model.state_dict()[name], tensor), name
    photos = photographs()[:3]
    images = embedder.embed_images(photos)
    pixels = torch.from_numpy(embedder.preprocess(photos))
    with torch.no_grad():
        expected = reference.eval().encode_image(pixels, normalize=True).numpy()
    np.testing.assert_allclose(images, expected, atol=1e-5)
    texts = embedder.embed_texts(["a cat", "a rocket"])
    assert texts.shape == (2, 32) and not np.allclose(texts[0], texts[1])


def test_clip_declares_its_input_size_and_prepares_in_the_decoding_threads(tiny_clip, tmp_path):
    import cv2

    from qmdb import images
    from qmdb.embeddings.clip import OpenClipEmbedder

    config, weights, _ = tiny_clip
    embedder = OpenClipEmbedder(str(config), weights, device="cpu")
    assert embedder.input_size == embedder.size == 64  # the config's image_size
    photos = photographs()[:2]
    prepared = [embedder.prepare(p) for p in photos]
    assert all(p.shape == (64, 64, 3) and p.dtype == np.uint8 for p in prepared)
    np.testing.assert_array_equal(embedder.embed_images(prepared), embedder.embed_images(photos))
    file = tmp_path / "photo.jpg"
    cv2.imwrite(str(file), cv2.cvtColor(photos[0], cv2.COLOR_RGB2BGR))  # 427 × 640: decoded at 1/4
    small = images.read_rgb(file, embedder.input_size)
    assert min(small.shape[:2]) >= 64 and small.shape[0] < photos[0].shape[0] // 2


def test_cli_embeds_with_weights_and_text_search_runs_in_sql(tiny_clip, tmp_path, capsys):
    config, weights, _ = tiny_clip
    db = tmp_path / "p.duckdb"
    con = qmdb.connect(db)
    add_dataset(con, tmp_path, "photos", photographs())
    con.close()
    assert main(["embed", str(db), "--model", str(config), "--weights", str(weights), "--device", "cpu",
                 "--neighbors", "3", "--no-progress"]) == 0
    assert "open_clip:tiny-vit:tiny-vit: embedded 7 image vectors" in capsys.readouterr().out
    con = qmdb.connect(db)
    rows = con.sql("SELECT image_id, distance FROM similar_to_text('a photo of a cat', k := 7)").fetchall()
    text = con.sql("SELECT embed_text('a photo of a cat', NULL)").fetchall()[0][0]
    vectors = con.sql("SELECT item_id, vector FROM embeddings ORDER BY item_id").fetchall()
    expected = sorted((1 - float(np.dot(v, text)), i) for i, v in vectors)
    assert [r[0] for r in rows] == [i for _, i in expected]
    np.testing.assert_allclose([r[1] for r in rows], [d for d, _ in expected], atol=1e-4)
    con.close()


def test_wrong_weights_file_is_a_clear_error(tiny_clip, tmp_path, capsys):
    config, _, _ = tiny_clip
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    db = tmp_path / "p.duckdb"
    assert main(["init", str(db)]) == 0
    assert main(["embed", str(db), "--model", str(config), "--weights", str(bad), "--no-progress"]) == 1
    assert "bad.pt" in capsys.readouterr().err


def test_torchvision_imports_for_open_clip():
    from qmdb import torchvision_compat

    torchvision = torchvision_compat.import_torchvision()
    from torchvision import transforms  # the part open_clip uses

    assert transforms.Normalize is not None and torchvision.__version__


def test_a_script_that_never_imports_qmdb_imports_torchvision_and_open_clip():
    """The installed qmdb-torchvision.pth makes `import torchvision` work in any script of the environment."""
    script = "import torchvision, open_clip; from torchvision import transforms; print(torchvision.__version__)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd="/")
    assert done.returncode == 0, done.stderr[-2000:]
    site = Path(sysconfig.get_paths()["purelib"]) / "qmdb-torchvision.pth"
    assert site.read_text() == (Path(__file__).parents[2] / "qmdb" / "torchvision.pth").read_text()
