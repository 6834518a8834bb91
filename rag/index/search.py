"""Search: embedder -> store -> fusion. Ranked hits for a batch of queries, densely, by BM25 or
both fused: the ranking is an object chosen once a search (rag.index.fusion.ranking)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..embedders import Embedder
from ..errors import ConfigError
from ..settings import Settings, check_k, check_mode
from ..types import Hit
from .fusion import ranking
from .stores import Store

MAX_QUERY_CHARS = 2000


def clean_query(query: str) -> tuple[str, str]:
    """(query, note): strips it, refuses an empty one, truncates a very long one with a note."""
    if not isinstance(query, str) or not query.strip():
        raise ConfigError("the question is empty: ask a question with at least one word")
    query = query.strip()
    if len(query) > MAX_QUERY_CHARS:
        return (query[:MAX_QUERY_CHARS],
                f"question truncated from {len(query)} to {MAX_QUERY_CHARS} characters")
    return query, ""


class Searcher:
    """Searches ``store`` with ``embedder``'s vectors; the settings come with each call."""

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def search(self, queries: Sequence[str], k: int, mode: str, settings: Settings,
               need_vectors: bool = False) -> tuple[list[list[Hit]], np.ndarray | None]:
        """The ``k`` best hits of each query, best first, and the queries' vectors (None for
        BM25 alone unless ``need_vectors``)."""
        check_k(k)
        check_mode(mode)
        queries = [clean_query(q)[0] for q in queries]
        store = self.store
        # BM25 alone needs no embedding (its hits then carry no dense score).
        qvecs = self.embedder.encode(queries) if mode != "bm25" or need_vectors else None
        results = []
        for qi, (ranked, scored) in enumerate(ranking(mode, settings.fusion).rank(
                store, qvecs, queries, k, settings)):
            query = queries[qi]
            ranked = ranked[:k]
            keys = [key for key, _ in ranked]
            passages = store.passages(keys)
            scores = [score for _, score in ranked]
            # A single mode's ranking scores are its component scores; score fusion has both;
            # rank-fused hits ask the store.
            if scored is not None:
                dense, bm25 = [scored[key][0] for key in keys], [scored[key][1] for key in keys]
            else:
                dense = (scores if mode == "dense" else store.dense_scores(keys, qvecs[qi])
                         if qvecs is not None else [None] * len(keys))
                bm25 = (scores if mode == "bm25" else store.bm25_scores(keys, query)
                        if mode != "dense" else [None] * len(keys))
            results.append([Hit(rank=rank, score=score, passage=p, dense_score=d, bm25_score=b)
                            for rank, ((_, score), p, d, b)
                            in enumerate(zip(ranked, passages, dense, bm25), start=1)])
        return results, qvecs

