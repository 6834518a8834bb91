"""The passage stores: local and Milvus (milvus-lite) answer alike; what only Milvus does."""
import dataclasses

import numpy as np
import pytest

from conftest import kept_at, store_uri
from test_retriever import DOCS
from rag import (ConfigError, Document, HashEmbedder, IndexLoadError, Retriever, Settings,
                 verify_citation)
from rag.index.stores import Store, parse_store
from rag.index.stores.milvus import TEXT_PART

SETTINGS = Settings(max_tokens=16, overlap_sentences=0, reader="heuristic",
                    abstain_threshold=0.0)
QUERIES = ["Which planet is the largest?", "water of rivers", "kittens are blind", "the moon"]


@pytest.fixture
def both(tmp_path):
    local = Retriever.from_documents(DOCS, embedder=HashEmbedder(), settings=SETTINGS)
    milvus = Retriever.from_documents(DOCS, embedder=HashEmbedder(), settings=SETTINGS,
                                      **kept_at("milvus", tmp_path))
    yield local, milvus
    milvus.close()


@pytest.mark.parametrize("uri, kind, location", [
    ("idx", "local", "idx"), ("local:/data/idx", "local", "/data/idx"),
    ("milvus:./index.db", "milvus", "./index.db"), ("http://10.0.0.5:19530", "milvus",
                                                    "http://10.0.0.5:19530"),
    ("milvus://host:19530", "milvus", "http://host:19530"),
])
def test_store_uris(uri, kind, location):
    assert parse_store(uri) == (kind, location)


@pytest.mark.parametrize("uri, message", [
    ("", "empty"), ("milvus:./index", "must end in .db"), ("ftp://x", "unknown scheme"),
])
def test_bad_store_uris_say_what_to_give(uri, message):
    with pytest.raises(ConfigError, match=message):
        parse_store(uri)


def test_index_and_store_together_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="not both"):
        Retriever.from_documents(DOCS, tmp_path / "i", store=f"milvus:{tmp_path}/i.db",
                                 embedder=HashEmbedder())


def test_both_stores_follow_the_protocol(both):
    assert all(isinstance(r.store, Store) for r in both)
    assert [r.store.kind for r in both] == ["local", "milvus"]


def test_local_and_milvus_rank_and_score_alike(both):
    local, milvus = both
    n = local.passage_count()  # every passage: no tie is cut differently at the end
    for q in QUERIES:
        a, b = local.search(q, k=n), milvus.search(q, k=n)  # our RRF vs Milvus' RRFRanker
        assert {h.passage for h in a} == {h.passage for h in b}
        # (Equal cosines, frequent with the test embedder, may be ranked in either order, and
        # move the fused scores below the top.)
        assert a[0].passage == b[0].passage and a[0].score == pytest.approx(b[0].score)
        for mode in ("dense", "bm25"):
            a, b = local.search(q, k=n, mode=mode), milvus.search(q, k=n, mode=mode)
            assert np.allclose([h.score for h in a], [h.score for h in b], atol=1e-4)
            by_id = {h.passage.id: h for h in b}
            assert {h.passage for h in a} == {h.passage for h in b}, (q, mode)
            for h in a:  # same scores, and the same cosine and BM25 components
                other = by_id[h.passage.id]
                assert h.score == pytest.approx(other.score, abs=1e-4), (q, mode)
                assert h.dense_score == pytest.approx(other.dense_score, abs=1e-4)
                assert h.bm25_score == pytest.approx(other.bm25_score, abs=1e-4)
    same = [dataclasses.replace(i, added="") for i in local.document_infos()]
    assert same == [dataclasses.replace(i, added="") for i in milvus.document_infos()]
    assert local.passages_of(["space"]) == milvus.passages_of(["space"])


def test_heuristic_idf_is_the_same_in_both(both):
    local, milvus = both
    for term in ("planet", "water", "cat", "space", "absent"):  # "space": a title's only
        assert local.store.doc_freq(term) == milvus.store.doc_freq(term), term
        assert local.store.idf(term) == pytest.approx(milvus.store.idf(term))


def test_answers_on_milvus_cite_verified_spans(both):
    _, milvus = both
    a = milvus.ask("Which planet is the largest?")
    assert not a.abstained and a.citations
    for c in a.citations:
        assert verify_citation(c, milvus.documents[c.passage.doc_id])
    # Documents are fetched for the passages found, not all loaded.
    assert set(milvus.documents._cache) <= {h.passage.doc_id for h in a.hits}


def test_a_long_document_is_stored_in_parts_and_comes_back_whole(tmp_path):
    text = " ".join(f"Sentence number {i} tells of the river Nile." for i in range(3000))
    assert len(text) > 2 * TEXT_PART
    r = Retriever.from_documents([Document(id="long", text=text, title="Long")],
                                 embedder=HashEmbedder(), **kept_at("milvus", tmp_path))
    assert r.documents["long"].text == text
    hit = r.search("Sentence number 2999", k=1, mode="bm25")[0]
    assert text[hit.passage.start:hit.passage.end] == hit.passage.text
    r.close()


def test_a_second_client_opens_the_same_index_with_nothing_else(tmp_path):
    first = Retriever.from_documents(DOCS, embedder=HashEmbedder(), settings=SETTINGS,
                                     **kept_at("milvus", tmp_path))
    expected = first.search("red planet Mars", k=3)
    first.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx.db"]  # the store, nothing more
    second = Retriever.open(store_uri("milvus", tmp_path), embedder=HashEmbedder())
    assert second.search("red planet Mars", k=3) == expected
    assert second.settings.max_tokens == 16
    second.add_documents([Document(id="tea", text="Green tea comes from China.")])
    assert second.search("green tea", k=1)[0].passage.doc_id == "tea"
    assert len(second.documents) == 4
    second.close()


def test_another_models_index_is_refused_on_open(tmp_path):
    Retriever.from_documents(DOCS, embedder=HashEmbedder(), **kept_at("milvus", tmp_path)).close()
    with pytest.raises(IndexLoadError, match="rebuild it with `rag index FOLDER --store"):
        Retriever.open(store_uri("milvus", tmp_path), embedder=HashEmbedder(dim=32))


@pytest.mark.model
def test_seed_set_on_milvus_matches_the_local_store(tmp_path, seed_retriever, real_embedder):
    from conftest import SEEDS
    from rag import evaluate, load_questions
    from conftest import ROOT

    questions = load_questions(ROOT / "eval" / "seed_questions.jsonl")
    milvus = Retriever.from_folder(SEEDS, embedder=real_embedder, **kept_at("milvus", tmp_path))
    local = evaluate(seed_retriever, questions).metrics
    remote = evaluate(milvus, questions).metrics
    milvus.close()
    for metric in ("hit@5", "mrr@10"):  # the floor: within 0.03
        assert abs(local[metric] - remote[metric]) <= 0.03, metric
    # One analyzer, one BM25, one IDF: in fact the same answers.
    assert local["answer_supported"] == remote["answer_supported"]
