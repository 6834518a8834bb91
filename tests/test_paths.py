"""Default paths (rag/paths.py): a folder's default index never takes over another folder's."""
import json
import os

from rag import paths


def _index_holding(index, folder):
    index.mkdir(parents=True)
    (index / "manifest.json").write_text(json.dumps({"folders": {"folder": str(folder)}}))


def test_the_default_index_is_kept_for_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(paths.ENV_INDEX, raising=False)
    docs = tmp_path / "docs"
    docs.mkdir()
    assert paths.index_for_folder(docs) == (paths.Path(".rag-index"), "")  # none yet
    _index_holding(tmp_path / ".rag-index", docs.resolve())
    assert paths.index_for_folder(docs) == (paths.Path(".rag-index"), "")
    assert paths.index_for_folder(None) == (paths.Path(".rag-index"), "")


def test_another_folder_gets_its_own_index(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seeds, mine = tmp_path / "seeds", tmp_path / "mydocs"
    seeds.mkdir()
    mine.mkdir()
    _index_holding(tmp_path / ".rag-index", seeds.resolve())
    index, note = paths.index_for_folder(mine)
    assert index == mine.resolve() / ".rag-index"
    assert str(seeds.resolve()) in note and str(index) in note


def test_a_read_only_folder_gets_an_index_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    seeds, other = tmp_path / "seeds", tmp_path / "shelf"
    seeds.mkdir()
    other.mkdir()
    _index_holding(tmp_path / ".rag-index", seeds.resolve())
    index, _ = paths.index_for_folder(other)
    assert index.parent == tmp_path / "cache" / "rag" / "indexes"
    assert index.name.startswith("shelf-") and index != paths.index_for_folder(seeds)[0]


def test_hidden_inside(tmp_path):
    assert paths.is_hidden_inside(tmp_path / ".rag-index-uploads", tmp_path)
    assert paths.is_hidden_inside(tmp_path / "sub" / ".idx" / "x", tmp_path)
    assert not paths.is_hidden_inside(tmp_path / "uploads", tmp_path)
    assert not paths.is_hidden_inside(tmp_path.parent / ".other", tmp_path)
