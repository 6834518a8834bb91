"""The passage index in memory: FAISS over normalised embeddings and BM25 over the same passages,
changed in place as documents come and go (its files: rag/index/persist.py)."""
from __future__ import annotations

import hashlib

import numpy as np

from ..types import Passage

# Settings(ann="auto") searches exactly up to this many passages, by HNSW above: exact search
# costs ~1 ms per 10,000 passages a query on 2 cores; HNSW stays ~1 ms at a million, at a recall@10
# measured against exact search (docs/decisions.md, "Approximate search").
ANN_AUTO_PASSAGES = 100_000
HNSW_M = 32              # links per vector (memory: ~M x 8 bytes a vector on top of the vector)
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 128     # candidates explored per query: recall against speed


def resolve_ann(ann: str, passages: int) -> str:
    """"exact" or "hnsw" for a setting ("auto", "exact", "hnsw") and an index size."""
    if ann == "auto":
        return "hnsw" if passages > ANN_AUTO_PASSAGES else "exact"
    return ann


def top_k(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` highest scores, best first (ties: lower index first), without sorting
    every score: a partition, then a sort of the ``n`` kept."""
    if n <= 0 or len(scores) == 0:
        return np.zeros(0, dtype=np.int64)
    if n >= len(scores):
        idx = np.arange(len(scores))
    else:  # all above the n-th best score, then the first of those equal to it
        kth = -np.partition(-scores, n - 1)[n - 1]
        above = np.flatnonzero(scores > kth)
        idx = np.concatenate([above, np.flatnonzero(scores == kth)[:n - len(above)]])
    return idx[np.lexsort((idx, -scores[idx]))]


def bm25_tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, English-stemmed tokens without stop words (passages and queries alike)."""
    import bm25s
    import Stemmer

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(Stemmer), return_ids=False,
                          show_progress=False)


def unaccented(term: str) -> str:
    """``term`` without its accents: "temür" -> "temur", "josé" -> "jose" (names are often
    typed without them)."""
    if term.isascii():
        return term
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", term) if not unicodedata.combining(c))


def _passage_terms(passages) -> list[str]:
    """Each passage's distinct terms, unaccented: what :meth:`PassageIndex.doc_freq` counts."""
    return [unaccented(t) for tokens in bm25_tokenize([p.text for p in passages])
            for t in set(tokens)]


def stems(words: list[str]) -> list[str]:
    """English stems of ``words`` (lower-cased), as BM25 reads them: "rejecting" -> "reject"."""
    import Stemmer

    return _stemmer(Stemmer).stemWords([w.lower() for w in words])


_STEMMER = None


def _stemmer(module):
    global _STEMMER
    if _STEMMER is None:
        _STEMMER = module.Stemmer("english")
    return _STEMMER


class PassageIndex:
    """Passages with their embeddings, searchable densely (FAISS: exact inner product, or HNSW
    above a size, see ``ANN_AUTO_PASSAGES``) and by BM25 (:class:`rag.bm25.BM25`).
    ``vectors[i]`` is the embedding of ``passages[i]``.

    It changes in place: :meth:`add` appends rows, :meth:`delete` masks a document's rows (they
    stay, dead, until :meth:`compact` drops them and renumbers the rest). Search never returns a
    dead row. Added rows go to a small exact FAISS index beside the main one (growing the main
    one would copy all its vectors), searched with it and merged into it by :meth:`compact`. The
    vectors are held once, inside FAISS. Give either ``vectors`` or a FAISS index
    (``faiss_index``, as read from disk); one of another kind than ``ann`` asks for is rebuilt
    from its own vectors."""

    def __init__(self, passages: list[Passage], vectors: np.ndarray | None = None,
                 ann: str = "auto", faiss_index=None, dim: int | None = None,
                 alive: np.ndarray | None = None, bm25=None) -> None:
        self.passages = list(passages)
        self.ann = ann
        self.alive = (np.ones(len(self.passages), bool) if alive is None
                      else np.asarray(alive, bool).copy())
        self._bm25 = bm25
        self._df = None
        self._rows_of: dict[str, list[int]] | None = None
        self._live = int(self.alive.sum())  # kept by add/delete/compact: len() is on hot paths
        self.generation = 0  # bumped when rows are renumbered (compact)
        # Exact or HNSW is chosen here and by compact(), never by add(): adding a document must
        # not rebuild a graph (a save rebuilds when the size has crossed the limit).
        self.kind = resolve_ann(ann, len(self))
        self._version = 0     # bumped by every change (cached query results expire)
        self._last_query = None
        kind = self.kind
        if faiss_index is not None and _kind_of(faiss_index) == kind:
            index = faiss_index
        else:
            if vectors is None:
                vectors = _storage_view(faiss_index) if faiss_index is not None else None
            if vectors is None:
                raise ValueError("PassageIndex needs vectors or a FAISS index")
            index = _new_faiss(kind, np.ascontiguousarray(vectors, dtype=np.float32), dim)
        if kind == "hnsw":
            index.hnsw.efSearch = HNSW_EF_SEARCH
        if index.ntotal != len(self.passages) or len(self.alive) != len(self.passages):
            raise ValueError(f"{len(self.passages)} passages but {index.ntotal} vectors")
        self._set_faiss(index)

    def _set_faiss(self, index) -> None:
        self._faiss = index
        self._view = _storage_view(index)  # valid until the index is added to
        self._view.flags.writeable = False
        self._more = None  # rows added since: a flat index of their own
        self._more_view = self._view[:0]

    @property
    def vectors(self) -> np.ndarray:
        """The embeddings, one row per passage (dead ones too): a read-only view of the FAISS
        storage (a copy while rows added since the last :meth:`compact` sit apart)."""
        if self._more is None:
            return self._view
        return np.concatenate([self._view, self._more_view])

    def vectors_of(self, rows) -> np.ndarray:
        """The embeddings of these rows (no copy of the others)."""
        rows = np.asarray(rows, np.int64)
        main = len(self._view)
        if self._more is None or not len(rows) or rows.max() < main:
            return self._view[rows]
        out = np.empty((len(rows), self.dim), np.float32)
        low = rows < main
        out[low] = self._view[rows[low]]
        out[~low] = self._more_view[rows[~low] - main]
        return out

    @property
    def dim(self) -> int:
        return int(self._faiss.d)

    def __len__(self) -> int:
        """Live passages."""
        return self._live

    @property
    def size(self) -> int:
        """Rows, live or dead."""
        return len(self.passages)

    @property
    def dead(self) -> int:
        return self.size - len(self)

    @property
    def needs_rebuild(self) -> bool:
        """True when the setting asks for another kind at this size (the next base save, or
        :meth:`compact`, rebuilds)."""
        return resolve_ann(self.ann, len(self)) != self.kind

    @property
    def faiss_index(self):
        return self._faiss

    def live_passages(self) -> list[Passage]:
        return [p for p, ok in zip(self.passages, self.alive) if ok]

    # ---- changes ------------------------------------------------------------------------

    def rows_of(self, doc_id: str) -> list[int]:
        """Live rows of a document."""
        if self._rows_of is None:
            rows: dict[str, list[int]] = {}
            for i, p in enumerate(self.passages):
                if self.alive[i]:
                    rows.setdefault(p.doc_id, []).append(i)
            self._rows_of = rows
        return self._rows_of.get(doc_id, [])

    def add(self, passages: list[Passage], vectors: np.ndarray) -> None:
        """Append passages (``vectors[i]`` embeds ``passages[i]``)."""
        if not passages:
            return
        self._version += 1
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        first = self.size
        if self._more is None:
            self._more = _new_faiss("exact", vectors[:0], self.dim)
        self._more.add(vectors)
        self._more_view = _storage_view(self._more)
        self.passages.extend(passages)
        self.alive = np.concatenate([self.alive, np.ones(len(passages), bool)])
        self._live += len(passages)
        if self._rows_of is not None:
            for i, p in enumerate(passages, start=first):
                self._rows_of.setdefault(p.doc_id, []).append(i)
        if self._bm25 is not None:
            self._bm25.add(_bm25_tokens(passages))
        if self._df is not None:
            self._df.update(_passage_terms(passages))

    def delete(self, doc_ids) -> int:
        """Mask the rows of these documents; returns how many."""
        rows = [r for d in dict.fromkeys(doc_ids) for r in self.rows_of(d)]
        if not rows:
            return 0
        self._version += 1
        self.alive[rows] = False
        self._live -= len(rows)
        for d in doc_ids:
            self._rows_of.pop(d, None)
        if self._bm25 is not None:
            self._bm25.delete(rows)
        if self._df is not None:
            self._df.subtract(_passage_terms([self.passages[r] for r in rows]))
        return len(rows)

    def compact(self) -> None:
        """Merge the rows added since into the main FAISS index; drop the dead rows (the live
        ones are renumbered 0..n-1, FAISS and BM25 follow), and make dense search the kind the
        setting asks for at this size."""
        if self.dead == 0 and not self.needs_rebuild:
            if self._more is not None:  # no renumbering: the added rows join the main index
                self._faiss.add(np.ascontiguousarray(self._more_view))
                self._set_faiss(self._faiss)
            return
        self._version += 1
        keep = np.flatnonzero(self.alive)
        vectors = self.vectors_of(keep)
        self.passages = [self.passages[i] for i in keep]
        self.alive = np.ones(len(keep), bool)
        self._live = len(keep)
        self.kind = resolve_ann(self.ann, len(keep))
        index = _new_faiss(self.kind, np.ascontiguousarray(vectors), self.dim)
        if self.kind == "hnsw":
            index.hnsw.efSearch = HNSW_EF_SEARCH
        self._set_faiss(index)
        if self._bm25 is not None:
            self._bm25.compact(keep)
        self._rows_of = None
        self.generation += 1

    # ---- search -------------------------------------------------------------------------

    def dense(self, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` (scores, rows) per query by inner product (cosine: vectors are unit); live
        rows only (-1 pads a short row)."""
        n = min(n, len(self))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if n == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        main = len(self._view)
        # Enough to keep n after dropping the dead, from the main index and the added rows.
        scores, idx = self._faiss.search(queries, min(n + self.dead, main)) if main else \
            (np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64))
        if self._more is not None and self._more.ntotal:
            s2, i2 = self._more.search(queries, min(n + self.dead, self._more.ntotal))
            scores = np.concatenate([scores, s2], axis=1)
            idx = np.concatenate([idx, np.where(i2 >= 0, i2 + main, -1)], axis=1)
            order = np.argsort(-scores, axis=1, kind="stable")
            scores = np.take_along_axis(scores, order, axis=1)
            idx = np.take_along_axis(idx, order, axis=1)
        if self.dead == 0:
            return scores[:, :n], idx[:, :n]
        out_s = np.full((len(queries), n), -np.inf, np.float32)
        out_i = np.full((len(queries), n), -1, np.int64)
        for q in range(len(queries)):
            ok = (idx[q] >= 0) & self.alive[np.maximum(idx[q], 0)]
            s, i = scores[q][ok][:n], idx[q][ok][:n]
            out_s[q, :len(s)], out_i[q, :len(i)] = s, i
        return out_s, out_i

    @property
    def bm25(self):
        """The BM25 index (built on first use from the passages, titles included)."""
        if self._bm25 is None:
            from .bm25 import BM25

            bm = BM25()
            bm.add(_bm25_tokens(self.passages))
            bm.delete(np.flatnonzero(~self.alive))
            bm.compact()
            self._bm25 = bm
        return self._bm25

    def doc_freq(self, term: str) -> int:
        """Number of live passages holding the (stemmed) term in their text, accents aside
        ("temur" counts "Temür")."""
        if self._df is None:
            from collections import Counter

            self._df = Counter(_passage_terms(self.live_passages()))
        return self._df.get(unaccented(term), 0)

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of a (stemmed) term over the passages."""
        from .bm25 import idf

        return idf(len(self), self.doc_freq(term))

    def bm25_matches(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows ascending, scores) of the live passages holding a term of ``query``, by BM25
        (the last query's are kept: a search and its hits' scores ask twice)."""
        cached = self._last_query
        if cached is not None and cached[0] == query and cached[1] == self._version:
            return cached[2], cached[3]
        tokens = bm25_tokenize([query])[0] if len(self) else []
        rows, scores = (self.bm25.scores(tokens) if tokens
                        else (np.zeros(0, np.int64), np.zeros(0, np.float32)))
        keep = scores > 0
        rows, scores = rows[keep], scores[keep]
        self._last_query = (query, self._version, rows, scores)
        return rows, scores

    def bm25_top(self, query: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the ``n`` best live passages for ``query`` by BM25, best first;
        only passages holding a query term. No score array over every passage is made."""
        rows, scores = self.bm25_matches(query)
        order = top_k(scores, n)  # ties: the lower row first (rows come ascending)
        return rows[order], scores[order]

    def bm25_score_of(self, rows, query: str) -> list[float]:
        """BM25 scores of these rows for ``query`` (0 where no query term occurs)."""
        matched, scores = self.bm25_matches(query)
        rows = np.asarray(rows, np.int64)
        at = np.searchsorted(matched, rows)
        found = (at < len(matched)) & (matched[np.minimum(at, max(len(matched) - 1, 0))] == rows) \
            if len(matched) else np.zeros(len(rows), bool)
        return [float(scores[a]) if ok else 0.0 for a, ok in zip(at, found)]


def _bm25_tokens(passages: list[Passage]) -> list[list[str]]:
    # Passages are indexed with their document title, which often names the subject.
    return bm25_tokenize([f"{p.title}\n{p.text}" for p in passages])


def _new_faiss(kind: str, vectors: np.ndarray, dim: int | None = None):
    import faiss

    d = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else int(dim or 0)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    else:
        index = faiss.IndexFlatIP(d)
    if len(vectors):
        index.add(vectors.reshape(-1, d))
    return index


def _kind_of(index) -> str:
    return "hnsw" if hasattr(index, "hnsw") else "exact"


def _storage_view(index) -> np.ndarray:
    """The vectors a flat or HNSW-flat FAISS index stores, as a numpy view (no copy)."""
    import faiss

    flat = faiss.downcast_index(index.storage) if hasattr(index, "hnsw") else index
    n, d = int(flat.ntotal), int(flat.d)
    if n == 0:
        return np.zeros((0, d), dtype=np.float32)
    raw = faiss.rev_swig_ptr(flat.get_xb(), n * d).reshape(n, d)
    # The view's base keeps the index alive: the memory is the index's.
    return np.asarray(_Keeper(raw, index))


class _Keeper:
    """Exposes an array's memory while holding the object that owns it."""

    def __init__(self, array: np.ndarray, owner) -> None:
        self.__array_interface__ = array.__array_interface__
        self.owner = owner


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
