"""An incremental BM25 index (Lucene's variant, scored as bm25s scores it), for the local store.

bm25s precomputes every (term, passage) score, so its index is rebuilt whole when one passage is
added or removed. Here postings keep raw term frequencies and scores are computed at query time
from live statistics (passage count, average length, document frequencies): adding passages
appends a block of postings, removing them masks their rows. Postings live in compressed-row
blocks (term -> rows, term frequencies): the first as built or loaded (saved as .npy arrays),
then one per addition; small blocks are merged as they pile up, all of them by
:meth:`BM25.compact`. Tokens come from :func:`rag.index.bm25_tokenize` (bm25s' tokenizer,
English stop words and stemmer).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

K1, B = 1.5, 0.75  # bm25s' defaults
MAX_BLOCKS = 8     # more than this: the blocks after the first are merged into one


def idf(passages: int, df: int) -> float:
    """BM25's (Lucene's) inverse document frequency, as bm25s and Milvus compute it."""
    return float(np.log(1 + (passages - df + 0.5) / (df + 0.5)))


class _Block:
    """Postings of some rows in compressed-row form: term t's rows are
    ``rows[indptr[t]:indptr[t + 1]]`` (ascending), with their term frequencies."""

    def __init__(self, indptr: np.ndarray, rows: np.ndarray, tfs: np.ndarray) -> None:
        self.indptr, self.rows, self.tfs = indptr, rows, tfs

    @classmethod
    def build(cls, terms: np.ndarray, rows: np.ndarray, tfs: np.ndarray, n_terms: int) -> _Block:
        order = np.lexsort((rows, terms))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(terms, minlength=n_terms))])
        return cls(indptr.astype(np.int64), rows[order].astype(np.int32),
                   tfs[order].astype(np.float32))

    def postings(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        if t + 1 >= len(self.indptr):  # a term first seen after this block was built
            return self.rows[:0], self.tfs[:0]
        a, b = self.indptr[t], self.indptr[t + 1]
        return self.rows[a:b], self.tfs[a:b]

    def triples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(terms, rows, tfs) of every posting."""
        counts = np.diff(self.indptr)
        return np.repeat(np.arange(len(counts)), counts), self.rows, self.tfs


