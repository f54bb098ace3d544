"""What an embedder is: decoded RGB images in, L2-normalized float32 vectors out."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Embedder(ABC):
    """An image (and optionally text) embedder.

    Subclasses set `name` (the value stored in `embeddings.model`), `kind`
    (`builtin`, `open_clip`) and `dim`, and implement `embed_images`.
    Vectors are unit length, so cosine distance is `1 - dot product`.
    """

    name: str
    kind: str
    dim: int
    arch: str | None = None
    weights: str | None = None
    weights_sha256: str | None = None
    batch_size: int = 64

    @abstractmethod
    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        """Embed decoded images (H×W×3 uint8 RGB, any sizes); returns an (n, dim) float32 array."""

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Embed texts into the image space; only models with a text tower can."""
        raise NotImplementedError(f"model {self.name} has no text tower; embed with an open_clip model "
                                  "(qmdb embed DB --model ARCH --weights FILE) to search by text")


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (rows of zeros stay zero).

    >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]])).astype(float).round(3).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
