"""rag.bm25 against bm25s as the oracle: the same scores over the live rows, through additions,
deletions, compaction and a save/load round trip."""
import numpy as np
import pytest

from rag.index.bm25 import BM25
from rag.index.passages import bm25_tokenize

WORDS = [f"term{i}" for i in range(300)] + ["river", "rivers", "planet", "the", "and"]


def _corpus(n, seed=0):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, len(WORDS) + 1)  # Zipf-like: a few frequent terms, a long tail
    return [" ".join(rng.choice(WORDS, size=rng.integers(3, 40), p=p / p.sum()))
            for _ in range(n)]


def _oracle(tokens, query):
    import bm25s

    ref = bm25s.BM25()
    ref.index(tokens, show_progress=False)
    return ref.get_scores(query)


def _dense(bm, n, query):
    rows, scores = bm.scores(query)
    out = np.zeros(n, np.float32)
    out[rows] = scores
    return out


QUERIES = ["term1 term2 river", "planets and rivers", "term299 term0 term0", "nothing here"]


def test_scores_equal_bm25s_through_adds_deletes_and_compaction(tmp_path):
    tokens = bm25_tokenize(_corpus(400))
    bm = BM25()
    bm.add(tokens[:250])
    bm.compact()          # a block, then later additions on top
    bm.add(tokens[250:])
    for q in QUERIES:
        qt = bm25_tokenize([q])[0]
        if qt:
            assert np.allclose(_dense(bm, 400, qt), _oracle(tokens, qt), atol=1e-5), q
    dead = np.arange(0, 400, 7)
    bm.delete(dead)
    bm.delete(dead[:3])  # deleting twice changes nothing
    live = np.setdiff1d(np.arange(400), dead)
    for q in QUERIES[:3]:
        qt = bm25_tokenize([q])[0]
        got = _dense(bm, 400, qt)
        assert not got[dead].any()
        assert np.allclose(got[live], _oracle([tokens[i] for i in live], qt), atol=1e-5), q
    bm.compact(live)  # renumbered: row i is live[i]
    bm.save(tmp_path)
    again = BM25.load(tmp_path)
    for q in QUERIES[:3]:
        qt = bm25_tokenize([q])[0]
        assert np.allclose(_dense(again, len(live), qt),
                           _oracle([tokens[i] for i in live], qt), atol=1e-5), q


def test_an_empty_index_and_unknown_terms_score_nothing():
    bm = BM25()
    assert len(bm.scores(["river"])[0]) == 0
    bm.add([["river"], ["planet"]])
    rows, scores = bm.scores(["unknown"])
    assert len(rows) == 0
    rows, scores = bm.scores(["river"])
    assert rows.tolist() == [0] and scores[0] > 0


def test_mismatched_files_are_refused(tmp_path):
    bm = BM25()
    bm.add([["a", "b"], ["b", "c"]])
    bm.save(tmp_path)
    np.save(tmp_path / "bm25-df.npy", np.zeros(1, np.int64), allow_pickle=False)
    with pytest.raises(ValueError, match="disagree"):
        BM25.load(tmp_path)
