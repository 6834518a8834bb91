from dataclasses import replace

import numpy as np
import pytest

from conftest import kept_at, store_uri
from rag import ConfigError, Document, HashEmbedder, IndexLoadError, Retriever, Settings
from rag.ingest.chunking import chunk_documents

DOCS = [
    Document(id="cats", title="Cats", text="Cats purr when they are content. "
             "A cat sleeps for most of the day. Kittens are born blind."),
    Document(id="rivers", title="Rivers", text="The Nile is a long river in Africa. "
             "Rivers carry water to the sea. The Amazon carries the most water."),
    Document(id="space", title="Space", text="The Moon orbits the Earth. "
             "Mars is called the red planet. Jupiter is the largest planet."),
]


class CountingEmbedder(HashEmbedder):
    def __init__(self):
        super().__init__()
        self.encoded: list[str] = []

    def encode(self, texts, progress=False):
        self.encoded.extend(texts)
        return super().encode(texts)


SMALL = Settings(max_tokens=16, overlap_sentences=0, reader="heuristic")


@pytest.fixture
def retriever(store_kind, tmp_path):
    # Unit tests: the hash embedder and the heuristic reader, no model (test_readers.py has it);
    # once in memory (local store) and once in milvus-lite.
    where = {} if store_kind == "local" else kept_at(store_kind, tmp_path)
    r = Retriever.from_documents(DOCS, embedder=HashEmbedder(), settings=SMALL, **where)
    yield r
    r.close()


def test_search_modes_find_the_right_document(retriever):
    for mode in ("dense", "bm25", "hybrid"):
        hits = retriever.search("Which planet is the largest?", k=3, mode=mode)
        assert hits[0].passage.doc_id == "space", mode
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    hit = retriever.search("largest planet", k=1)[0]
    assert hit.dense_score is not None and hit.bm25_score > 0
    assert hit.passage.source == "space"  # from_documents: source is the id


def test_dense_scores_match_a_numpy_oracle(retriever):
    q = "water in rivers"
    hits = retriever.search(q, k=5, mode="dense")
    qv = retriever.embedder.encode([q])[0]
    passages = chunk_documents(DOCS, retriever.embedder.count_tokens, 16, 0)
    oracle = retriever.embedder.encode([p.text for p in passages]) @ qv
    row = {p.id: i for i, p in enumerate(passages)}
    # Same top scores as brute force (ties may come in any order), each the passage's own score.
    assert np.allclose([h.score for h in hits], np.sort(oracle)[::-1][:5], atol=1e-5)
    assert np.allclose([h.score for h in hits], [oracle[row[h.passage.id]] for h in hits],
                       atol=1e-5)


def test_hybrid_is_minmax_score_fusion(retriever):
    # Brute-force oracle: every passage is a dense candidate here (the corpus is smaller than
    # ``candidates``), so each retriever's scores are min-max normalised over all of them (no
    # BM25 match: 0) and added.
    q = "the red planet Mars"
    n = retriever.passage_count()
    dense = {h.passage.id: h.score for h in retriever.search(q, k=n, mode="dense")}
    bm25 = {h.passage.id: h.score for h in retriever.search(q, k=n, mode="bm25")}

    def normalised(scores):
        lo, hi = min(scores.values()), max(scores.values())
        return {pid: (s - lo) / (hi - lo) for pid, s in scores.items()}

    d, b = normalised(dense), normalised({pid: bm25.get(pid, 0.0) for pid in dense})
    hits = retriever.search(q, k=n, mode="hybrid")
    assert {h.passage.id: h.score for h in hits} == pytest.approx(
        {pid: d[pid] + b[pid] for pid in dense})
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # The components are the retrievers' own scores.
    assert {h.passage.id: h.dense_score for h in hits} == pytest.approx(dense)


def test_minmax_weighs_the_dense_side():
    from rag.index.fusion import candidate_scores, minmax_scores

    def minmax(dense, bm25, dense_of, bm25_of, dense_weight=1.0):
        return minmax_scores(candidate_scores(dense, bm25, dense_of, bm25_of), dense_weight)

    dense, bm25 = [("a", 0.9), ("b", 0.5), ("c", 0.1)], [("c", 8.0), ("d", 2.0)]
    asked = []

    def dense_of(keys):
        asked.append(("dense", keys))
        return [0.3]

    def bm25_of(keys):
        asked.append(("bm25", keys))
        return [None, 4.0]  # a: no match

    fused = dict(minmax(dense, bm25, dense_of, bm25_of, dense_weight=2.0))
    # Scored by the retriever that did not propose them, the rest from the rankings.
    assert asked == [("dense", ["d"]), ("bm25", ["a", "b"])]
    assert fused == pytest.approx({"a": 2.0, "b": 2 * 0.5 + 0.5, "c": 1.0, "d": 2 * 0.25 + 0.25})
    assert minmax([], [], dense_of, bm25_of) == []


