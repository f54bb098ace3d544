"""Making the demo's files, once: seeded stages written into a cached, version-stamped folder.

Stages run in order into `<data>.partial/`, each marked done when finished, so an
interrupted run resumes at the stage it was in; the folder is renamed into place
when all are done. A lock file lets two processes (two test sessions) share one
cache: the second waits, then finds the folder ready.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..errors import QmdbError
from . import classifier, detector, digits, scenes, spec

# (stage, function(out folder, seeded rng)): each stage's rng depends only on the seed and its position
STAGES: tuple[tuple[str, Callable[[Path, np.random.Generator], object]], ...] = (
    ("digits", digits.generate),
    ("scenes", scenes.generate),
    (classifier.MODEL, classifier.run),
    (detector.MODEL, detector.run),
)
STAMP = "VERSION.json"


def stamp(seed: int = spec.SEED) -> dict:
    """What a finished data folder records about how it was made."""
    return {"generator": spec.VERSION, "seed": seed}


def is_ready(folder: Path, seed: int = spec.SEED) -> bool:
    """Whether `folder` holds finished demo data of this generator version and seed."""
    try:
        return json.loads((folder / STAMP).read_text()) == stamp(seed)
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _clear(folder: Path) -> None:
    """Remove an out-of-date data folder, but only one the demo made (it has a stamp)."""
    if not folder.exists():
        return
    if not (folder / STAMP).exists() and any(folder.iterdir()):
        raise QmdbError(f"{folder} exists and is not a qmdb demo data folder; pass another --data folder")
    shutil.rmtree(folder)


def generate(folder: str | Path, *, seed: int = spec.SEED) -> tuple[Path, bool]:
    """Make (or reuse) the demo data in `folder`; returns (folder, whether it was reused from cache)."""
    folder = Path(folder)
    if is_ready(folder, seed):
        return folder, True
    with _locked(folder):
        if is_ready(folder, seed):
            return folder, True
        partial = folder.with_name(folder.name + ".partial")
        if partial.exists() and not is_ready(partial, seed) and (partial / "stages.json").exists():
            if json.loads((partial / "stages.json").read_text()) != stamp(seed):
                shutil.rmtree(partial)
        partial.mkdir(parents=True, exist_ok=True)
        (partial / "stages.json").write_text(json.dumps(stamp(seed)))
        seeds = np.random.SeedSequence(seed).spawn(len(STAGES))
        for (name, make), child in zip(STAGES, seeds):
            done = partial / f".{name}.done"
            if not done.exists():
                make(partial, np.random.default_rng(child))
                done.touch()
        (partial / STAMP).write_text(json.dumps(stamp(seed)))
        _clear(folder)
        partial.rename(folder)
    return folder, False
