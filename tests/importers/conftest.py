"""Real small datasets written into tmp_path: crops of scikit-learn's two photographs with
upscaled scikit-learn digits pasted at known boxes (the boxes and classes are true by construction)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits, load_sample_images

import qmdb

SIZES = [(320, 240), (256, 256), (400, 300), (300, 400), (240, 180), (360, 270)]


def make_scenes(folder: Path, count: int = 6, seed: int = 0) -> list[dict]:
    """Save `count` scenes as JPEG/PNG under folder/images; return per image its file, size and boxes."""
    rng = np.random.default_rng(seed)
    photos = load_sample_images().images
    digits = load_digits()
    (folder / "images").mkdir(parents=True, exist_ok=True)
    scenes = []
    for i in range(count):
        w, h = SIZES[i % len(SIZES)]
        photo = photos[i % 2]
        top, left = rng.integers(0, photo.shape[0] - h), rng.integers(0, photo.shape[1] - w)
        canvas = Image.fromarray(photo[top:top + h, left:left + w])
        boxes = []
        for _ in range(int(rng.integers(1, 4))):
            k = int(rng.integers(len(digits.images)))
            side = int(rng.integers(24, 64))
            digit = Image.fromarray((digits.images[k] * 255 / 16).astype(np.uint8)).resize((side, side), Image.NEAREST)
            x, y = int(rng.integers(0, w - side)), int(rng.integers(0, h - side))
            canvas.paste(Image.merge("RGB", [digit] * 3), (x, y))
            boxes.append({"class": int(digits.target[k]), "bbox": [float(x), float(y), float(side), float(side)]})
        name = f"scene_{i:02d}" + (".jpg" if i % 2 else ".png")
        canvas.save(folder / "images" / name)
        scenes.append({"file_name": name, "width": w, "height": h, "boxes": boxes})
    return scenes


def coco_json(scenes: list[dict], **extra_image_fields) -> dict:
    """A COCO instances object for `scenes` (file names relative to images/)."""
    images, annotations = [], []
    for i, scene in enumerate(scenes, start=1):
        image = {"id": i, "file_name": scene["file_name"], "width": scene["width"], "height": scene["height"]}
        image.update({k: v[i - 1] for k, v in extra_image_fields.items()})
        images.append(image)
        for box in scene["boxes"]:
            x, y, w, h = box["bbox"]
            annotations.append({
                "id": 100 + len(annotations), "image_id": i, "category_id": box["class"] + 1, "bbox": box["bbox"],
                "area": w * h, "iscrowd": 0, "annotator": ["ann", "bob"][len(annotations) % 2],
                "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]],
            })
    categories = [{"id": d + 1, "name": f"digit_{d}", "supercategory": "digit"} for d in range(10)]
    return {"images": images, "annotations": annotations, "categories": categories}


@pytest.fixture(scope="session")
def scenes_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scenes")
    scenes = make_scenes(folder)
    (folder / "scenes.json").write_text(json.dumps(scenes))
    return folder


@pytest.fixture
def scenes(scenes_dir) -> list[dict]:
    return json.loads((scenes_dir / "scenes.json").read_text())


@pytest.fixture
def coco_file(tmp_path, scenes_dir, scenes) -> Path:
    """A COCO file in a fresh folder whose images/ are the shared scenes."""
    shutil.copytree(scenes_dir / "images", tmp_path / "images")
    path = tmp_path / "train.json"
    path.write_text(json.dumps(coco_json(scenes, camera=["cam-a", "cam-b"] * 3)))
    return path


def snapshot(con) -> dict:
    """Every table's full contents (and columns), to compare before and after a failed import."""
    tables = [t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1").fetchall()]
    return {t: (con.table(t).columns, sorted(map(repr, con.table(t).fetchall()))) for t in tables}


@pytest.fixture
def project():
    con = qmdb.connect()
    yield con
    con.close()