def test_hybrid_is_reciprocal_rank_fusion(store_kind, tmp_path):
    where = {} if store_kind == "local" else kept_at(store_kind, tmp_path)
    retriever = Retriever.from_documents(DOCS, embedder=HashEmbedder(), **where,
                                         settings=replace(SMALL, fusion="rrf"))
    q = "the red planet Mars"
    n = retriever.passage_count()
    dense = [h.passage.id for h in retriever.search(q, k=n, mode="dense")]
    bm25 = [h.passage.id for h in retriever.search(q, k=n, mode="bm25")]
    expected = {}
    for ranking in (dense, bm25):
        for rank, pid in enumerate(ranking, start=1):
            expected[pid] = expected.get(pid, 0) + 1 / (60 + rank)
    hits = retriever.search(q, k=n, mode="hybrid")
    assert {h.passage.id: h.score for h in hits} == pytest.approx(expected)
    retriever.close()


def test_search_batch_equals_single_searches(retriever):
    qs = ["Nile river", "kittens"]
    batch = retriever.search_batch(qs, k=2)
    assert batch == [retriever.search(q, k=2) for q in qs]


@pytest.mark.parametrize("query, k, message", [
    ("", 5, "question is empty"), ("   ", 5, "question is empty"), ("ok", 0, "k=0"),
])
def test_bad_arguments_raise_config_errors(retriever, query, k, message):
    with pytest.raises(ConfigError, match=message):
        retriever.search(query, k=k)


def test_very_long_question_is_truncated_with_a_note(retriever):
    a = retriever.ask("planet " * 30_000)
    assert "truncated" in a.note


def test_save_load_and_model_mismatch(tmp_path, retriever, store_kind):
    retriever.save(tmp_path / "idx" if store_kind == "local" else None)
    uri = store_uri(store_kind, tmp_path)
    again = Retriever.open(uri, embedder=HashEmbedder())
    assert again.search("Nile", k=2) == retriever.search("Nile", k=2)
    assert again.document_infos() == retriever.document_infos()
    with pytest.raises(IndexLoadError, match="rebuild"):
        Retriever.open(uri, embedder=HashEmbedder(model_id="other-model"))
    again.close()


def test_opening_no_index_says_how_to_build_one(tmp_path, store_kind):
    with pytest.raises(IndexLoadError, match="rag index"):
        Retriever.open(store_uri(store_kind, tmp_path), embedder=HashEmbedder())


def test_folder_refresh_embeds_only_changes(tmp_path, store_kind):
    folder = tmp_path / "docs"
    folder.mkdir()
    for d in DOCS:
        (folder / f"{d.id}.txt").write_text(d.text)
    emb = CountingEmbedder()
    settings = Settings(max_tokens=16, overlap_sentences=0)
    where = kept_at(store_kind, tmp_path)
    r = Retriever.from_folder(folder, embedder=emb, settings=settings, **where)
    assert (r.last_stats.added, r.last_stats.unchanged) == (3, 0)
    r.close()

    emb.encoded.clear()
    r = Retriever.from_folder(folder, embedder=emb, settings=settings, **where)
    assert (r.last_stats.added, r.last_stats.unchanged) == (0, 3)
    assert emb.encoded == []

    (folder / "cats.txt").write_text("Cats purr. Dogs bark loudly at night.")
    (folder / "space.txt").unlink()
    (folder / "new.md").write_text("# Tea\nGreen tea comes from China.")
    r.close()
    emb.encoded.clear()
    r = Retriever.from_folder(folder, embedder=emb, settings=settings, **where)
    s = r.last_stats
    assert (s.added, s.updated, s.removed, s.unchanged) == (1, 1, 1, 1)
    assert all("Nile" not in t and "Jupiter" not in t for t in emb.encoded)
    hits = r.search("cats dogs Nile river tea", k=50)
    assert len(hits) == r.passage_count() == s.passages
    assert {h.passage.source for h in hits} == {"cats.txt", "rivers.txt", "new.md"}
    r.close()
    loaded = Retriever.open(store_uri(store_kind, tmp_path), embedder=emb)
    assert loaded.search("bark", k=1)[0].passage.source == "cats.txt"
    assert loaded.settings.max_tokens == 16  # chunked further as the saved ones were
    loaded.close()


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Retriever.from_folder(tmp_path / "nope", embedder=HashEmbedder())
    with pytest.raises(ConfigError, match="no readable"):
        Retriever.from_folder(tmp_path, embedder=HashEmbedder())


