"""Passage stores: where passages, their vectors and the per-document manifest live.

The retriever talks to a store only through :class:`Store`; fusion (where the engine does not
fuse), reading and citation checks stay above it. Two implementations:

- ``local`` (:mod:`rag.index.stores.local`, the default): in this process, FAISS + bm25s, saved to a
  folder (``--index DIR`` or ``--store local:DIR``);
- ``milvus`` (:mod:`rag.index.stores.milvus`): a Milvus collection, embedded (milvus-lite,
  ``--store milvus:./index.db``) or on a server (``--store http://host:19530``).

A store is added by writing its module (a class with :class:`Store`'s methods and the kind's
classmethods ``attach``, ``reopen``, ``make``) and registering it in :data:`KINDS`.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ...errors import ConfigError
from ...runtime.targets import resolve
from ...types import Document, DocumentInfo, Passage

# Ranked (key, score) pairs: a key is whatever the store uses to fetch a passage back.
Ranked = list[tuple[object, float]]

STORE_HELP = ("a folder (local store), local:DIR, milvus:FILE.db (embedded milvus-lite) or "
              "http(s)://HOST:PORT (a Milvus server)")


# kind -> "module:Class" of this package (imported when a store of that kind is used).
KINDS: dict[str, str] = {"local": "local:LocalStore", "milvus": "milvus:MilvusStore"}


def register(kind: str, target: str) -> None:
    """Make ``kind`` a store kind: ``target`` is "module:Class" of this package, or
    "package.module:Class" for one elsewhere."""
    KINDS[kind] = target


def store_class(kind: str):
    """The class of a store kind (ConfigError for an unknown one)."""
    target = KINDS.get(kind)
    if target is None:
        raise ConfigError(f"store kind {kind!r} is unknown: give one of {', '.join(KINDS)}")
    return resolve(target, __package__)


@runtime_checkable
class Store(Protocol):
    """What the retriever needs of a passage store."""

    kind: str        # "local" or "milvus"
    location: str    # where it lives, for messages
    meta: dict       # index-level manifest: model_id, backend, dimension, chunking, folders

    def set_meta(self, **changes) -> None:
        """Change index-level manifest fields (kept with the store's next save or at once)."""

    def entries(self) -> dict[str, DocumentInfo]:
        """The per-document manifest, by source: id, title, content hash, when added..."""

    def documents(self, ids: Sequence[str]) -> dict[str, Document]:
        """The full documents with these ids (those that exist)."""

    def update(self, remove: Sequence[str], documents: Sequence[Document],
               passages: Sequence[Passage], vectors: np.ndarray, added: dict[str, str]) -> None:
        """One change: drop the documents ``remove`` (ids) with their passages, then add
        ``documents`` with their ``passages`` (``vectors[i]`` embeds ``passages[i]``)."""

    def dense(self, qvecs: np.ndarray, n: int) -> list[Ranked]:
        """Top ``n`` passages per query vector by inner product."""

    def bm25(self, queries: Sequence[str], n: int) -> list[Ranked]:
        """Top ``n`` passages per query by BM25 (only passages holding a query term)."""

    def hybrid(self, qvecs: np.ndarray, queries: Sequence[str], n: int, rrf_k: int,
               candidates: int) -> list[Ranked] | None:
        """Top ``n`` by reciprocal rank fusion of dense and BM25 ``candidates``, where the
        engine fuses natively; None where it does not (the retriever fuses). Asked only with
        ``Settings(fusion="rrf")``: score fusion happens in the retriever."""

    def passages(self, keys: Sequence[object]) -> list[Passage]:
        """The passages for ``keys`` (from the rankings above), in order."""

    def passages_of(self, doc_ids: Sequence[str]) -> list[Passage]:
        """Every passage of these documents, in document order."""

    def dense_scores(self, keys: Sequence[object], qvec: np.ndarray) -> list[float]:
        """Inner product of each passage's vector with ``qvec``."""

    def bm25_scores(self, keys: Sequence[object], query: str) -> list[float]:
        """BM25 score of each passage for ``query`` (0 where no query term occurs)."""

    def doc_freq(self, term: str) -> int:
        """Number of passages holding the (stemmed) term."""

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of a (stemmed) term."""

    def __len__(self) -> int:
        """Number of passages."""

    def save(self, path=None) -> None:
        """Make the changes durable (local: write the folder atomically)."""

    def close(self) -> None:
        """Release files and connections."""

    def commit(self, location, changed: bool) -> None:
        """After a refresh: make ``changed`` state durable at ``location`` where the store
        needs telling (a local folder is written; Milvus keeps changes as they are made)."""


class StoredDocuments(Mapping):
    """The documents of a store as a read-only mapping by id, fetched when asked for (and a few
    kept): answering reads the documents of the passages found, never all of them."""

    def __init__(self, store: Store, keep: int = 256) -> None:
        self._store = store
        self._keep = keep
        self._cache: dict[str, Document] = {}

    def _ids(self) -> list[str]:
        return [e.id for e in self._store.entries().values()]

    def __getitem__(self, doc_id: str) -> Document:
        doc = self._cache.get(doc_id)
        if doc is None:
            doc = self._store.documents([doc_id]).get(doc_id)
            if doc is None:
                raise KeyError(doc_id)
            if len(self._cache) >= self._keep:
                self._cache.clear()
            self._cache[doc_id] = doc
        return doc

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids())

    def __len__(self) -> int:
        return len(self._store.entries())

    def values(self):
        ids = self._ids()
        found = self._store.documents(ids)
        return [found[i] for i in ids if i in found]


def parse_store(uri: str) -> tuple[str, str]:
    """(kind, location) of a store URI: ``local:DIR`` or a bare folder -> local;
    ``milvus:FILE.db`` -> milvus-lite; ``http(s)://...`` -> a Milvus server."""
    if not isinstance(uri, str) or not uri.strip():
        raise ConfigError(f"store {uri!r} is empty: give {STORE_HELP}")
    uri = uri.strip()
    if uri.startswith(("http://", "https://", "tcp://")):
        return "milvus", uri
    if uri.startswith("milvus:"):
        where = uri[len("milvus:"):]
        if where.startswith("//"):  # milvus://host:port
            return "milvus", "http:" + where
        if not where.endswith(".db"):
            raise ConfigError(f"store {uri!r}: an embedded Milvus file must end in .db "
                              f"(milvus-lite's rule), e.g. milvus:./index.db")
        return "milvus", where
    if uri.startswith("local:"):
        return "local", uri[len("local:"):]
    scheme, _, rest = uri.partition(":")
    if rest and scheme in KINDS:  # a registered kind: KIND:LOCATION
        return scheme, rest
    if ":" in uri.split("/")[0] and len(uri.split(":")[0]) > 1:
        raise ConfigError(f"store {uri!r}: unknown scheme; give {STORE_HELP}")
    return "local", uri
