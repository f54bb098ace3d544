"""What an embedder is: decoded RGB images in, L2-normalized float32 vectors out."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Embedder(ABC):
    """An image (and optionally text) embedder.

    Subclasses set `name` (the value stored in `embeddings.model`), `kind`
    (`builtin`, `open_clip`) and `dim`, and implement `embed_images`.
    Vectors are unit length, so cosine distance is `1 - dot product`.

    Two optional declarations let the pipeline decode less and hold less:
    `input_size`, the fewest pixels along each side of an image the model
    reads (its input resolution: 64 for the built-in descriptor, 224 for a
    CLIP ViT-B), so a JPEG is decoded DCT-scaled to 1/2, 1/4 or 1/8 while both
    sides stay at or above it (None: full size); and `prepare`, run on each
    decoded image (or box crop) in the decoding threads, so that what waits for
    `embed_images` is the model's input rather than the decoded photo. An
    embedder whose `embed_images` is thread-safe array work (no model state,
    no threads of its own) sets `embed_in_workers`: the pipeline then embeds
    each decoding thread's share of a chunk in that thread.
    """

    name: str
    kind: str
    dim: int
    arch: str | None = None
    weights: str | None = None
    weights_sha256: str | None = None
    batch_size: int = 64
    input_size: int | None = None
    embed_in_workers: bool = False

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """One decoded RGB image or crop as `embed_images` will take it (default: unchanged). Runs in
        the decoding threads; `embed_images` must give the same vectors for a prepared image as for
        the decoded one."""
        return image

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
