"""A new file format and a new store kind are added by one module each and a registration
(rag.ingest.loaders.register, rag.index.stores.register)."""
import pytest

from rag import HashEmbedder, Retriever, load_folder
from rag.index import stores
from rag.answer import readers
from rag.answer.readers.heuristic import HeuristicReader
from rag.index.stores.local import LocalStore
from rag.ingest import loaders


class NotesStore(LocalStore):
    """A store kind of a test's own: the local store under another name."""

    kind = "notes"


class OneSentence(HeuristicReader):
    """A reader of a test's own: the heuristic's answer, its first sentence alone."""

    name = "one-sentence"

    def read(self, *args, **kwargs):
        import dataclasses

        answer = super().read(*args, **kwargs)
        return dataclasses.replace(answer, citations=answer.citations[:1],
                                   text=answer.text.split(" [1]")[0] + " [1]")


@pytest.fixture
def restored():
    saved = [(r, dict(r)) for r in (stores.KINDS, loaders.REGISTRY, readers.REGISTRY)]
    yield
    for registry, entries in saved:
        registry.clear()
        registry.update(entries)


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


def test_a_new_reader_is_one_registration(tmp_path, restored):
    from rag import ConfigError, Document, Settings

    with pytest.raises(ConfigError, match="reader='one-sentence'"):
        Settings(reader="one-sentence")
    readers.register("one-sentence", "test_registries:OneSentence")
    r = Retriever.from_documents([Document(id="d", text="The lighthouse was built in 1874. "
                                           "Its lamp was electrified in 1910.")],
                                 embedder=HashEmbedder(),
                                 settings=Settings(reader="one-sentence", abstain_threshold=-1.0,
                                                   answer_sentences=2, gate=False))
    a = r.ask("When was the lighthouse built?")
    assert len(a.citations) == 1 and a.text.endswith("[1]")
