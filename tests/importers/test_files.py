"""Image probes: a folder listing answers for missing files, with the statuses a probe of each file gives."""

import os

import numpy as np
from PIL import Image

from qmdb.importers import files


def test_listing_gives_what_opening_each_file_gives(tmp_path):
    (tmp_path / "sub").mkdir()
    Image.fromarray(np.zeros((6, 9, 3), np.uint8)).save(tmp_path / "sub" / "a.png")
    Image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(tmp_path / "café.png")
    (tmp_path / "note.txt").write_text("not an image")
    paths = ["sub/a.png", "sub/A.PNG", "sub//a.png", "café.png", "cafe\u0301.png", "CAFÉ.PNG", "missing.png",
             "nope/x.png", "note.txt/x.png", "note.txt", "sub", "", "sub/../sub/a.png", str(tmp_path / "sub" / "a.png")]
    probed = files.probe_images(tmp_path, paths).to_pylist()
    expected = [dict(zip(("width", "height", "file_size", "sha256", "status", "message"),
                         files._probe(os.path.join(tmp_path, p)))) for p in paths]
    assert probed == expected
    assert [p["status"] for p in probed][:8] == ["ok", "missing", "ok", "ok", "missing", "missing", "missing", "missing"]
    assert files._listed(files.joined(tmp_path, files.pa.array(["missing.png", "sub/a.png", "sub/b.png"]))).tolist() \
        == [False, True, False]