def test_add_documents_makes_them_searchable(retriever):
    stats = retriever.add_documents([Document(id="tea", text="Green tea comes from China.")])
    assert stats.added == 1 and stats.unchanged == 3
    assert retriever.search("green tea", k=1)[0].passage.doc_id == "tea"


def test_changed_chunking_rebuilds_the_index(tmp_path, store_kind):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(DOCS[0].text)
    emb = HashEmbedder()
    where = kept_at(store_kind, tmp_path)
    Retriever.from_folder(folder, embedder=emb, settings=Settings(max_tokens=16), **where).close()
    r = Retriever.from_folder(folder, embedder=emb, settings=Settings(max_tokens=64), **where)
    assert r.last_stats.added == 1 and r.passage_count() == 1
    r.close()
    again = Retriever.open(store_uri(store_kind, tmp_path), embedder=emb)
    assert again.settings.max_tokens == 64
    again.close()


def test_an_index_holding_one_folder_is_never_rebuilt_for_another(tmp_path, store_kind):
    from rag import ConfigError

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "a.txt").write_text(DOCS[0].text)
    (b / "b.txt").write_text(DOCS[1].text)
    emb = HashEmbedder()
    where = kept_at(store_kind, tmp_path)
    Retriever.from_folder(a, embedder=emb, **where).close()
    for refresh in (lambda: Retriever.from_folder(b, embedder=emb, **where),
                    lambda: Retriever.from_documents(DOCS[1:2], embedder=emb, **where)):
        with pytest.raises(ConfigError, match=f"holds folder '{a.resolve()}'.*--replace"):
            refresh()
    kept = Retriever.open(store_uri(store_kind, tmp_path), embedder=emb)
    assert [d.source for d in kept.document_infos()] == ["a.txt"]
    assert kept.folders["folder"] == str(a.resolve())
    kept.close()
    # The same folder refreshes as before; replace=True rebuilds it for another on purpose.
    Retriever.from_folder(a, embedder=emb, **where).close()
    r = Retriever.from_folder(b, embedder=emb, replace=True, **where)
    assert [d.source for d in r.document_infos()] == ["b.txt"]
    assert r.folders["folder"] == str(b.resolve())
    r.close()


def test_empty_index_returns_no_hits_and_abstains():
    r = Retriever.from_documents([], embedder=HashEmbedder(),
                                 settings=Settings(reader="heuristic"))
    assert r.search("anything", k=3) == [] and r.search("anything", mode="bm25") == []
    a = r.ask("anything")
    assert a.abstained and a.citations == () and a.hits == ()


def test_answers_reuse_cached_sentence_embeddings():
    emb = CountingEmbedder()
    r = Retriever.from_documents(DOCS, embedder=emb,
                                 settings=Settings(reader="heuristic", abstain_threshold=0.0))
    first = r.ask("Which planet is the largest?")
    emb.encoded.clear()
    second = r.ask("Which planet is the largest?")
    assert emb.encoded == ["Which planet is the largest?"]  # only the question is embedded
    assert second.citations == first.citations


def test_uploads_folder_is_indexed_under_its_prefix_and_recorded(tmp_path, store_kind):
    docs, ups = tmp_path / "docs", tmp_path / "ups"
    docs.mkdir()
    ups.mkdir()
    (docs / "a.txt").write_text("The Nile is a long river in Africa.")
    (ups / "b.txt").write_text("Jupiter is the largest planet.")
    r = Retriever.from_folder(docs, uploads=ups, embedder=HashEmbedder(),
                              **kept_at(store_kind, tmp_path))
    assert sorted(d.source for d in r.documents.values()) == ["a.txt", "uploads/b.txt"]
    folders = {"folder": str(docs.resolve()), "uploads": str(ups.resolve())}
    infos = r.document_infos()
    assert r.folders == folders and all(d.added and d.sha256 for d in infos)
    r.close()
    again = Retriever.open(store_uri(store_kind, tmp_path), embedder=HashEmbedder())
    assert again.folders == folders and again.document_infos() == infos
    again.close()


def test_remove_documents_drops_their_passages(retriever):
    stats = retriever.remove_documents(["cats"])
    assert stats.removed == 1 and set(retriever.documents) == {"rivers", "space"}
    assert retriever.passage_count() == retriever.last_stats.passages
    assert all(h.passage.doc_id != "cats" for h in retriever.search("x", k=50, mode="dense"))
    assert all(h.passage.doc_id != "cats" for h in retriever.search("cat purr", k=3))
    with pytest.raises(ConfigError, match="'nope' is not in the index"):
        retriever.remove_documents(["nope"])
    infos = retriever.document_infos()
    assert [(d.id, d.passages > 0, d.pages) for d in infos] == [("rivers", True, None),
                                                               ("space", True, None)]
    assert retriever.find_text(DOCS[1].text).id == "rivers" and retriever.find_text("x") is None
