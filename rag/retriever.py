"""Retriever: the public entry point. It composes the pipeline's components and names none of
their implementations: an embedder (rag/embedders/), a passage store (rag/index/stores/) built
and opened by rag/index/build.py, search with fusion (rag/index/search.py) and answering
(rag/answer/pipeline.py, readers in rag/answer/readers/); no component calls back into it."""
from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

from .answer.pipeline import Answerer, streamed
from .embedders import Embedder
from .errors import ConfigError
from .index import build
from .index.search import Searcher
from .index.stores import Store, StoredDocuments
from .index.sync import sync
from .settings import Settings
from .types import Answer, Document, DocumentInfo, Hit, IndexStats, Passage


class Retriever:
    """A searchable index of documents.

    Build one with :meth:`from_folder` or :meth:`from_documents` (``index=DIR`` keeps it in a
    local folder, ``store=URI`` in Milvus), reopen it with :meth:`load` (a folder) or
    :meth:`open` (any store); query it with :meth:`search`, :meth:`search_batch` and
    :meth:`ask`. The embedding model loads on first use, from local files only.
    """

    def __init__(self, store: Store, embedder: Embedder, settings: Settings) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        docs = getattr(store, "docs", None)  # a store that holds its documents in memory
        self._documents = docs if docs is not None else StoredDocuments(store)
        # Counting documents needs no list of them where the store holds them (a large index
        # opens without building one).
        self.last_stats = IndexStats(unchanged=len(docs) if docs is not None
                                     else len(store.entries()), passages=len(store))
        self._searcher = Searcher(store, embedder)
        self._answerer = Answerer(self._searcher, self._documents, embedder)

    def with_settings(self, settings: Settings | None = None, **changes) -> Retriever:
        """The same index, models and caches under ``settings`` (default: these) with
        ``changes`` (e.g. ``reader="learned"``, ``llm_url=...``); this one is left as it is."""
        other = copy.copy(self)
        other.settings = dataclasses.replace(settings or self.settings, **changes)
        return other

    @property
    def documents(self) -> Mapping[str, Document]:
        """The indexed documents by id (a store that keeps them elsewhere fetches them)."""
        return self._documents

    @property
    def index(self):
        """The local store's :class:`rag.index.passages.PassageIndex` (local stores only)."""
        found = getattr(self.store, "index", None)
        if found is None:
            raise AttributeError(f"a {self.store.kind} store has no local PassageIndex: use "
                                 "Retriever.store")
        return found

    @property
    def folders(self) -> dict[str, str]:
        """What was indexed: {"folder": path, "uploads": path}."""
        return dict(self.store.meta.get("folders", {}))

    def passage_count(self) -> int:
        """How many passages the index holds."""
        return len(self.store)

    def passages_of(self, sources: Sequence[str]) -> list[Passage]:
        """Every passage of the documents with these sources (unknown ones are skipped)."""
        entries = self.store.entries()
        return self.store.passages_of([entries[s].id for s in sources if s in entries])

    # ---- building -------------------------------------------------------------------------

    @classmethod
    def from_documents(cls, documents: Sequence[Document], index: str | Path | None = None, *,
                       store: str | None = None, embedder: Embedder | None = None,
                       settings: Settings | None = None, progress: bool = False,
                       replace: bool = False) -> Retriever:
        """Index in-memory documents (a document without ``source`` is cited by its id). With
        ``index`` (a folder) or ``store`` (a URI: ``milvus:FILE.db``, ``http://host:19530``),
        an index kept there is refreshed incrementally. An index built from a folder is not
        replaced by these documents unless ``replace`` (ConfigError)."""
        docs = [d if d.source else dataclasses.replace(d, source=d.id) for d in documents]
        ids = [d.id for d in docs]
        if len(set(ids)) != len(ids):
            raise ConfigError("document ids must be unique: two documents share an id")
        return cls._made(*build.refresh(docs, build.target(index, store), embedder, settings,
                                        progress, replace=replace))

    @classmethod
    def from_folder(cls, folder: str | Path = "seeds", index: str | Path | None = None, *,
                    store: str | None = None, uploads: str | Path | None = None,
                    embedder: Embedder | None = None, settings: Settings | None = None,
                    progress: bool = False, replace: bool = False,
                    extracted: str | Path | None = None) -> Retriever:
        """Index every file of a type rag reads (``rag.SUFFIXES``) under ``folder`` (and, when
        given, under ``uploads``, whose documents are cited as ``uploads/NAME``). With
        ``index`` (a folder) or ``store`` (a URI), an index kept there is refreshed
        incrementally (only added or changed files are embedded, removed ones dropped),
        recording both folders in its manifest. ``last_stats`` tells what changed. An index
        that holds another folder is refused (ConfigError: refreshing it would drop that
        folder's documents) unless ``replace``, which rebuilds it for this one. What a costly
        read of a file gave (OCR) is kept by content in ``extracted`` (default: beside the
        index, INDEX-extracted/), so an unchanged file is never read that way twice; files
        that cannot be read are listed by :meth:`document_infos` with their error."""
        docs, skipped, folders, unreadable = build.read_folders(folder, uploads, settings, index,
                                                                store, extracted)
        r = cls._made(*build.refresh(docs, build.target(index, store), embedder, settings,
                                     progress, folders, replace, unreadable))
        r.last_stats = dataclasses.replace(r.last_stats, skipped=tuple(skipped))
        return r

    @classmethod
    def _made(cls, store: Store, embedder: Embedder, settings: Settings,
              stats: IndexStats | None = None) -> Retriever:
        r = cls(store, embedder, settings)
        if stats is not None:
            r.last_stats = stats
        return r

    def add_documents(self, documents: Sequence[Document], progress: bool = False) -> IndexStats:
        """Add (or replace, by source) documents and embed only those."""
        docs = [d if d.source else dataclasses.replace(d, source=d.id) for d in documents]
        self.last_stats = sync(self.store, self.embedder, self.settings, docs, complete=False,
                               progress=progress)
        return self.last_stats

    def remove_documents(self, ids: Sequence[str]) -> IndexStats:
        """Drop documents (by id) and their passages. Raises ConfigError for an unknown id."""
        self.last_stats = build.remove(self.store, self.embedder.dim, ids)
        return self.last_stats

    def find_text(self, text: str) -> Document | None:
        """The indexed document whose text is exactly ``text``, if any (to refuse duplicates)."""
        return build.find_text(self.store, self.documents, text)

    def document_infos(self) -> list[DocumentInfo]:
        """One entry per indexed document, and one per file of the folders that could not be
        read (``error`` says why; nothing of it is indexed), sorted by source."""
        return build.document_infos(self.store)

    # ---- persistence ----------------------------------------------------------------------

    def save(self, path: str | Path | None = None) -> None:
        """Local store: save to folder ``path`` (FAISS file, JSONL, manifest.json), atomically
        (no ``path``: where it was loaded from). Milvus: flush (it is saved as it changes)."""
        self.store.save(path)

    def close(self) -> None:
        """Release the store's files and connections."""
        self.store.close()

    @classmethod
    def load(cls, path: str | Path, *, embedder: Embedder | None = None,
             settings: Settings | None = None, manifest: dict | None = None) -> Retriever:
        """Load an index saved in a folder. Raises IndexLoadError (with how to fix it) when the
        folder is missing, corrupt, truncated, or built for another model or dimension.
        (``manifest``: its manifest, when the caller has read it already.)"""
        return cls(*build.load_local(path, embedder, settings, manifest))

    @classmethod
    def open(cls, store: str, *, embedder: Embedder | None = None,
             settings: Settings | None = None) -> Retriever:
        """Open an existing index: a folder (or ``local:DIR``), ``milvus:FILE.db`` or a Milvus
        server URL. Raises IndexLoadError (with how to fix it) when there is none or it was
        built for another model."""
        return cls(*build.open_store(store, embedder, settings))

    # ---- search and answers ---------------------------------------------------------------

    def search(self, query: str, k: int = 5, mode: str = "hybrid",
               rerank: bool = False) -> list[Hit]:
        """The ``k`` best passages for ``query``, best first. With ``rerank``, the learned
        reader reorders the fused top ``settings.rerank_depth`` (slower: ~10 ms a passage)."""
        return self.search_batch([query], k=k, mode=mode, rerank=rerank)[0]

    def search_batch(self, queries: Sequence[str], k: int = 5, mode: str = "hybrid",
                     rerank: bool = False) -> list[list[Hit]]:
        """:meth:`search` for many queries at once (one embedding batch)."""
        depth = self.settings.rerank_depth
        # Reranking reorders the fused top ``depth``, however few hits are asked for.
        results, qvecs = self._searcher.search(queries, max(k, depth) if rerank else k, mode,
                                               self.settings, need_vectors=rerank)
        if not rerank:
            return results
        return [found[:k] for found in self._answerer.rerank(queries, qvecs, results,
                                                             self.settings)]

    def read_context(self):
        """What a reader is given (rag.answer.readers.ReadContext) under these settings."""
        return self._answerer.context(self.settings)

    @property
    def abstain_threshold(self) -> float:
        """The threshold in force, on the scale of ``Answer.confidence`` (see
        :meth:`rag.answer.pipeline.Answerer.abstain_threshold`)."""
        return self._answerer.abstain_threshold(self.settings)

    def llm_client(self):
        """The client of ``settings.llm_url`` (None without one)."""
        return self._answerer.llm_client(self.settings)

    def ask_stream(self, question: str, k: int = 5, mode: str = "hybrid",
                   history: Sequence | None = None, llm: bool | None = None):
        """:meth:`ask`, as it is written: yields the LLM's reply in pieces (str) as they come,
        then the verified :class:`Answer` last (only the Answer without an LLM)."""
        return streamed(lambda on_text: self.ask(question, k=k, mode=mode, history=history,
                                                 llm=llm, on_text=on_text))

    def ask(self, question: str, k: int = 5, mode: str = "hybrid",
            history: Sequence | None = None, llm: bool | None = None,
            on_text=None) -> Answer:
        """A grounded extractive answer with citations, or an abstention when the sources do not
        contain the answer (``abstained=True``; ``hits`` still holds the closest passages).
        ``history``: the earlier turns of a conversation, oldest first (questions, (question,
        answer) pairs or Answers); a question that leans on them is searched and read with the
        turns it needs. With ``Settings(reader="learned")`` the fused top
        ``settings.rerank_depth`` passages are reranked by the reader. With
        ``Settings(llm_url=...)`` (and ``llm`` not False) an LLM writes the answer, each of its
        sentences checked against the quote it cites (``Answer.generated``,
        ``Answer.dropped``); ``on_text`` gets its reply as it is written. When the server
        fails, the extractive answer comes with a note."""
        return self._answerer.ask(question, k, mode, history, llm, on_text, self.settings)
