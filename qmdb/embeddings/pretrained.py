"""open_clip models by name: a pretrained tag (`ViT-B-32` + `laion2b_s34b_b79k`) or a Hugging Face hub id
(`hf-hub:timm/ViT-B-16-SigLIP`), loaded through open_clip's own loader and cache.

The cache is looked up first, without the network: a tag's weights are in the Hugging Face hub cache
(`$HF_HUB_CACHE`, by default `~/.cache/huggingface/hub`) when the tag names a hub file, else in
open_clip's URL cache (`~/.cache/clip`); a hub id needs its `open_clip_config.json` and weights there.
When everything is cached, open_clip loads it with the hub in offline mode (no request at all).
When something is missing and the hub is unreachable (or `HF_HUB_OFFLINE=1`), the error is one line
that names the folder looked in and the `--weights FILE` alternative; otherwise open_clip downloads.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from ..errors import InputError

HUB = "hf-hub:"
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
CONFIG_FILE = "open_clip_config.json"
URL_CACHE = "~/.cache/clip"


def hub_cache(cache_dir: str | None = None) -> str:
    """The Hugging Face hub cache folder open_clip reads (`cache_dir` when given)."""
    if cache_dir:
        return str(cache_dir)
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def _in_hub_cache(repo: str, filenames: tuple[str, ...], cache_dir: str | None) -> str | None:
    from huggingface_hub import try_to_load_from_cache

    for filename in filenames:
        found = try_to_load_from_cache(repo, filename, cache_dir=hub_cache(cache_dir))
        if isinstance(found, str) and os.path.isfile(found):
            return found
    return None


def _alternatives(filename: str) -> tuple[str, ...]:
    """A hub file and the .safetensors twin open_clip prefers."""
    if filename.endswith((".bin", ".pth")):
        return (filename[:-4] + ".safetensors", filename)
    return (filename,)


def tag_config(arch: str, tag: str) -> dict:
    """open_clip's pretrained config of `tag` for `arch`; an InputError listing the known tags otherwise."""
    import open_clip

    cfg = open_clip.get_pretrained_cfg(arch, tag)
    if not cfg:
        tags = open_clip.list_pretrained_tags_by_model(arch)
        raise InputError(tag, "--pretrained", f"not a pretrained tag of {arch}; its tags: "
                                              f"{', '.join(tags) if tags else 'none (use --weights FILE)'}")
    return cfg


def cached_file(arch: str, tag: str | None, cache_dir: str | None = None) -> tuple[str | None, str]:
    """(the cached weights file or None, where it is looked for), touching no network."""
    if arch.startswith(HUB):
        repo = arch[len(HUB):]
        where = f"{hub_cache(cache_dir)}/models--{repo.replace('/', '--')}"
        if _in_hub_cache(repo, (CONFIG_FILE,), cache_dir) is None:
            return None, where
        return _in_hub_cache(repo, WEIGHT_FILES, cache_dir), where
    cfg = tag_config(arch, tag)
    if cfg.get("file"):
        return (cfg["file"] if os.path.isfile(cfg["file"]) else None), cfg["file"]
    if cfg.get("hf_hub"):
        repo, filename = os.path.split(cfg["hf_hub"])  # 'org/repo/' means the default file name
        filename = filename or WEIGHT_FILES[1]
        return (_in_hub_cache(repo, _alternatives(filename), cache_dir),
                f"{hub_cache(cache_dir)}/models--{repo.replace('/', '--')}")
    target = Path(cache_dir or URL_CACHE).expanduser() / os.path.basename(cfg.get("url", ""))
    return (str(target) if target.is_file() else None), str(target)


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether a download could start: not in offline mode and huggingface.co answers a TCP connect."""
    from huggingface_hub import constants

    if constants.is_offline_mode():
        return False
    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def offline():
    """The hub in offline mode while open_clip loads cached files: no request, no wait for a timeout."""
    from huggingface_hub import constants

    before, env = constants.HF_HUB_OFFLINE, os.environ.get("HF_HUB_OFFLINE")
    constants.HF_HUB_OFFLINE = True
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = before
        if env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = env


def locate(arch: str, tag: str | None, cache_dir: str | None = None) -> str | None:
    """The cached weights file, or None when open_clip may download them now; an InputError (one line,
    naming the folder looked in and `--weights FILE`) when they are not cached and cannot be fetched."""
    found, where = cached_file(arch, tag, cache_dir)
    if found is not None or hub_reachable():
        return found
    what = arch if tag is None else f"{arch} pretrained '{tag}'"
    raise InputError(where, None, f"weights of {what} are not in the cache and the hub cannot be reached "
                                  f"(offline); download them where there is a network (they are looked for "
                                  f"here; HF_HUB_CACHE or --cache-dir moves it) or pass --weights FILE")
