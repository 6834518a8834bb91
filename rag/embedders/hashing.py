"""A deterministic bag-of-words embedder (feature hashing) for fast tests: no model."""
from __future__ import annotations

import hashlib
import re

import numpy as np

_TOKEN = re.compile(r"\w+|[^\w\s]")


class HashEmbedder:
    """Deterministic bag-of-words embedder (feature hashing) for tests: no model, no randomness.
    Texts sharing words get similar vectors; a "word piece" is a word or a punctuation mark."""

    backend = "hash"

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
