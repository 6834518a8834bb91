"""Retrieval metrics over ranked ids and graded relevance, plus span relevance for labels given as
character spans. Checked against pytrec_eval in the tests."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def span_overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def covers(start: int, end: int, exp_start: int, exp_end: int) -> bool:
    """A span is relevant to an expected span when it overlaps at least half of it."""
    return span_overlap(start, end, exp_start, exp_end) * 2 >= max(1, exp_end - exp_start)


def hit_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int) -> float:
    return float(any(relevant.get(r, 0) > 0 for r in ranked[:k]))


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int) -> float:
    rel = {r for r, g in relevant.items() if g > 0}
    if not rel:
        return 0.0
    return len(rel.intersection(ranked[:k])) / len(rel)


def mrr_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int) -> float:
    for i, r in enumerate(ranked[:k], start=1):
        if relevant.get(r, 0) > 0:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int) -> float:
    """nDCG@k with linear gains (gain = relevance grade), as trec_eval's ndcg_cut."""
    dcg = sum(relevant.get(r, 0) / math.log2(i + 1) for i, r in enumerate(ranked[:k], start=1))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 1) for i, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation, as numpy's default."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
