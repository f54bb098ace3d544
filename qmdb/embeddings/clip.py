"""open_clip embedders: any architecture, weights from a local file, image and text towers.

Weights come from a local file (`weights`), from a pretrained tag or a Hugging Face
hub id through open_clip's own loader and cache (`pretrained`, see
`qmdb.embeddings.pretrained`: the cache is checked first, offline is one clear
error), or are random (none, for tests and benchmarks). An architecture is an
open_clip model name (`ViT-B-32`, `RN50`, …), `hf-hub:ORG/REPO`, or the path of
a model-config JSON file (open_clip's format), registered under the file's stem.

Preprocessing is qmdb's own, done in numpy/OpenCV on images decoded once by the
pipeline: resize the shortest side to the model's input size (bicubic), centre
crop, scale to 0..1, normalize with the model's mean and std — the same steps as
open_clip's default transform, without PIL or torchvision in the loop. The
embedder declares that input size (`input_size`, 224 for ViT-B-32), so the
pipeline decodes a JPEG DCT-scaled while both sides stay at or above it, and its
`prepare` (the resize and crop, uint8) runs in the decoding threads: what waits
for the forward pass is a 224×224 copy, not the decoded photo.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError, MissingExtra
from .base import Embedder
from .pretrained import HUB, locate, offline

PRETRAINED = "pretrained:"  # how `embedding_models.weights` records a tag


def _open_clip():
    try:
        from ..torchvision_compat import import_torchvision

        import_torchvision()
        import open_clip
    except ImportError as error:
        raise MissingExtra("open_clip embeddings", "clip") from error
    return open_clip


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_arch(arch: str) -> str:
    """An open_clip model name; a config JSON path is registered and named by its stem."""
    open_clip = _open_clip()
    path = Path(arch)
    if arch.startswith(HUB):
        return arch
    if arch.endswith(".json"):
        if not path.is_file():
            raise InputError(arch, None, "model config file not found")
        open_clip.add_model_config(path)
        return path.stem
    if arch not in open_clip.list_models():
        raise InputError(arch, "--model", "not an open_clip architecture (see open_clip.list_models()) "
                                          "nor a model-config .json file")
    return arch


def center_crop_resize(image: np.ndarray, size: int) -> np.ndarray:
    """Shortest side to `size` (bicubic), then the central size×size square.

    >>> center_crop_resize(np.zeros((100, 50, 3), np.uint8), 32).shape
    (32, 32, 3)
    """
    h, w = image.shape[:2]
    if (h, w) == (size, size):
        return image
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    top, left = (nh - size) // 2, (nw - size) // 2
    return resized[top:top + size, left:left + size]


class OpenClipEmbedder(Embedder):
    """An open_clip model on CPU (default) or CUDA, in eval mode, run without gradients."""

    kind = "open_clip"

    def __init__(self, arch: str, weights: str | Path | None = None, *, pretrained: str | None = None,
                 cache_dir: str | None = None, device: str | None = None, name: str | None = None,
                 batch_size: int = 32):
        import torch

        open_clip = _open_clip()
        self.arch = resolve_arch(arch)
        if weights is not None and str(weights).startswith(PRETRAINED):  # as recorded in embedding_models
            weights, pretrained = None, str(weights)[len(PRETRAINED):]
        if weights is not None and pretrained is not None:
            raise InputError(weights, "--weights", "pass either --weights FILE or --pretrained TAG, not both")
        if weights is not None and not Path(weights).is_file():
            raise InputError(weights, "--weights", "weights file not found")
        by_name = pretrained is not None or self.arch.startswith(HUB)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if by_name:
            cached = locate(self.arch, pretrained, cache_dir)
            loading = offline() if cached is not None else contextlib.nullcontext()
        else:
            loading = contextlib.nullcontext()
        try:
            with loading:
                self.model = open_clip.create_model(self.arch, pretrained=pretrained or weights,
                                                    device=self.device, cache_dir=cache_dir,
                                                    require_pretrained=by_name)
                self.tokenizer = open_clip.get_tokenizer(self.arch, cache_dir=cache_dir)
        except Exception as error:  # torch.load's, load_state_dict's and the hub's many failure types
            raise InputError(weights or pretrained or self.arch, "--pretrained" if by_name else "--weights",
                             f"cannot load into {self.arch}: {str(error).splitlines()[0]}") from None
        if by_name:
            file = cached or locate(self.arch, pretrained, cache_dir)
            self.weights = PRETRAINED + pretrained if pretrained is not None else None
            self.weights_sha256 = file_sha256(file) if file else None
        else:
            self.weights = str(weights) if weights is not None else None
            self.weights_sha256 = file_sha256(weights) if weights is not None else None
        self.model.eval()
        cfg = self.model.visual.preprocess_cfg
        self.size = int(cfg["size"][0] if isinstance(cfg["size"], (tuple, list)) else cfg["size"])
        self.mean = np.asarray(cfg["mean"], np.float32)
        self.std = np.asarray(cfg["std"], np.float32)
        self.input_size = self.size  # both sides ≥ size: the shortest is resized to it, then cropped
        self.dim = int(self.embed_texts(["a"]).shape[1])
        self.batch_size = batch_size
        if pretrained is not None:
            suffix = f":{pretrained}"
        elif self.arch.startswith(HUB):
            suffix = ""
        else:
            suffix = f":{Path(weights).stem}" if weights is not None else ":random"
        self.name = name or f"open_clip:{self.arch}{suffix}"

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """The size×size resized and cropped copy (uint8) that `preprocess` makes: preprocessing it
        again leaves it as it is, so the vectors are the same."""
        return center_crop_resize(image, self.size)

    def preprocess(self, images: list[np.ndarray]) -> np.ndarray:
        """(n, 3, size, size) float32, normalized as the model expects."""
        batch = np.stack([center_crop_resize(i, self.size) for i in images]).astype(np.float32) / 255.0
        return ((batch - self.mean) / self.std).transpose(0, 3, 1, 2)

    def forward(self, pixels: np.ndarray) -> np.ndarray:
        """Image tower on preprocessed pixels, in batches; unit-length float32 rows."""
        import torch

        out = []
        with torch.no_grad():
            for start in range(0, len(pixels), self.batch_size):
                chunk = torch.from_numpy(np.ascontiguousarray(pixels[start:start + self.batch_size])).to(self.device)
                features = self.model.encode_image(chunk, normalize=True)
                out.append(features.float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)

    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        return self.forward(self.preprocess(images))

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.no_grad():
            tokens = self.tokenizer(list(texts)).to(self.device)
            return self.model.encode_text(tokens, normalize=True).float().cpu().numpy()