class BM25:
    """BM25 over rows 0..n-1 (a passage's row in the store). ``add`` appends rows; ``delete``
    masks them. Scores equal bm25s' ``BM25().get_scores`` over the live rows."""

    def __init__(self, k1: float = K1, b: float = B) -> None:
        self.k1, self.b = k1, b
        self.vocab: dict[str, int] = {}
        self.blocks: list[_Block] = []
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

    def add(self, tokens: Sequence[Sequence[str]]) -> None:
        """Append one row per token list."""
        if not len(tokens):
            return
        first = self.size
        vocab = self.vocab
        ids = [vocab.setdefault(t, len(vocab)) for toks in tokens for t in toks]
        lengths = np.fromiter((len(t) for t in tokens), np.int64, len(tokens))
        n_terms = len(vocab)
        if n_terms > len(self.df):
            self.df = np.concatenate([self.df, np.zeros(n_terms - len(self.df), np.int64)])
        if ids:
            rows = np.repeat(np.arange(first, first + len(tokens), dtype=np.int64), lengths)
            pairs, tfs = np.unique(rows * n_terms + np.asarray(ids, np.int64),
                                   return_counts=True)
            terms, rows = pairs % n_terms, pairs // n_terms
            self.df += np.bincount(terms, minlength=n_terms)
            self.blocks.append(_Block.build(terms, rows, tfs, n_terms))
        self.lengths = np.concatenate([self.lengths, lengths.astype(np.float32)])
        self.alive = np.concatenate([self.alive, np.ones(len(tokens), bool)])
        self.live += len(tokens)
        self.total += float(lengths.sum())
        if len(self.blocks) > MAX_BLOCKS:
            self._merge(self.blocks[1:], into=1)

    def delete(self, rows: Sequence[int]) -> None:
        """Mask ``rows`` (the statistics follow; their postings stay until :meth:`compact`)."""
        rows = np.unique(np.asarray(rows, np.int64))
        rows = rows[self.alive[rows]] if len(rows) else rows
        if not len(rows):
            return
        # The terms of the deleted rows, from the postings: no need to tokenize them again.
        for block in self.blocks:
            terms, brows, _ = block.triples()
            hit = np.isin(brows, rows)
            if hit.any():
                self.df -= np.bincount(terms[hit], minlength=len(self.df))
        self.alive[rows] = False
        self.live -= len(rows)
        self.total -= float(self.lengths[rows].sum())

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
            weight = idf(self.live, int(self.df[t]))
            for block in self.blocks:
                rows, tfs = block.postings(t)
                if not len(rows):
                    continue
                norm = self.k1 * (1 - self.b + self.b * self.lengths[rows] / avg)
                if acc is None:
                    acc = np.zeros(self.size, np.float32)
                acc[rows] += (weight * tfs / (norm + tfs)).astype(np.float32)  # unique per block
        if acc is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        acc[~self.alive] = 0
        rows = np.flatnonzero(acc)
        return rows, acc[rows]

    def _merge(self, blocks: list[_Block], into: int, keep: np.ndarray | None = None) -> None:
        parts = [b.triples() for b in blocks]
        terms = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        rows = np.concatenate([p[1] for p in parts]).astype(np.int64) if parts else terms
        tfs = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.float32)
        if keep is not None:  # renumber: row keep[i] becomes i, deleted rows go
            new_row = np.full(self.size, -1, np.int64)
            new_row[keep] = np.arange(len(keep))
            rows = new_row[rows]
            ok = rows >= 0
            terms, rows, tfs = terms[ok], rows[ok], tfs[ok]
        merged = _Block.build(terms, rows, tfs, len(self.vocab))
        self.blocks = self.blocks[:into] + [merged]

    def compact(self, keep: np.ndarray | None = None) -> None:
        """Merge every block into one. With ``keep`` (the live rows, ascending), drop the
        deleted rows too: row ``keep[i]`` becomes row ``i``."""
        if keep is None and len(self.blocks) <= 1:
            return
        self._merge(self.blocks, into=0, keep=keep)
        if keep is not None:
            self.lengths = self.lengths[keep]
            self.alive = self.alive[keep]

    # ---- persistence (numpy arrays + a JSON vocabulary; never pickle) --------------------

    FILES = ("bm25-vocab.json", "bm25-indptr.npy", "bm25-rows.npy", "bm25-tfs.npy",
             "bm25-lengths.npy", "bm25-alive.npy", "bm25-df.npy")

    def save(self, folder: Path) -> list[str]:
        """Write the index (one block) into ``folder``; returns the file names."""
        self.compact()
        block = self.blocks[0] if self.blocks else _Block(np.zeros(len(self.vocab) + 1, np.int64),
                                                          np.zeros(0, np.int32),
                                                          np.zeros(0, np.float32))
        terms = sorted(self.vocab, key=self.vocab.get)
        (folder / self.FILES[0]).write_text(json.dumps(terms, ensure_ascii=False))
        for name, array in zip(self.FILES[1:], (block.indptr, block.rows, block.tfs,
                                                self.lengths, self.alive, self.df)):
            np.save(folder / name, array, allow_pickle=False)
        return list(self.FILES)

    @classmethod
    def load(cls, folder: Path, k1: float = K1, b: float = B) -> BM25:
        bm = cls(k1, b)
        terms = json.loads((folder / cls.FILES[0]).read_text(encoding="utf-8"))
        bm.vocab = {t: i for i, t in enumerate(terms)}
        indptr, rows, tfs, bm.lengths, bm.alive, bm.df = (
            np.load(folder / name, allow_pickle=False) for name in cls.FILES[1:])
        bm.blocks = [_Block(indptr, rows, tfs)]
        bm.live = int(bm.alive.sum())
        bm.total = float(bm.lengths[bm.alive].sum())
        if len(indptr) > len(terms) + 1 or len(bm.df) != len(terms) or indptr[-1] != len(rows):
            raise ValueError(f"BM25 files disagree: {len(terms)} terms, {len(indptr) - 1} "
                             f"posting lists, {len(bm.df)} frequencies")
        return bm
