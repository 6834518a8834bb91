"""An incremental BM25 index (Lucene's variant, scored as bm25s scores it), for the local store.

bm25s precomputes every (term, passage) score, so its index is rebuilt whole when one passage is
added or removed. Here postings keep raw term frequencies and scores are computed at query time
from live statistics (passage count, average length, document frequencies): adding a document
appends its postings, removing one masks its rows. Postings live in one compressed-row block
(built at once, saved as .npy arrays) plus a small block of later additions, merged by
:meth:`BM25.compact`. Tokens come from :func:`rag.index.bm25_tokenize` (bm25s' tokenizer, English
stop words and stemmer).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

K1, B = 1.5, 0.75  # bm25s' defaults


class BM25:
    """BM25 over rows 0..n-1 (a passage's row in the store). ``add`` appends rows; ``delete``
    masks them. Scores equal bm25s' ``BM25().get_scores`` over the live rows."""

    def __init__(self, k1: float = K1, b: float = B) -> None:
        self.k1, self.b = k1, b
        self.vocab: dict[str, int] = {}
        # The block: postings of term t are rows[indptr[t]:indptr[t + 1]] (and their tfs).
        self.indptr = np.zeros(1, np.int64)
        self.rows = np.zeros(0, np.int32)
        self.tfs = np.zeros(0, np.float32)
        # Later additions: term id -> (rows, tfs) lists.
        self.extra: dict[int, tuple[list[int], list[int]]] = {}
        self.lengths = np.zeros(0, np.float32)  # tokens per row
        self.alive = np.zeros(0, bool)
        self.df = np.zeros(0, np.int64)          # live rows holding each term
        self.live = 0
        self.total = 0.0                         # tokens over live rows

    def __len__(self) -> int:
        return self.live

    @property
    def size(self) -> int:
        """Rows ever added (live or deleted)."""
        return len(self.lengths)

    def _grow(self, n: int) -> None:
        self.lengths = np.concatenate([self.lengths, np.zeros(n, np.float32)])
        self.alive = np.concatenate([self.alive, np.zeros(n, bool)])

    def _term(self, term: str) -> int:
        t = self.vocab.get(term)
        if t is None:
            t = self.vocab[term] = len(self.vocab)
            if t >= len(self.df):  # room for more terms, doubling
                self.df = np.concatenate([self.df, np.zeros(max(16, len(self.df)), np.int64)])
        return t

    def add(self, tokens: Sequence[Sequence[str]]) -> None:
        """Append one row per token list."""
        first = self.size
        self._grow(len(tokens))
        for i, toks in enumerate(tokens):
            row = first + i
            counts = Counter(toks)
            for term, tf in counts.items():
                t = self._term(term)
                rows, tfs = self.extra.setdefault(t, ([], []))
                rows.append(row)
                tfs.append(tf)
                self.df[t] += 1
            self.lengths[row] = len(toks)
            self.alive[row] = True
            self.live += 1
            self.total += len(toks)

    def delete(self, rows: Sequence[int]) -> None:
        """Mask ``rows`` (the statistics follow; their postings stay until :meth:`compact`)."""
        rows = np.asarray([r for r in dict.fromkeys(int(r) for r in rows) if self.alive[r]],
                          np.int64)
        if not len(rows):
            return
        # The terms of the deleted rows, from the postings: no need to tokenize them again.
        hit = np.isin(self.rows, rows)
        counts = np.diff(self.indptr)
        terms = np.repeat(np.arange(len(counts)), counts)[hit]
        gone = set(rows.tolist())
        extra = [t for t, (rs, _) in self.extra.items() for r in rs if r in gone]
        self.df[:len(self.vocab)] -= np.bincount(np.concatenate([terms, extra]).astype(np.int64),
                                                 minlength=len(self.vocab))[:len(self.vocab)]
        self.alive[rows] = False
        self.live -= len(rows)
        self.total -= float(self.lengths[rows].sum())

    def _postings(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        if t + 1 < len(self.indptr):  # terms after the block was built have no postings there
            a, b = self.indptr[t], self.indptr[t + 1]
            rows, tfs = self.rows[a:b], self.tfs[a:b]
        else:
            rows, tfs = self.rows[:0], self.tfs[:0]
        more = self.extra.get(t)
        if more:
            rows = np.concatenate([rows, np.asarray(more[0], np.int32)])
            tfs = np.concatenate([tfs, np.asarray(more[1], np.float32)])
        return rows, tfs

    def scores(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the live rows holding a query term (each query token counts, as in
        bm25s), rows ascending. Costs the query terms' postings plus one pass over the rows."""
        if self.live == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        avg = self.total / self.live
        acc = None
        for term in tokens:
            t = self.vocab.get(term)
            if t is None or self.df[t] <= 0:
                continue
            rows, tfs = self._postings(t)
            idf = np.log(1 + (self.live - self.df[t] + 0.5) / (self.df[t] + 0.5))
            norm = self.k1 * (1 - self.b + self.b * self.lengths[rows] / avg)
            if acc is None:
                acc = np.zeros(self.size, np.float32)
            acc[rows] += (idf * tfs / (norm + tfs)).astype(np.float32)  # rows unique per term
        if acc is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        acc[~self.alive] = 0
        rows = np.flatnonzero(acc)
        return rows, acc[rows]

    def compact(self, keep: np.ndarray | None = None) -> None:
        """Merge the later additions into the block. With ``keep`` (the live rows, ascending),
        drop the deleted rows too: row ``keep[i]`` becomes row ``i``."""
        n_terms = len(self.vocab)
        parts_rows, parts_tfs, parts_terms = [], [], []
        counts = np.diff(self.indptr)
        if len(self.rows):
            parts_rows.append(self.rows)
            parts_tfs.append(self.tfs)
            parts_terms.append(np.repeat(np.arange(len(counts)), counts))
        for t, (rows, tfs) in self.extra.items():
            parts_rows.append(np.asarray(rows, np.int32))
            parts_tfs.append(np.asarray(tfs, np.float32))
            parts_terms.append(np.full(len(rows), t))
        rows = np.concatenate(parts_rows) if parts_rows else np.zeros(0, np.int32)
        tfs = np.concatenate(parts_tfs) if parts_tfs else np.zeros(0, np.float32)
        terms = np.concatenate(parts_terms) if parts_terms else np.zeros(0, np.int64)
        if keep is not None:
            new_row = np.full(self.size, -1, np.int64)
            new_row[keep] = np.arange(len(keep))
            mapped = new_row[rows]
            ok = mapped >= 0
            rows, tfs, terms = mapped[ok].astype(np.int32), tfs[ok], terms[ok]
            self.lengths = self.lengths[keep]
            self.alive = self.alive[keep]
        order = np.lexsort((rows, terms))
        self.rows, self.tfs = rows[order], tfs[order]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(terms, minlength=n_terms))]
                                     ).astype(np.int64)
        self.extra = {}
        self.df = self.df[:n_terms].copy()

    # ---- persistence (numpy arrays + a JSON vocabulary; never pickle) --------------------

    FILES = ("bm25-vocab.json", "bm25-indptr.npy", "bm25-rows.npy", "bm25-tfs.npy",
             "bm25-lengths.npy", "bm25-alive.npy", "bm25-df.npy")

    def save(self, folder: Path) -> list[str]:
        """Write the index (compacted first) into ``folder``; returns the file names."""
        import json

        self.compact()
        terms = sorted(self.vocab, key=self.vocab.get)
        (folder / self.FILES[0]).write_text(json.dumps(terms, ensure_ascii=False))
        for name, array in zip(self.FILES[1:], (self.indptr, self.rows, self.tfs, self.lengths,
                                                self.alive, self.df)):
            np.save(folder / name, array, allow_pickle=False)
        return list(self.FILES)

    @classmethod
    def load(cls, folder: Path, k1: float = K1, b: float = B) -> BM25:
        import json

        bm = cls(k1, b)
        terms = json.loads((folder / cls.FILES[0]).read_text(encoding="utf-8"))
        bm.vocab = {t: i for i, t in enumerate(terms)}
        bm.indptr, bm.rows, bm.tfs, bm.lengths, bm.alive, bm.df = (
            np.load(folder / name, allow_pickle=False) for name in cls.FILES[1:])
        bm.live = int(bm.alive.sum())
        bm.total = float(bm.lengths[bm.alive].sum())
        if len(bm.indptr) != len(terms) + 1 or len(bm.df) != len(terms):
            raise ValueError(f"BM25 files disagree: {len(terms)} terms, {len(bm.indptr) - 1} "
                             f"posting lists, {len(bm.df)} frequencies")
        return bm
