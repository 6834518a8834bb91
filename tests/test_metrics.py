import math
import random

import pytest
import pytrec_eval

from rag.eval.metrics import covers, hit_at_k, mrr_at_k, ndcg_at_k, percentile, recall_at_k


def test_hand_computed_cases():
    ranked = ["a", "b", "c", "d"]
    rel = {"b": 1, "d": 1}
    assert hit_at_k(ranked, rel, 1) == 0 and hit_at_k(ranked, rel, 2) == 1
    assert mrr_at_k(ranked, rel, 10) == 0.5
    assert recall_at_k(ranked, rel, 2) == 0.5 and recall_at_k(ranked, rel, 4) == 1
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3)
    assert ndcg_at_k(ranked, rel, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["x"], rel, 10) == 0 and mrr_at_k(["x"], rel, 10) == 0
    assert ndcg_at_k(["b", "d"], rel, 10) == pytest.approx(1.0)


def test_graded_ndcg():
    # gains 2 and 1; ranked worse first: dcg = 1 + 2/log2(3); idcg = 2 + 1/log2(3)
    assert ndcg_at_k(["lo", "hi"], {"hi": 2, "lo": 1}, 10) == pytest.approx(
        (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))


def test_span_coverage_needs_half_of_the_expected_span():
    assert covers(0, 50, 40, 60)       # 10 of 20 chars: exactly half
    assert not covers(0, 49, 40, 60)   # 9 of 20
    assert covers(45, 55, 40, 60) and not covers(60, 90, 40, 60)


def test_percentile_matches_numpy_linear():
    import numpy as np

    xs = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0]
    for q in (0, 50, 95, 100):
        assert percentile(xs, q) == pytest.approx(float(np.percentile(xs, q)))


def test_metrics_agree_with_pytrec_eval_on_random_runs():
    rng = random.Random(7)
    docs = [f"d{i}" for i in range(40)]
    qrels, runs = {}, {}
    for q in range(30):
        qrels[f"q{q}"] = {d: rng.choice([1, 1, 2]) for d in rng.sample(docs, rng.randint(1, 6))}
        ranked = rng.sample(docs, 25)
        runs[f"q{q}"] = {d: float(25 - i) for i, d in enumerate(ranked)}
    ev = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.10", "recip_rank"})
    res = ev.evaluate(runs)
    for q, run in runs.items():
        ranked = sorted(run, key=lambda d: -run[d])
        assert ndcg_at_k(ranked, qrels[q], 10) == pytest.approx(res[q]["ndcg_cut_10"], abs=1e-9)
        assert recall_at_k(ranked, qrels[q], 10) == pytest.approx(res[q]["recall_10"], abs=1e-9)
        # pytrec's recip_rank is not cut at 10; compare where the first hit is in the top 10.
        if mrr_at_k(ranked, qrels[q], 10) > 0:
            assert mrr_at_k(ranked, qrels[q], 10) == pytest.approx(res[q]["recip_rank"])
