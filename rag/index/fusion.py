"""Fusing a dense and a BM25 ranking into one (for stores that do not fuse).

``minmax`` (the default, ``Settings(fusion="minmax")``; :func:`candidate_scores` then
:func:`minmax_scores`): a convex combination of the two
retrievers' scores, each min-max normalised over the candidates, every candidate scored by both
(Bruch et al., "An Analysis of Fusion Functions for Hybrid Retrieval", 2023: it beats reciprocal
rank fusion, which throws away how far apart the scores are). ``rrf``: reciprocal rank fusion."""
from __future__ import annotations

from collections.abc import Callable, Sequence

FUSIONS = ("minmax", "rrf")

Ranked = Sequence[tuple[object, float]]


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


def _normalised(scores: list[float]) -> list[float]:
    lo, hi = min(scores), max(scores)
    return [(s - lo) / (hi - lo) if hi > lo else 0.0 for s in scores]


ScoreOf = Callable[[list], Sequence[float | None]]


def candidate_scores(dense: Ranked, bm25: Ranked, dense_of: ScoreOf, bm25_of: ScoreOf
                     ) -> dict[object, tuple[float | None, float | None]]:
    """The candidates (keys of either ranking, in that order) with their (dense, BM25) scores;
    one a retriever did not propose is scored by it through ``dense_of(keys)`` /
    ``bm25_of(keys)`` (None: no match, or unknown and lower than all it proposed)."""
    d, b = dict(dense), dict(bm25)
    keys = list(dict.fromkeys([k for k, _ in dense] + [k for k, _ in bm25]))
    for known, score_of in ((d, dense_of), (b, bm25_of)):
        missing = [k for k in keys if k not in known]
        if missing:
            known.update(zip(missing, score_of(missing)))
    return {k: (d[k], b[k]) for k in keys}


def minmax_scores(scored: dict[object, tuple[float | None, float | None]],
                  dense_weight: float = 1.0) -> list[tuple[object, float]]:
    """``scored`` (:func:`candidate_scores`) ranked by ``w * d + b``, where d and b are the
    dense and BM25 scores (None: 0) min-max normalised over all the candidates. Best first;
    ties by key. The fused score lies in [0, 1 + w]."""
    if not scored:
        return []
    keys = list(scored)
    d = _normalised([float(x or 0.0) for x, _ in scored.values()])
    b = _normalised([float(y or 0.0) for _, y in scored.values()])
    return sorted(zip(keys, (dense_weight * x + y for x, y in zip(d, b))),
                  key=lambda kv: (-kv[1], kv[0]))


# ---- rankings: one object a (mode, fusion), chosen once a search -----------------------------
# Each gives, for every query, its ranking (key, score) best first, and the (dense, BM25) score
# of each key when it knows both (score fusion); the searcher asks the store for the rest.

class DenseRanking:
    """Dense search alone: the store's top ``k`` by inner product."""

    mode = "dense"

    def rank(self, store, qvecs, queries, k: int, settings) -> list:
        return [(ranked, None) for ranked in store.dense(qvecs, k)]


class BM25Ranking:
    """BM25 alone: the store's top ``k`` (only passages holding a query term)."""

    mode = "bm25"

    def rank(self, store, qvecs, queries, k: int, settings) -> list:
        return [(store.bm25([query], k)[0], None) for query in queries]


class ScoreFusion:
    """Hybrid, ``fusion="minmax"``: each side's ``candidates`` scored by both, min-max
    normalised, added (:func:`candidate_scores`, :func:`minmax_scores`)."""

    mode = "hybrid"

    def rank(self, store, qvecs, queries, k: int, settings) -> list:
        n = max(k, settings.candidates)
        out = []
        for qvec, query, dense in zip(qvecs, queries, store.dense(qvecs, n)):
            scored = candidate_scores(dense, store.bm25([query], n)[0],
                                      lambda keys, v=qvec: store.dense_scores(keys, v),
                                      lambda keys, q=query: store.bm25_scores(keys, q))
            out.append((minmax_scores(scored, settings.dense_weight), scored))
        return out


class RankFusion:
    """Hybrid, ``fusion="rrf"``: reciprocal rank fusion, by the engine where it fuses."""

    mode = "hybrid"

    def rank(self, store, qvecs, queries, k: int, settings) -> list:
        n = max(k, settings.candidates)
        fused = store.hybrid(qvecs, queries, k, settings.rrf_k, n)
        if fused is not None:
            return [(ranked, None) for ranked in fused]
        return [(rrf([key for key, _ in dense], [key for key, _ in store.bm25([query], n)[0]],
                     settings.rrf_k, settings.dense_weight), None)
                for query, dense in zip(queries, store.dense(qvecs, n))]


RANKINGS = {"dense": DenseRanking(), "bm25": BM25Ranking(), "minmax": ScoreFusion(),
            "rrf": RankFusion()}


def ranking(mode: str, fusion: str):
    """The ranking of a search mode ("dense", "bm25", "hybrid" with its ``fusion``)."""
    return RANKINGS[fusion if mode == "hybrid" else mode]
