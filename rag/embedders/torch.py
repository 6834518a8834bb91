"""The torch backend: the sentence-transformers model itself (loaded on first use, from disk)."""
from __future__ import annotations

import numpy as np

from ..settings import DEFAULT_MODEL
from . import count_word_pieces, counting_tokenizer, encode_with_progress, model_path


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
        self._tokenizer = None

    @property
    def model(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            from . import torch_device

            # The packaged weights only: nothing is fetched from a model hub.
            self._model = SentenceTransformer(self._path, device=torch_device(self.device),
                                              local_files_only=True)
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

    @property
    def tokenizer(self):
        """A tokenizer for counting word pieces, apart from the one the model encodes with
        (see :func:`counting_tokenizer`)."""
        if self._tokenizer is None:
            self._tokenizer = counting_tokenizer(
                self._path, lambda: self.model.tokenizer.backend_tokenizer)
        return self._tokenizer

    def count_tokens(self, text: str) -> int:
        return count_word_pieces(self, text)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return encode_with_progress(self._encode, list(texts), self.dim, self.batch_size * 4,
                                    progress)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)
