"""A local index changes by segments: a save after a change writes a small delta and the
manifest, never the base again; deleted rows are masked, then dropped by a later base."""
import json

import numpy as np
import pytest

from rag import Document, HashEmbedder, Retriever, Settings
from rag.index.passages import PassageIndex
from rag.types import Passage

SETTINGS = Settings(max_tokens=16, overlap_sentences=0, reader="heuristic")


def _docs(n, offset=0):
    return [Document(id=f"d{i}", text=f"Document {i} is about topic{i % 5}. It says fact{i}.",
                     title=f"Title {i}") for i in range(offset, offset + n)]


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
            for p in folder.rglob("*") if p.is_file()}


def test_a_change_writes_a_delta_not_the_base(tmp_path):
    ix = tmp_path / "ix"
    r = Retriever.from_documents(_docs(20), ix, embedder=HashEmbedder(), settings=SETTINGS)
    base = {k: v for k, v in _files(ix).items() if k.startswith("base/")}
    r.add_documents(_docs(2, offset=20))
    r.remove_documents(["d3"])
    r.save()
    after = _files(ix)
    assert {k: after[k] for k in base} == base  # the base is untouched
    assert sorted({k.split("/")[0] for k in after if "/" in k}) == ["base", "delta-1"]
    manifest = json.loads((ix / "manifest.json").read_text())
    assert [s["name"] for s in manifest["segments"]] == ["base", "delta-1"]
    assert manifest["deleted"] and manifest["passage_count"] == r.passage_count()
    again = Retriever.load(ix, embedder=HashEmbedder())
    for q in ("fact21", "topic3 fact3", "Document 7"):
        assert again.search(q, k=5, mode="bm25") == r.search(q, k=5, mode="bm25"), q
        # Equal cosines (frequent with the test embedder) may come in any order, and then move
        # the fused scores: compare the cosines, and the best hybrid hit when it stands alone.
        a, b = again.search(q, k=5, mode="dense"), r.search(q, k=5, mode="dense")
        assert [h.score for h in a] == pytest.approx([h.score for h in b]), q
        a, b = again.search(q, k=5), r.search(q, k=5)
        if a[0].score > a[1].score + 1e-3:
            assert a[0].passage == b[0].passage, q
    assert "d3" not in again.documents and again.documents["d21"].text.endswith("fact21.")
    assert all(h.passage.doc_id != "d3" for h in again.search("fact3", k=50, mode="bm25"))


def test_refreshing_a_folder_saves_by_deltas_then_compacts(tmp_path, monkeypatch):
    import rag.index.persist as persist

    monkeypatch.setattr(persist, "MAX_DELTAS", 2)
    folder = tmp_path / "docs"
    folder.mkdir()
    for d in _docs(6):
        (folder / f"{d.id}.txt").write_text(d.text)
    ix = tmp_path / "ix"
    Retriever.from_folder(folder, ix, embedder=HashEmbedder(), settings=SETTINGS)
    names = []
    for i in range(4):
        (folder / f"new{i}.txt").write_text(f"A new note on lighthouses, keeper{i}.")
        r = Retriever.from_folder(folder, ix, embedder=HashEmbedder(), settings=SETTINGS)
        names.append([s["name"] for s in json.loads((ix / "manifest.json").read_text())
                      ["segments"]])
    # A third delta would be one too many: one base again, the deltas gone, then deltas again.
    assert names == [["base", "delta-1"], ["base", "delta-1", "delta-2"], ["base"],
                     ["base", "delta-1"]]
    assert sorted(p.name for p in ix.iterdir()) == ["base", "delta-1", "manifest.json"]
    assert r.search("keeper3", k=1, mode="bm25")[0].passage.source == "new3.txt"


def test_many_deletions_are_dropped_by_the_next_base(tmp_path):
    ix = tmp_path / "ix"
    r = Retriever.from_documents(_docs(12), ix, embedder=HashEmbedder(), settings=SETTINGS)
    r.remove_documents([f"d{i}" for i in range(6)])  # half the rows
    r.save()
    manifest = json.loads((ix / "manifest.json").read_text())
    assert [s["name"] for s in manifest["segments"]] == ["base"] and manifest["deleted"] == []
    assert r.index.dead == 0 and r.passage_count() == manifest["passage_count"]
    again = Retriever.load(ix, embedder=HashEmbedder())
    assert again.search("fact8", k=1, mode="bm25")[0].passage.doc_id == "d8"


def test_a_killed_delta_save_leaves_the_index_as_before(tmp_path):
    ix = tmp_path / "ix"
    r = Retriever.from_documents(_docs(5), ix, embedder=HashEmbedder(), settings=SETTINGS)
    before = (ix / "manifest.json").read_text()
    (ix / "delta-1").mkdir()  # a segment written by a save killed before its manifest
    (ix / "delta-1" / "passages.jsonl").write_text("{broken")
    again = Retriever.load(ix, embedder=HashEmbedder())  # the manifest does not name it
    assert again.passage_count() == r.passage_count()
    again.add_documents(_docs(1, offset=5))
    again.save()
    assert json.loads((ix / "manifest.json").read_text()) != json.loads(before)
    third = Retriever.load(ix, embedder=HashEmbedder())
    assert third.search("fact5", k=1, mode="bm25")[0].passage.doc_id == "d5"


@pytest.mark.parametrize("ann", ["exact", "hnsw"])
def test_deleted_rows_are_never_found_and_search_matches_numpy(ann):
    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(300, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    passages = [Passage(id=f"d{i // 3}:{i}", doc_id=f"d{i // 3}", source="s", title="",
                        text=f"word{i}", start=0, end=1) for i in range(300)]
    index = PassageIndex(passages, vecs, ann=ann)
    index.delete([f"d{i}" for i in range(0, 100, 2)])  # 150 rows dead
    assert len(index) == 150 and index.dead == 150
    q = rng.normal(size=(4, 16)).astype(np.float32)
    scores, rows = index.dense(q, 10)
    live = np.flatnonzero(index.alive)
    oracle = live[np.argsort(-(q @ vecs[live].T), axis=1)[:, :10]]
    assert index.alive[rows].all()
    overlap = np.mean([len(set(a) & set(o)) / 10 for a, o in zip(rows, oracle)])
    assert overlap >= (1.0 if ann == "exact" else 0.95)
    index.compact()
    assert index.size == 150 and index.passages == [passages[i] for i in live]
    assert np.allclose(index.vectors, vecs[live])


def test_added_rows_are_searched_beside_the_main_index_then_merged():
    rng = np.random.default_rng(2)
    vecs = rng.normal(size=(120, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    passages = [Passage(id=f"d{i}:0-1", doc_id=f"d{i}", source="s", title="", text=f"w{i}",
                        start=0, end=1) for i in range(120)]
    index = PassageIndex(passages[:100], vecs[:100], ann="exact")
    main = index.faiss_index
    index.add(passages[100:], vecs[100:])
    assert index.faiss_index is main and main.ntotal == 100  # the main index is not grown
    index.delete(["d3", "d105"])
    q = rng.normal(size=(5, 16)).astype(np.float32)
    live = np.flatnonzero(index.alive)
    oracle = live[np.argsort(-(q @ vecs[live].T), axis=1)[:, :10]]
    assert (index.dense(q, 10)[1] == oracle).all()
    assert np.allclose(index.vectors_of([2, 110]), vecs[[2, 110]])
    index.compact()
    assert index.faiss_index.ntotal == 118 and (index.dense(q, 10)[1] == np.searchsorted(
        live, oracle)).all()
