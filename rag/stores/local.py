"""The local store (default): documents and passages in this process, dense search by FAISS
(exact, or HNSW above a size), BM25 by bm25s; saved to a folder atomically (rag/index.py)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..index import PassageIndex, _text_hash, load_index, save_index, top_k
from ..types import Document, DocumentInfo, Passage
from . import Ranked


class LocalStore:
    """Passages of ``documents`` in a :class:`PassageIndex`; a key is a passage's row."""

    kind = "local"

    def __init__(self, documents: Sequence[Document], index: PassageIndex, meta: dict,
                 added: dict[str, str] | None = None, path: str | Path | None = None) -> None:
        self.docs: dict[str, Document] = {d.id: d for d in documents}
        self.index = index
        self.meta = meta
        self.added: dict[str, str] = dict(added or {})
        self.path = Path(path) if path is not None else None
        self._last_bm25: tuple[str, np.ndarray] | None = None

    @property
    def location(self) -> str:
        return str(self.path) if self.path is not None else "(in memory)"

    @classmethod
    def empty(cls, dim: int, ann: str, meta: dict, path=None) -> LocalStore:
        return cls([], PassageIndex([], np.zeros((0, dim), np.float32), ann=ann), meta, path=path)

    @classmethod
    def open(cls, path: str | Path, model_id: str, dim: int, ann: str,
             manifest: dict | None = None) -> LocalStore:
        """The index saved at ``path`` (IndexLoadError, saying how to fix it, when unusable)."""
        manifest, docs, index = load_index(path, model_id=model_id, dim=dim, ann=ann,
                                           manifest=manifest)
        entries = manifest.get("documents", {}).values()
        added = {e["id"]: e["added"] for e in entries if e.get("added")}
        return cls(docs, index, manifest, added, path)

    # ---- the manifest and documents -----------------------------------------------------

    def entries(self) -> dict[str, DocumentInfo]:
        counts: dict[str, int] = {}
        for p in self.index.passages:
            counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
        return {d.source: DocumentInfo(id=d.id, source=d.source, title=d.title,
                                       pages=len(d.page_starts) or None,
                                       passages=counts.get(d.id, 0), chars=len(d.text),
                                       added=self.added.get(d.id, ""),
                                       sha256=_text_hash(d.text))
                for d in self.docs.values()}

    def documents(self, ids: Sequence[str]) -> dict[str, Document]:
        return {i: self.docs[i] for i in ids if i in self.docs}

    def update(self, remove: Sequence[str], documents: Sequence[Document],
               passages: Sequence[Passage], vectors: np.ndarray, added: dict[str, str]) -> None:
        gone = set(remove) | {d.id for d in documents}
        kept_rows = [i for i, p in enumerate(self.index.passages) if p.doc_id not in gone]
        parts = [self.index.vectors[kept_rows]]
        if len(passages):
            parts.append(np.asarray(vectors, dtype=np.float32))
        for i in gone:
            self.docs.pop(i, None)
            self.added.pop(i, None)
        self.docs.update((d.id, d) for d in documents)
        self.added.update({d.id: added.get(d.id, "") for d in documents})
        self.index = PassageIndex([self.index.passages[i] for i in kept_rows] + list(passages),
                                  ann=self.index.ann,
                                  vectors=np.concatenate(parts) if len(parts) > 1 else parts[0])
        self._last_bm25 = None

    # ---- search -------------------------------------------------------------------------

    def dense(self, qvecs: np.ndarray, n: int) -> list[Ranked]:
        scores, idx = self.index.dense(qvecs, n)
        return [[(int(i), float(s)) for s, i in zip(row_s, row_i) if i >= 0]
                for row_s, row_i in zip(scores, idx)]

    def _bm25_all(self, query: str) -> np.ndarray:
        # The last query's scores are kept: hits then read their BM25 score from them.
        if self._last_bm25 is None or self._last_bm25[0] != query:
            self._last_bm25 = (query, self.index.bm25_scores(query))
        return self._last_bm25[1]

    def bm25(self, queries: Sequence[str], n: int) -> list[Ranked]:
        out = []
        for q in queries:
            scores = self._bm25_all(q)
            out.append([(int(i), float(scores[i])) for i in top_k(scores, n) if scores[i] > 0])
        return out

    def hybrid(self, qvecs, queries, n, rrf_k, candidates) -> None:
        return None  # fused by the retriever (rag/fusion.py)

    def passages(self, keys: Sequence[object]) -> list[Passage]:
        return [self.index.passages[int(k)] for k in keys]

    def passages_of(self, doc_ids: Sequence[str]) -> list[Passage]:
        wanted = set(doc_ids)
        return sorted((p for p in self.index.passages if p.doc_id in wanted),
                      key=lambda p: (p.doc_id, p.start, p.end))

    def dense_scores(self, keys: Sequence[object], qvec: np.ndarray) -> list[float]:
        rows = [int(k) for k in keys]
        return [float(s) for s in self.index.vectors[rows] @ qvec] if rows else []

    def bm25_scores(self, keys: Sequence[object], query: str) -> list[float]:
        scores = self._bm25_all(query)
        return [float(scores[int(k)]) for k in keys]

    def doc_freq(self, term: str) -> int:
        return self.index.doc_freq(term)

    def idf(self, term: str) -> float:
        return self.index.idf(term)

    def __len__(self) -> int:
        return len(self.index)

    # ---- persistence --------------------------------------------------------------------

    def save(self, path: str | Path | None = None) -> None:
        """Write the folder (``path``, else where it was opened) atomically."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("this index was built in memory: give a folder to save it to")
        m = self.meta
        save_index(target, list(self.docs.values()), self.index, m["model_id"], m["chunking"],
                   added=self.added, folders=m.get("folders", {}),
                   backend=m.get("backend", "torch"))
        self.path = target

    def close(self) -> None:
        pass
