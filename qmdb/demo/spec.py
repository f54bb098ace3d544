"""What the demo generates, declared as data: change a number here, bump VERSION."""

from __future__ import annotations

# Bump when anything below or any generator changes its output; cached data folders
# with another version are regenerated.
VERSION = "3"
SEED = 20240611

# --- classification: the scikit-learn digits ---------------------------------------
DIGITS_DATASET = "digits"
DIGIT_SIZE = 32                    # pixels; upscaled from 8×8 with bicubic interpolation
FLIP_RATE = 0.08                   # share of digit labels deliberately flipped
VAL_SHARE = 0.2
# annotator → (share of the labels they made, relative flip weight): "dana" is the noisy one.
ANNOTATORS: dict[str, tuple[float, float]] = {
    "alice": (0.27, 1.0),
    "bob": (0.27, 1.0),
    "chen": (0.26, 1.0),
    "dana": (0.20, 5.0),
}
# class-conditional confusions (both ways); a flipped label of these classes takes its
# partner with probability PAIR_SHARE, otherwise a uniformly drawn other class.
FLIP_PAIRS = ((1, 7), (3, 8), (4, 9), (5, 6))
PAIR_SHARE = 0.6

# --- detection: digits pasted on crops of the bundled photographs -------------------
SCENES_DATASET = "scenes"
SCENES = 300
SCENE_SIZES = ((320, 240), (480, 360), (640, 480))
DIGITS_PER_SCENE = (1, 5)          # inclusive range
DIGIT_HEIGHT = (12, 110)           # pixels, drawn log-uniformly
INK_CONTRAST = (25, 170)           # gray levels between the ink and the local background
# per-image capture conditions become metadata columns (and drive image quality)
CAMERAS: dict[str, dict[str, tuple[float, float]]] = {
    "cam-a": {"blur": (0.0, 0.6), "noise": (0.0, 3.0), "jpeg": (88, 95)},
    "cam-b": {"blur": (0.0, 1.0), "noise": (1.0, 5.0), "jpeg": (80, 92)},
    "cam-c": {"blur": (0.8, 3.5), "noise": (3.0, 9.0), "jpeg": (65, 80)},
}
TIMES_OF_DAY: dict[str, float] = {"day": 1.0, "dusk": 0.6, "night": 0.3}   # brightness factor
SITES = ("north", "south", "east", "west")
SCENE_ANNOTATORS = ("ann-1", "ann-2", "ann-3")
# deliberate annotation faults: kind → how many (ann-3 makes most of them)
FAULTS: dict[str, int] = {"missing_box": 6, "shifted_box": 6, "duplicate_box": 5, "wrong_class": 6}
# files the COCO JSON references that cannot be read
BROKEN_FILES = ("broken_empty.jpg", "broken_truncated.jpg", "broken_text.png")
