"""Retriever: the public entry point. Builds, refreshes, saves and loads an index; searches it
densely, by BM25 or both fused (reciprocal rank fusion); answers with verified citations."""
from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .chunking import chunk_documents
from .embedders import VECTOR_SPACE, Embedder, backend_of, default_embedder
from .errors import ConfigError, IndexLoadError
from .index import PassageIndex, load_index, read_manifest, recover, save_index, top_k
from .loading import load_folder
from .readers.heuristic import compose_answer
from .settings import DEFAULT_BACKEND, HEURISTIC_THRESHOLD, Settings, check_k, check_mode
from .types import Answer, Document, DocumentInfo, Hit, IndexStats

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000
SENTENCE_CACHE = 50_000  # sentence embeddings kept for answers (384 floats each: ~75 MB at most)


UPLOADS_PREFIX = "uploads/"
# Bumped when sentence or block segmentation changes: passages of older indexes are re-cut.
SEGMENTER_VERSION = 2


def _chunking(settings: Settings) -> dict:
    """The settings that shape passages: an index built with others is rebuilt."""
    return {"max_tokens": settings.max_tokens, "overlap_sentences": settings.overlap_sentences,
            "html": settings.html, "segmenter": SEGMENTER_VERSION}


def _under(doc: Document, prefix: str) -> Document:
    """``doc`` cited as ``prefix + source`` (its id follows the new source)."""
    from .loading import doc_id_for

    source = prefix + doc.source
    return dataclasses.replace(doc, source=source, id=doc_id_for(source, doc.text))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def clean_query(query: str) -> tuple[str, str]:
    """(query, note): strips it, refuses an empty one, truncates a very long one with a note."""
    if not isinstance(query, str) or not query.strip():
        raise ConfigError("the question is empty: ask a question with at least one word")
    query = query.strip()
    if len(query) > MAX_QUERY_CHARS:
        return (query[:MAX_QUERY_CHARS],
                f"question truncated from {len(query)} to {MAX_QUERY_CHARS} characters")
    return query, ""


