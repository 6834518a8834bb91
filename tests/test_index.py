import json

import numpy as np
import pytest

from rag import HashEmbedder, IndexLoadError, Passage
from rag.index.passages import PassageIndex
from rag.index.persist import load_index, save_index
from rag.types import Document


def _random_index(n=200, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    passages = [Passage(id=f"d:{i}-{i + 1}", doc_id="d", source="d", title="", text=f"p{i}",
                        start=i, end=i + 1) for i in range(n)]
    return PassageIndex(passages, vecs), rng


def test_faiss_matches_numpy_brute_force():
    index, rng = _random_index()
    queries = rng.normal(size=(5, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    scores, idx = index.dense(queries, 10)
    oracle = queries @ index.vectors.T
    for q in range(5):
        expected = np.argsort(-oracle[q])[:10]
        assert list(idx[q]) == list(expected)
        assert np.allclose(scores[q], oracle[q][expected], atol=1e-5)


def test_bm25_prefers_passages_with_query_terms():
    passages = [Passage(id=str(i), doc_id="d", source="d", title="", text=t, start=0, end=len(t))
                for i, t in enumerate(["the cat sat on the mat", "dogs are running home",
                                       "a cat and a dog"])]
    index = PassageIndex(passages, np.zeros((3, 4), np.float32))
    rows, found = index.bm25_matches("running dog")
    scores = np.zeros(3)
    scores[rows] = found
    assert scores[1] > scores[2] > scores[0] == 0
    assert len(index.bm25_matches("the of")[0]) == 0  # stop words only


def _saved(tmp_path):
    emb = HashEmbedder()
    text = "Alpha beta gamma. Delta epsilon."
    doc = Document(id="d1", text=text, title="T", source="a.txt")
    p = Passage(id="d1:0-17", doc_id="d1", source="a.txt", title="T", text=text[:17], start=0,
                end=17)
    index = PassageIndex([p], emb.encode([p.text]))
    save_index(tmp_path / "idx", {doc.id: doc}, index,
               {"model_id": emb.model_id, "chunking": {"max_tokens": 200}}, {})
    return tmp_path / "idx", emb, index


def test_save_and_load_round_trip_without_pickle(tmp_path):
    path, emb, index = _saved(tmp_path)
    assert sorted(f.name for f in path.iterdir()) == ["base", "manifest.json"]
    assert {"documents.jsonl", "passages.jsonl", "vectors.faiss", "bm25-rows.npy"} <= \
        {f.name for f in (path / "base").iterdir()}
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["model_id"] == emb.model_id and manifest["dimension"] == emb.dim
    assert manifest["passage_count"] == 1 and manifest["documents"]["a.txt"]["id"] == "d1"
    assert len(manifest["documents"]["a.txt"]["sha256"]) == 64
    _, docs, loaded, _ = load_index(path, model_id=emb.model_id, dim=emb.dim)
    assert loaded.passages == index.passages and docs[0].text.startswith("Alpha")
    assert np.allclose(loaded.vectors, index.vectors)


@pytest.mark.parametrize("damage, message", [
    (lambda p: (p / "base" / "vectors.faiss").write_bytes(
        (p / "base" / "vectors.faiss").read_bytes()[:50]),
     "base/vectors.faiss is corrupt or truncated"),
    (lambda p: (p / "base" / "passages.jsonl").unlink(), "base/passages.jsonl is missing"),
    (lambda p: (p / "manifest.json").write_text("{not json"), "manifest.json is corrupt"),
    (lambda p: (p / "manifest.json").unlink(), "no index at"),
])
def test_damaged_index_raises_clear_error(tmp_path, damage, message):
    path, emb, _ = _saved(tmp_path)
    damage(path)
    with pytest.raises(IndexLoadError, match=message) as err:
        load_index(path, model_id=emb.model_id)
    assert "rag index" in str(err.value)


def test_other_model_or_dimension_is_refused(tmp_path):
    path, emb, _ = _saved(tmp_path)
    with pytest.raises(IndexLoadError, match="built with model 'test/hash-embedder', not 'other'"):
        load_index(path, model_id="other")
    with pytest.raises(IndexLoadError, match="dimension 256, the model gives 384"):
        load_index(path, dim=384)


def test_interrupted_save_keeps_the_previous_index(tmp_path, monkeypatch):
    path, emb, index = _saved(tmp_path)
    before = (path / "manifest.json").read_text()
    import rag.index.persist as mod

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(mod, "_sha256", boom)
    with pytest.raises(KeyboardInterrupt):
        save_index(path, {}, index, {"model_id": emb.model_id}, {})
    assert (path / "manifest.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]  # no temporary folder left behind


def _clustered(n: int, dim: int = 32, seed: int = 7) -> np.ndarray:
    """Unit vectors around 50 centres (embeddings cluster by topic; uniform noise does not)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dim))
    v = centres[rng.integers(0, 50, n)] + 0.5 * rng.normal(size=(n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_top_k_matches_a_full_stable_sort():
    from rag.index.passages import top_k

    rng = np.random.default_rng(3)
    scores = rng.integers(0, 20, 500).astype(np.float32)  # many ties
    for n in (1, 7, 50, 499, 500, 800):
        assert list(top_k(scores, n)) == list(np.argsort(-scores, kind="stable")[:n])
    assert len(top_k(scores, 0)) == 0 and len(top_k(np.zeros(0, np.float32), 5)) == 0


def test_hnsw_finds_what_exact_search_finds():
    from rag.index.passages import PassageIndex

    vectors = _clustered(3000)
    passages = [Passage(id=str(i), doc_id="d", source="d", title="", text="x", start=0, end=1)
                for i in range(len(vectors))]
    queries = _clustered(100, seed=8)
    oracle = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]  # numpy brute force
    exact = PassageIndex(passages, vectors, ann="exact")
    hnsw = PassageIndex(passages, vectors, ann="hnsw")
    assert exact.kind == "exact" and hnsw.kind == "hnsw"
    _, got = exact.dense(queries, 10)
    assert (got == oracle).mean() > 0.99  # ties aside, exact is exact
    _, approx = hnsw.dense(queries, 10)
    recall = np.mean([len(set(a) & set(o)) / 10 for a, o in zip(approx, oracle)])
    assert recall >= 0.95


def test_auto_switches_to_hnsw_above_the_size_limit(monkeypatch, tmp_path):
    import rag.index.passages as index_module
    from rag import Document, HashEmbedder, Retriever, Settings

    docs = [Document(id=f"d{i}", text=f"Passage number {i} about topic {i % 7}.")
            for i in range(40)]
    r = Retriever.from_documents(docs, embedder=HashEmbedder(), index=tmp_path / "ix")
    assert r.index.kind == "exact"
    monkeypatch.setattr(index_module, "ANN_AUTO_PASSAGES", 10)
    r = Retriever.load(tmp_path / "ix", embedder=HashEmbedder())
    assert r.index.kind == "hnsw" and hasattr(r.index.faiss_index, "hnsw")
    assert r.search("topic 3", k=3, mode="dense")[0].passage.text.endswith("topic 3.")
    r = Retriever.load(tmp_path / "ix", embedder=HashEmbedder(), settings=Settings(ann="exact"))
    assert not hasattr(r.index.faiss_index, "hnsw")


def _dead_pid() -> int:
    import subprocess
    import sys

    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)


def _save_texts(tmp_path, name, texts):
    from rag import Document, HashEmbedder, Retriever

    docs = [Document(id=f"d{i}", text=t) for i, t in enumerate(texts)]
    Retriever.from_documents(docs, embedder=HashEmbedder(), index=tmp_path / name)
    return tmp_path / name


@pytest.mark.parametrize("new_complete", [True, False])
def test_a_save_killed_between_its_renames_is_recovered(tmp_path, new_complete):
    """The index folder is missing; the previous version (.ix.old-PID) and the next one
    (.ix.tmp-PID-*) lie beside it. Opening it recovers the next if complete, else the previous."""
    import shutil

    from rag import HashEmbedder, Retriever

    ix = _save_texts(tmp_path, "ix", ["The old text about whales."])
    new = _save_texts(tmp_path, "new", ["The new text about lighthouses."])
    pid = _dead_pid()
    shutil.move(new, tmp_path / f".ix.tmp-{pid}-abc")
    if not new_complete:  # killed before its manifest was written
        (tmp_path / f".ix.tmp-{pid}-abc" / "manifest.json").unlink()
    ix.rename(tmp_path / f".ix.old-{pid}")
    r = Retriever.load(ix, embedder=HashEmbedder())
    assert [d.text for d in r.documents.values()] == \
        ["The new text about lighthouses." if new_complete else "The old text about whales."]
    # The next save clears what is left of the killed one.
    r.save(ix)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix"]


def test_a_live_save_is_left_alone(tmp_path):
    import os

    from rag import HashEmbedder, IndexLoadError, Retriever

    ix = _save_texts(tmp_path, "ix", ["Some text."])
    ix.rename(tmp_path / f".ix.old-{os.getpid()}")  # a save of a live process, mid-way
    with pytest.raises(IndexLoadError, match="no index at"):
        Retriever.load(ix, embedder=HashEmbedder())
    assert (tmp_path / f".ix.old-{os.getpid()}").is_dir()


@pytest.mark.parametrize("ann", ["exact", "hnsw"])
def test_vectors_are_one_copy_that_outlives_its_index(ann):
    import gc

    vectors = _clustered(500)
    passages = [Passage(id=str(i), doc_id="d", source="d", title="", text="x", start=0, end=1)
                for i in range(len(vectors))]
    index = PassageIndex(passages, vectors, ann=ann)
    view = index.vectors
    assert not view.flags.owndata and not view.flags.writeable  # FAISS's memory, not a copy
    del index
    gc.collect()
    _ = [np.ones((500, 32)) for _ in range(20)]  # reuse freed memory, if it had been freed
    assert np.array_equal(view, vectors)
