"""A new file format and a new store kind are added by one module each and a registration
(rag.ingest.loaders.register, rag.index.stores.register)."""
import pytest

from rag import HashEmbedder, Retriever, load_folder
from rag.index import stores
from rag.index.stores.local import LocalStore
from rag.ingest import loaders


class NotesStore(LocalStore):
    """A store kind of a test's own: the local store under another name."""

    kind = "notes"


@pytest.fixture
def restored():
    kinds, formats = dict(stores.KINDS), dict(loaders.REGISTRY)
    yield
    stores.KINDS.clear()
    stores.KINDS.update(kinds)
    loaders.REGISTRY.clear()
    loaders.REGISTRY.update(formats)


def test_a_new_format_is_one_registration(tmp_path, restored):
    (tmp_path / "meeting.note").write_text("The budget was approved on Tuesday.")
    assert load_folder(tmp_path, reasons={})[0] == []  # not read before
    loaders.register([".NOTE"], "text:text_file")
    docs, skipped = load_folder(tmp_path)
    assert [d.source for d in docs] == ["meeting.note"] and not skipped
    with pytest.raises(ValueError, match="with its dot"):
        loaders.register(["note"], "text:text_file")


def test_a_new_store_kind_is_one_registration(tmp_path, restored):
    from rag import ConfigError

    with pytest.raises(ConfigError):
        stores.store_class("notes")
    stores.register("notes", "test_registries:NotesStore")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The lighthouse was built in 1874.")
    r = Retriever.from_folder(folder, store=f"notes:{tmp_path / 'idx'}", embedder=HashEmbedder())
    assert r.store.kind == "notes" and r.passage_count() == 1
    again = Retriever.open(f"notes:{tmp_path / 'idx'}", embedder=HashEmbedder())
    assert again.store.kind == "notes"
    assert again.search("lighthouse", k=1)[0].passage.source == "a.txt"