class Retriever:
    """A searchable index of documents.

    Build one with :meth:`from_folder` or :meth:`from_documents`, persist it with :meth:`save`
    and :meth:`load`; query it with :meth:`search`, :meth:`search_batch` and :meth:`ask`.
    The embedding model loads on first use, from local files only.
    """

    def __init__(self, documents: Sequence[Document], index: PassageIndex,
                 embedder: Embedder, settings: Settings) -> None:
        self.settings = settings
        self.embedder = embedder
        self.documents: dict[str, Document] = {d.id: d for d in documents}
        self.index = index
        self.last_stats = IndexStats(unchanged=len(self.documents), passages=len(index))
        self._sentence_vectors: dict[str, np.ndarray] = {}
        self.added: dict[str, str] = {d.id: _now() for d in documents}  # doc id -> when indexed
        self.folders: dict[str, str] = {}  # what was indexed: {"folder": path, "uploads": path}

    # ---- building -------------------------------------------------------------------------

    @staticmethod
    def _setup(embedder: Embedder | None, settings: Settings | None,
               built_with: str | None = None) -> tuple[Embedder, Settings]:
        """The embedder to use: the given one, else the settings' backend, else (None) the
        fastest backend whose vectors match ``built_with`` (a saved index's), else the default."""
        settings = settings or Settings()
        if embedder is not None:
            return embedder, settings
        backend = settings.backend
        if backend is None:
            space = VECTOR_SPACE.get(built_with or "")
            backend = ("onnx-int8" if space == "int8" else "onnx" if space == "fp32"
                       else DEFAULT_BACKEND)
        return default_embedder(settings.model, backend), settings

    def _chunking(self) -> dict:
        return _chunking(self.settings)

    @classmethod
    def from_documents(cls, documents: Sequence[Document], index: str | Path | None = None, *,
                       embedder: Embedder | None = None, settings: Settings | None = None,
                       progress: bool = False) -> Retriever:
        """Index in-memory documents (a document without ``source`` is cited by its id). With
        ``index``, an index saved there is refreshed incrementally and saved back."""
        docs = [d if d.source else dataclasses.replace(d, source=d.id) for d in documents]
        ids = [d.id for d in docs]
        if len(set(ids)) != len(ids):
            raise ConfigError("document ids must be unique: two documents share an id")
        return cls._refreshed(docs, index, embedder, settings, progress)

    @classmethod
    def _refreshed(cls, docs: list[Document], index: str | Path | None,
                   embedder: Embedder | None, settings: Settings | None,
                   progress: bool, folders: dict[str, str] | None = None) -> Retriever:
        manifest = None
        if index is not None:
            recover(index)  # a save killed half-way leaves the previous or the next version
            if (Path(index) / "manifest.json").exists():
                try:
                    manifest = read_manifest(index)
                except IndexLoadError as e:
                    log.warning("rebuilding the index: %s", e)
        exists = manifest is not None
        embedder, settings = cls._setup(embedder, settings,
                                        manifest.get("backend", "torch") if exists else None)
        r = None
        if exists:
            try:
                if manifest.get("chunking") != _chunking(settings):
                    log.warning("chunking settings changed: rebuilding the index")
                else:
                    r = cls.load(index, embedder=embedder, settings=settings, manifest=manifest)
            except IndexLoadError as e:
                log.warning("rebuilding the index: %s", e)
        if r is None:
            r = cls([], PassageIndex([], np.zeros((0, embedder.dim), np.float32),
                                     ann=settings.ann), embedder,
                    settings)
        stats = r._update(docs, progress=progress)
        r.last_stats = stats
        moved = folders is not None and folders != r.folders
        if folders is not None:
            r.folders = folders
        if index is not None and (stats.added or stats.updated or stats.removed or not exists
                                  or moved):
            r.save(index)
        return r

    @classmethod
    def from_folder(cls, folder: str | Path = "seeds", index: str | Path | None = None, *,
                    uploads: str | Path | None = None, embedder: Embedder | None = None,
                    settings: Settings | None = None, progress: bool = False) -> Retriever:
        """Index every .txt/.md/.html/.pdf/.docx file under ``folder`` (and, when given, under
        ``uploads``, whose documents are cited as ``uploads/NAME``). With ``index``, an index
        saved there is refreshed incrementally (only added or changed files are embedded,
        removed ones dropped) and saved back, recording both folders in its manifest.
        ``last_stats`` tells what changed."""
        html = (settings or Settings()).html
        docs, skipped = load_folder(folder, html=html)
        if uploads is not None and Path(uploads).is_dir():
            more, more_skipped = load_folder(uploads, html=html)
            docs += [_under(d, UPLOADS_PREFIX) for d in more]
            skipped += [UPLOADS_PREFIX + s for s in more_skipped]
        if not docs:
            raise ConfigError(f"folder {str(Path(folder).resolve())!r} has no readable "
                              ".txt/.md/.html/.pdf/.docx file: add documents to it")
        folders = {"folder": str(Path(folder).resolve())}
        if uploads is not None:
            folders["uploads"] = str(Path(uploads).resolve())
        r = cls._refreshed(docs, index, embedder, settings, progress, folders)
        r.last_stats = dataclasses.replace(r.last_stats, skipped=tuple(skipped))
        return r

    def _update(self, docs: Sequence[Document], progress: bool = False) -> IndexStats:
        """Make the index hold exactly ``docs``: embed only new or changed documents."""
        old_by_source = {d.source: d for d in self.documents.values()}
        new_ids = {d.id for d in docs}
        old = self.documents

        def same(d: Document) -> bool:
            return d.id in old and old[d.id].text == d.text and old[d.id].title == d.title

        keep = [d for d in docs if same(d)]
        fresh = [d for d in docs if not same(d)]
        fresh_ids = {d.id for d in fresh}
        updated = sum(1 for d in fresh if d.source in old_by_source)
        new_sources = {d.source for d in docs}
        removed = sum(1 for s in old_by_source if s not in new_sources)
        if not fresh and len(keep) == len(self.documents):
            return IndexStats(unchanged=len(keep), passages=len(self.index))
        kept_rows = [i for i, p in enumerate(self.index.passages)
                     if p.doc_id in new_ids and p.doc_id not in fresh_ids]
        passages = [self.index.passages[i] for i in kept_rows]
        vectors = [self.index.vectors[kept_rows]]
        new_passages = chunk_documents(fresh, self.embedder.count_tokens, self.settings.max_tokens,
                                       self.settings.overlap_sentences)
        if new_passages:
            vectors.append(self.embedder.encode([p.text for p in new_passages], progress=progress))
        self.documents = {d.id: d for d in docs}
        now = _now()
        self.added = {d.id: self.added.get(d.id, now) for d in docs}
        self.index = PassageIndex(passages + new_passages, ann=self.settings.ann,
                                  vectors=np.concatenate(vectors)
                                  if len(vectors) > 1 else vectors[0])
        return IndexStats(added=len(fresh) - updated, updated=updated, removed=removed,
                          unchanged=len(keep), passages=len(self.index))

    def add_documents(self, documents: Sequence[Document], progress: bool = False) -> IndexStats:
        """Add (or replace, by source) documents and embed only those."""
        by_source = {d.source: d for d in self.documents.values()}
        for d in documents:
            by_source[d.source or d.id] = d if d.source else dataclasses.replace(d, source=d.id)
        self.last_stats = self._update(list(by_source.values()), progress=progress)
        return self.last_stats

    def remove_documents(self, ids: Sequence[str]) -> IndexStats:
        """Drop documents (by id) and their passages. Raises ConfigError for an unknown id."""
        unknown = [i for i in ids if i not in self.documents]
        if unknown:
            raise ConfigError(f"document id {unknown[0]!r} is not in the index: list them with "
                              "Retriever.document_infos() (or `rag documents`)")
        drop = set(ids)
        self.last_stats = self._update([d for d in self.documents.values() if d.id not in drop])
        return self.last_stats

    def find_text(self, text: str) -> Document | None:
        """The indexed document whose text is exactly ``text``, if any (to refuse duplicates)."""
        return next((d for d in self.documents.values() if d.text == text), None)

    def document_infos(self) -> list[DocumentInfo]:
        """One entry per indexed document, sorted by source."""
        counts: dict[str, int] = {}
        for p in self.index.passages:
            counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
        return [DocumentInfo(id=d.id, source=d.source, title=d.title,
                             pages=len(d.page_starts) or None, passages=counts.get(d.id, 0),
                             chars=len(d.text), added=self.added.get(d.id, ""))
                for d in sorted(self.documents.values(), key=lambda d: d.source)]

    # ---- persistence ----------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Save to folder ``path`` (FAISS file, JSONL, manifest.json), atomically."""
        save_index(path, list(self.documents.values()), self.index, self.embedder.model_id,
                   self._chunking(), added=self.added, folders=self.folders,
                   backend=backend_of(self.embedder))

    @classmethod
    def load(cls, path: str | Path, *, embedder: Embedder | None = None,
             settings: Settings | None = None, manifest: dict | None = None) -> Retriever:
        """Load a saved index. Raises IndexLoadError (with how to fix it) when the folder is
        missing, corrupt, truncated, or built for another model or dimension. (``manifest``:
        its manifest, when the caller has read it already.)"""
        given = settings
        manifest = manifest if manifest is not None else read_manifest(path)
        built_with = manifest.get("backend", "torch")
        embedder, settings = cls._setup(embedder, settings, built_with)
        mine = backend_of(embedder)
        if VECTOR_SPACE.get(built_with, built_with) != VECTOR_SPACE.get(mine, mine):
            raise IndexLoadError(
                f"index at {str(path)!r} was embedded by backend {built_with!r}, whose vectors "
                f"differ from backend {mine!r}'s: search it with --backend {built_with} "
                f"(Settings(backend={built_with!r})), or rebuild it with `rag index --backend "
                f"{mine}`")
        manifest, docs, index = load_index(path, model_id=embedder.model_id, dim=embedder.dim,
                                           ann=settings.ann, manifest=manifest)
        if given is None:  # chunk further documents as the saved ones were
            chunking = manifest.get("chunking", {})
            settings = Settings(backend=settings.backend,
                                **{k: v for k, v in chunking.items()
                                   if k in ("max_tokens", "overlap_sentences", "html")})
        r = cls(docs, index, embedder, settings)
        entries = manifest.get("documents", {})
        r.added.update({e["id"]: e["added"] for e in entries.values() if e.get("added")})
        r.folders = dict(manifest.get("folders", {}))
        return r

    # ---- search ---------------------------------------------------------------------------

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
        results, qvecs = self._search(queries, max(k, depth) if rerank else k, mode,
                                      need_vectors=rerank)
        if not rerank:
            return results
        from .readers.learned import packaged_reader, score_sentences
        from .readers.learned import rerank as reorder

        out = []
        for query, qvec, hits in zip(queries, qvecs, results):
            best_of = score_sentences(query, hits[:depth], self.documents, packaged_reader(),
                                      self._shortlist(query, qvec),
                                      self.settings.read_sentences)[3]
            head = reorder(hits[:depth], best_of)
            tail = [dataclasses.replace(h, rank=len(head) + i)
                    for i, h in enumerate(hits[depth:], start=1)]
            out.append((head + tail)[:k])
        return out

    def _search(self, queries: Sequence[str], k: int, mode: str,
                need_vectors: bool = False) -> tuple[list[list[Hit]], np.ndarray | None]:
        check_k(k)
        check_mode(mode)
        queries = [clean_query(q)[0] for q in queries]
        # BM25 alone needs no embedding (its hits then carry no dense score).
        qvecs = self.embedder.encode(queries) if mode != "bm25" or need_vectors else None
        n = max(k, self.settings.candidates)
        results = []
        dense_scores, dense_idx = (self.index.dense(qvecs, n) if mode != "bm25"
                                   else (None, None))
        for qi, query in enumerate(queries):
            bm25_all = self.index.bm25_scores(query) if mode != "dense" else None
            ranked: list[tuple[int, float]]
            if mode == "dense":
                ranked = [(int(i), float(s)) for s, i in zip(dense_scores[qi], dense_idx[qi])
                          if i >= 0]
            else:
                top = top_k(bm25_all, n)
                bm25_ranked = [(int(i), float(bm25_all[i])) for i in top if bm25_all[i] > 0]
                if mode == "bm25":
                    ranked = bm25_ranked
                else:
                    ranked = self._fuse([int(i) for i in dense_idx[qi] if i >= 0],
                                        [i for i, _ in bm25_ranked])
            hits = []
            for rank, (i, score) in enumerate(ranked[:k], start=1):
                dense = float(self.index.vectors[i] @ qvecs[qi]) if qvecs is not None else None
                bm25 = float(bm25_all[i]) if bm25_all is not None else None
                hits.append(Hit(rank=rank, score=score, passage=self.index.passages[i],
                                dense_score=dense, bm25_score=bm25))
            results.append(hits)
        return results, qvecs

    def _shortlist(self, query: str, qvec: np.ndarray):
        """The cheap sentence signals (cosine, lexical coverage, answer type) that pick which
        sentences the learned reader reads, and feed its answer head."""
        from .readers.heuristic import sentence_signals

        return lambda texts: sentence_signals(query, qvec, texts, self.index,
                                              self._encode_sentences)

    def _encode_sentences(self, texts: list[str]) -> np.ndarray:
        """Embeddings of answer candidates, cached: the same passages come back across questions,
        and embedding their sentences is most of the cost of an answer."""
        if not texts:
            return np.zeros((0, self.embedder.dim), np.float32)
        cache = self._sentence_vectors
        found = {t: cache.get(t) for t in texts}  # a local view: safe if another thread clears
        missing = [t for t, v in found.items() if v is None]
        if missing:
            found.update(zip(missing, self.embedder.encode(missing)))
            if len(cache) + len(missing) > SENTENCE_CACHE:
                cache.clear()
            cache.update((t, found[t]) for t in missing)
        return np.stack([found[t] for t in texts])

    def _fuse(self, dense: list[int], bm25: list[int]) -> list[tuple[int, float]]:
        """Reciprocal rank fusion: score = w / (rrf_k + dense rank) + 1 / (rrf_k + BM25 rank)."""
        c, w = self.settings.rrf_k, self.settings.dense_weight
        scores: dict[int, float] = {}
        for rank, i in enumerate(dense, start=1):
            scores[i] = scores.get(i, 0.0) + w / (c + rank)
        for rank, i in enumerate(bm25, start=1):
            scores[i] = scores.get(i, 0.0) + 1.0 / (c + rank)
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))

    # ---- answers --------------------------------------------------------------------------

    @property
    def abstain_threshold(self) -> float:
        """The threshold in force: the setting, else the reader's own."""
        if self.settings.abstain_threshold is not None:
            return self.settings.abstain_threshold
        if self.settings.reader == "learned":
            from .readers.learned import packaged_reader

            return packaged_reader().threshold
        return HEURISTIC_THRESHOLD

    def ask(self, question: str, k: int = 5, mode: str = "hybrid",
            history: Sequence | None = None) -> Answer:
        """A grounded extractive answer with citations, or an abstention when the sources do not
        contain the answer (``abstained=True``; ``hits`` still holds the closest passages).

        ``history``: the earlier turns of a conversation, oldest first (questions, (question,
        answer) pairs or Answers). A question that leans on them ("When did he give it?") is
        searched and read with the turns it needs; a self-contained one alone.

        With ``Settings(reader="learned")`` the fused top ``settings.rerank_depth`` passages are
        reranked by the reader and ``hits`` holds the best ``k`` of them."""
        from .conversation import contextual_query
        from .shortanswer import with_short_answer

        question, note = clean_query(question)
        check_k(k)
        query = contextual_query(question, history)
        t0 = time.perf_counter()
        if self.settings.reader == "learned":
            from .readers.learned import compose, packaged_reader

            found, qvecs = self._search([query], max(k, self.settings.rerank_depth), mode,
                                        need_vectors=True)
            t1 = time.perf_counter()
            answer = compose(question, query, found[0], self.documents, self.settings,
                             packaged_reader(), k, note=note,
                             shortlist=self._shortlist(question, qvecs[0]))
        else:
            hits, qvecs = self._search([query], k, mode, need_vectors=True)
            t1 = time.perf_counter()
            # Passages found with the earlier turns (qvecs), sentences scored for the question.
            answer = compose_answer(question, qvecs[0], hits[0], self.documents, self.index,
                                    self._encode_sentences, self.settings, note=note)
            answer = dataclasses.replace(answer, question=question, query=query)
        answer = with_short_answer(answer)
        return dataclasses.replace(answer, retrieve_ms=(t1 - t0) * 1000,
                                   answer_ms=(time.perf_counter() - t1) * 1000)
