"""The plugin mechanism: built-ins through the hooks, conflicts named, and the example plugin package
(examples/plugin) installed with pip and used from the CLI in a process of its own."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from sklearn.datasets import load_sample_image

import qmdb
from qmdb import plugins
from qmdb.errors import QmdbError
from qmdb.hookspecs import hookimpl

EXAMPLE = Path(__file__).parents[1] / "examples" / "plugin"


def test_the_builtins_come_through_the_hooks():
    assert set(plugins.formats("qmdb_dataset_formats")) == {"coco", "yolo", "voc", "folders", "table", "semantic"}
    assert "qmdb.commands.demo" in plugins.items("qmdb_commands")
    assert {"builtin", "builtin-hog-v1"} <= set(plugins.formats("qmdb_embedders"))
    assert "qmdb.udfs.image.brightness" in plugins.items("qmdb_metric_modules")


class Clashing:
    @hookimpl
    def qmdb_dataset_formats(self):
        return {"coco": "somewhere.else"}


class Extra:
    @hookimpl
    def qmdb_export_formats(self):
        return {"paths": lambda con, out, **options: Path(out).write_text("ok")}


def test_a_format_two_plugins_claim_is_an_error_naming_both():
    plugins.register(Clashing(), "clashing")
    try:
        with pytest.raises(QmdbError, match="'coco' is registered by both 'qmdb.builtins' and 'clashing'"):
            plugins.formats("qmdb_dataset_formats")
    finally:
        plugins.unregister("clashing")
    assert plugins.formats("qmdb_dataset_formats")["coco"] == "qmdb.importers.coco"


def test_a_registered_plugin_adds_an_export_format_to_the_cli(tmp_path, db_path):
    from qmdb.cli import main

    qmdb.connect(db_path).close()
    plugins.register(Extra(), "extra")
    try:
        out = tmp_path / "out.txt"
        assert main(["export", str(db_path), "-q", "SELECT 1 AS image_id", "-f", "paths", "-o", str(out)]) == 0
        assert out.read_text() == "ok"
    finally:
        plugins.unregister("extra")


def _labelme(folder: Path) -> dict[str, float]:
    """Three real photographs (one darkened) with LabelMe files; returns each image's share of dark pixels."""
    folder.mkdir()
    photo = load_sample_image("china.jpg")[:, :, ::-1]
    images = {"china.png": photo, "flower.png": load_sample_image("flower.jpg")[:, :, ::-1],
              "night.png": (photo // 8).astype(np.uint8)}
    shares = {}
    for name, bgr in images.items():
        cv2.imwrite(str(folder / name), bgr)
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        shares[name] = float((gray < 32).mean())
        h, w = gray.shape
        shapes = [{"label": "tile", "shape_type": "rectangle", "points": [[10, 20], [110, 70]]},
                  {"label": "roof", "shape_type": "polygon", "points": [[200, 50], [300, 60], [250, 150]]}]
        document = {"imagePath": name, "imageWidth": w, "imageHeight": h, "shapes": shapes}
        (folder / f"{Path(name).stem}.json").write_text(json.dumps(document))
    return shares


@pytest.mark.slow
def test_the_example_plugin_installs_and_adds_an_importer_a_metric_and_a_view(tmp_path):
    source = shutil.copytree(EXAMPLE, tmp_path / "plugin-src")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "--target", str(target), str(source)], check=True)
    shares = _labelme(tmp_path / "labelme")
    db = tmp_path / "plugin.duckdb"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]))

    def qmdb_cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "qmdb.cli", *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    qmdb_cli("import", str(db), "labelme", str(tmp_path / "labelme"))
    qmdb_cli("metrics", str(db), "--workers", "1")
    def rows_of(sql: str) -> list[dict]:
        return [json.loads(line) for line in qmdb_cli("sql", str(db), "-f", "json", sql).splitlines()]

    rows = rows_of("SELECT path, dark_share FROM dark_images(min_share := 0.0)")
    assert [r["path"] for r in rows] == sorted(shares, key=shares.get, reverse=True)
    for row in rows:
        assert row["dark_share"] == pytest.approx(shares[row["path"]], abs=1e-9)
    assert shares["night.png"] > 0.5 > shares["china.png"]
    labels = rows_of("SELECT class, x, y, w, h, polygon IS NOT NULL AS has_polygon FROM labels "
                     "ORDER BY label_id LIMIT 2")
    assert labels == [{"class": "tile", "x": 10.0, "y": 20.0, "w": 100.0, "h": 50.0, "has_polygon": False},
                      {"class": "roof", "x": 200.0, "y": 50.0, "w": 100.0, "h": 100.0, "has_polygon": True}]
