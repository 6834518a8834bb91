"""The torch backend: the sentence-transformers model itself (loaded on first use, from disk)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..settings import DEFAULT_MODEL
from . import encode_with_progress, model_path, quiet_offline_transformers


class SentenceTransformerEmbedder:
    """A local sentence-transformers model. The weights load on first use, from disk only."""

    backend = "torch"

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64,
                 device: str = "cpu") -> None:
        self._path, self.model_id = model_path(model)
        self.batch_size = batch_size
        self.device = device  # "auto", "cpu", "cuda", "mps": resolved when the model loads
        self._model = None
        self._dim: int | None = None

    @property
    def model(self):
        if self._model is None:
            quiet_offline_transformers()
            from sentence_transformers import SentenceTransformer

            from . import torch_device

            self._model = SentenceTransformer(self._path, device=torch_device(self.device))
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            m = self.model
            get_dim = (getattr(m, "get_embedding_dimension", None)
                       or m.get_sentence_embedding_dimension)
            self._dim = int(get_dim())
        return self._dim

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        return _count_cached(self, text)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return encode_with_progress(self._encode, list(texts), self.dim, self.batch_size * 4,
                                    progress)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)


@lru_cache(maxsize=200_000)
def _count_cached(embedder: SentenceTransformerEmbedder, text: str) -> int:
    return len(embedder.model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


