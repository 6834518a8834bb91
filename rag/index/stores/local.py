"""The local store (default): documents and passages in this process, dense search by FAISS
(exact, or HNSW above a size), BM25 by rag.bm25; changed in place and saved to a folder by
segments (rag/index/persist.py)."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...errors import IndexLoadError
from ...types import Document, DocumentInfo, Passage
from ..passages import PassageIndex, _text_hash
from ..persist import Saved, load_index, save_index
from . import Ranked

log = logging.getLogger(__name__)


class LocalStore:
    """Passages of ``documents`` in a :class:`PassageIndex`; a key is a passage's row."""

    kind = "local"

    def __init__(self, documents: Sequence[Document], index: PassageIndex, meta: dict,
                 added: dict[str, str] | None = None, path: str | Path | None = None,
                 hashes: dict[str, str] | None = None, saved: Saved | None = None) -> None:
        self.docs: dict[str, Document] = {d.id: d for d in documents}
        self.index = index
        self.meta = meta
        self.added: dict[str, str] = dict(added or {})
        self.path = Path(path) if path is not None else None
        self.hashes = {i: (hashes or {}).get(i) or _text_hash(d.text)
                       for i, d in self.docs.items()}
        self._saved = saved
        self._changed: set[str] = set()  # documents added or replaced since the last save
        self._entries: dict[str, DocumentInfo] | None = None

    @property
    def location(self) -> str:
        return str(self.path) if self.path is not None else "(in memory)"

    # ---- the store-kind protocol (rag.index.stores.KINDS) ---------------------------------

    @classmethod
    def attach(cls, location: str | None) -> tuple[dict, None]:
        """(the saved manifest, {} when there is none or it is unreadable; no connection)."""
        from ..persist import read_manifest, recover

        if location is None:
            return {}, None
        recover(location)  # a save killed half-way leaves the previous or the next version
        if (Path(location) / "manifest.json").exists():
            try:
                return read_manifest(location), None
            except IndexLoadError as e:
                log.warning("rebuilding the index: %s", e)
        return {}, None

    @classmethod
    def reopen(cls, location, meta: dict, connection, embedder, settings) -> LocalStore:
        return cls.open(location, embedder.model_id, embedder.dim, settings.ann, manifest=meta)

    @classmethod
    def make(cls, location, meta: dict, connection, embedder, settings) -> LocalStore:
        return cls.empty(embedder.dim, settings.ann, meta, path=location)

    def commit(self, location, changed: bool) -> None:
        """Write what changed to the folder (nothing for an index kept in memory)."""
        if location is not None and changed:
            self.save(location)

    @classmethod
    def empty(cls, dim: int, ann: str, meta: dict, path=None) -> LocalStore:
        return cls([], PassageIndex([], np.zeros((0, dim), np.float32), ann=ann), meta, path=path)

    @classmethod
    def open(cls, path: str | Path, model_id: str, dim: int, ann: str,
             manifest: dict | None = None) -> LocalStore:
        """The index saved at ``path`` (IndexLoadError, saying how to fix it, when unusable)."""
        manifest, docs, index, saved = load_index(path, model_id=model_id, dim=dim, ann=ann,
                                                  manifest=manifest)
        entries = manifest.get("documents", {}).values()
        added = {e["id"]: e["added"] for e in entries if e.get("added")}
        hashes = {e["id"]: e["sha256"] for e in entries}
        return cls(docs, index, manifest, added, path, hashes, saved)

    # ---- the manifest and documents -----------------------------------------------------

    def set_meta(self, **changes) -> None:
        """Change index-level manifest fields (written with the next save)."""
        self.meta = {**self.meta, **changes}

    def _entry(self, d: Document) -> DocumentInfo:
        return DocumentInfo(id=d.id, source=d.source, title=d.title,
                            pages=len(d.page_starts) or None,
                            passages=len(self.index.rows_of(d.id)), chars=len(d.text),
                            added=self.added.get(d.id, ""), sha256=self.hashes[d.id])

    def entries(self) -> dict[str, DocumentInfo]:
        # Kept, and changed with each update: a large index lists its documents once.
        if self._entries is None:
            self._entries = {d.source: self._entry(d) for d in self.docs.values()}
        return dict(self._entries)

    def documents(self, ids: Sequence[str]) -> dict[str, Document]:
        return {i: self.docs[i] for i in ids if i in self.docs}

    def update(self, remove: Sequence[str], documents: Sequence[Document],
               passages: Sequence[Passage], vectors: np.ndarray, added: dict[str, str]) -> None:
        gone = list(dict.fromkeys([*remove, *(d.id for d in documents)]))
        self.index.delete(gone)
        for i in gone:
            if self._entries is not None and i in self.docs:
                self._entries.pop(self.docs[i].source, None)
            self.docs.pop(i, None)
            self.added.pop(i, None)
            self.hashes.pop(i, None)
        for d in documents:
            self.docs[d.id] = d
            self.added[d.id] = added.get(d.id, "")
            self.hashes[d.id] = _text_hash(d.text)
            self._changed.add(d.id)
        self.index.add(list(passages), vectors)
        if self._entries is not None:
            self._entries.update((d.source, self._entry(d)) for d in documents)

    # ---- search -------------------------------------------------------------------------

    def dense(self, qvecs: np.ndarray, n: int) -> list[Ranked]:
        scores, idx = self.index.dense(qvecs, n)
        return [[(int(i), float(s)) for s, i in zip(row_s, row_i) if i >= 0]
                for row_s, row_i in zip(scores, idx)]

    def bm25(self, queries: Sequence[str], n: int) -> list[Ranked]:
        out = []
        for q in queries:
            rows, scores = self.index.bm25_top(q, n)
            out.append(list(zip(rows.tolist(), scores.tolist())))
        return out

    def hybrid(self, qvecs, queries, n, rrf_k, candidates) -> None:
        return None  # fused by the retriever (rag/index/fusion.py)

    def passages(self, keys: Sequence[object]) -> list[Passage]:
        return [self.index.passages[int(k)] for k in keys]

    def passages_of(self, doc_ids: Sequence[str]) -> list[Passage]:
        return sorted((self.index.passages[r] for d in set(doc_ids)
                       for r in self.index.rows_of(d)), key=lambda p: (p.doc_id, p.start, p.end))

    def dense_scores(self, keys: Sequence[object], qvec: np.ndarray) -> list[float]:
        rows = [int(k) for k in keys]
        return [float(s) for s in self.index.vectors_of(rows) @ qvec] if rows else []

    def bm25_scores(self, keys: Sequence[object], query: str) -> list[float]:
        return self.index.bm25_score_of([int(k) for k in keys], query)

    def doc_freq(self, term: str) -> int:
        return self.index.doc_freq(term)

    def idf(self, term: str) -> float:
        return self.index.idf(term)

    def __len__(self) -> int:
        return len(self.index)

    # ---- persistence --------------------------------------------------------------------

    def save(self, path: str | Path | None = None) -> None:
        """Write the changes to the folder (``path``, else where it was opened): a small delta
        segment when it holds this index already, else a fresh base (rag/index/persist.py)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("this index was built in memory: give a folder to save it to")
        self._saved = save_index(target, self.docs, self.index, self.meta, self.added,
                                 self.hashes, self._saved, self._changed)
        self._changed = set()
        self.path = target

    def close(self) -> None:
        pass
