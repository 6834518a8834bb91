"""Reciprocal rank fusion of a dense and a BM25 ranking (for stores that do not fuse)."""
from __future__ import annotations

from collections.abc import Sequence


def rrf(dense: Sequence, bm25: Sequence, rrf_k: int, dense_weight: float = 1.0
        ) -> list[tuple[object, float]]:
    """Keys of both rankings (best first) scored ``w / (rrf_k + dense rank) + 1 / (rrf_k + BM25
    rank)``, best first; ties by key."""
    scores: dict = {}
    for rank, key in enumerate(dense, start=1):
        scores[key] = scores.get(key, 0.0) + dense_weight / (rrf_k + rank)
    for rank, key in enumerate(bm25, start=1):
        scores[key] = scores.get(key, 0.0) + 1.0 / (rrf_k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
