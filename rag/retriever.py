"""Retriever: the public entry point. It composes an embedder, a passage store (local or
Milvus, rag/stores/), fusion (rag/fusion.py) and a reader (rag/readers/): builds and refreshes an
index (rag/indexing.py), searches it densely, by BM25 or both fused, and answers with verified
citations."""
from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .embedders import VECTOR_SPACE, Embedder, backend_of, default_embedder
from .errors import ConfigError, IndexLoadError
from .index.fusion import candidate_scores, minmax_scores, rrf
from .index.passages import _text_hash
from .index.persist import read_manifest, recover
from .index.sync import chunking, sync
from .ingest.loading import SUFFIXES, load_folder
from .settings import DEFAULT_BACKEND, HEURISTIC_THRESHOLD, Settings, check_k, check_mode
from .index.stores import STORE_HELP, Store, StoredDocuments, parse_store
from .index.stores.local import LocalStore
from .types import Answer, Document, DocumentInfo, Hit, IndexStats, Passage

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000
SENTENCE_CACHE = 50_000  # sentence embeddings kept for answers (384 floats each: ~75 MB at most)

UPLOADS_PREFIX = "uploads/"


def _under(doc: Document, prefix: str) -> Document:
    """``doc`` cited as ``prefix + source`` (its id follows the new source)."""
    from .ingest.loading import doc_id_for

    source = prefix + doc.source
    return dataclasses.replace(doc, source=source, id=doc_id_for(source, doc.text))


def clean_query(query: str) -> tuple[str, str]:
    """(query, note): strips it, refuses an empty one, truncates a very long one with a note."""
    if not isinstance(query, str) or not query.strip():
        raise ConfigError("the question is empty: ask a question with at least one word")
    query = query.strip()
    if len(query) > MAX_QUERY_CHARS:
        return (query[:MAX_QUERY_CHARS],
                f"question truncated from {len(query)} to {MAX_QUERY_CHARS} characters")
    return query, ""


def _setup(embedder: Embedder | None, settings: Settings | None,
           built_with: str | None = None) -> tuple[Embedder, Settings]:
    """The embedder to use: the given one, else the settings' backend, else (None) the fastest
    backend whose vectors match ``built_with`` (a saved index's), else the default."""
    settings = settings or Settings()
    if embedder is not None:
        return embedder, settings
    backend = settings.backend
    if backend is None:
        space = VECTOR_SPACE.get(built_with or "")
        backend = ("onnx-int8" if space == "int8" else "onnx" if space == "fp32"
                   else DEFAULT_BACKEND)
    return default_embedder(settings.model, backend, settings.device), settings


def _mismatch(meta: dict, embedder: Embedder, where: str) -> str | None:
    """Why an index described by ``meta`` cannot be searched with ``embedder`` (None: it can)."""
    built_with, mine = meta.get("backend", "torch"), backend_of(embedder)
    if meta.get("model_id") != embedder.model_id:
        return f"{where} was built with model {meta.get('model_id')!r}, not {embedder.model_id!r}"
    if meta.get("dimension") != embedder.dim:
        return f"{where} has dimension {meta.get('dimension')}, the model gives {embedder.dim}"
    if VECTOR_SPACE.get(built_with, built_with) != VECTOR_SPACE.get(mine, mine):
        return (f"{where} was embedded by backend {built_with!r}, whose vectors differ from "
                f"backend {mine!r}'s: search it with --backend {built_with} "
                f"(Settings(backend={built_with!r})), or rebuild it with `rag index --backend "
                f"{mine}`")
    return None


def _saved_settings(meta: dict, settings: Settings) -> Settings:
    """Settings that chunk further documents as the saved ones were."""
    saved = meta.get("chunking", {})
    if saved and "chunk_align" not in saved:
        saved = {**saved, "chunk_align": "sentences"}  # built before paragraph alignment
    keys = ("max_tokens", "overlap_sentences", "chunk_align", "html")
    return dataclasses.replace(settings, **{k: v for k, v in saved.items() if k in keys})


def _meta(embedder: Embedder, settings: Settings, folders: dict | None = None) -> dict:
    return {"model_id": embedder.model_id, "backend": backend_of(embedder),
            "dimension": embedder.dim, "chunking": chunking(settings), "folders": folders or {}}


def _extraction_cache(index, store, folder):
    """The extraction cache of an index: ``folder`` when given, else beside a local index
    (INDEX-extracted) or a Milvus Lite file; None for an index kept nowhere."""
    from .ingest.extracted import ExtractionCache
    from .paths import extracted_folder, store_base

    if folder is not None:
        return ExtractionCache(folder)
    if index is not None:
        return ExtractionCache(extracted_folder(index))
    if isinstance(store, str):
        return ExtractionCache(extracted_folder(store_base(store)))
    if store is not None and getattr(store, "location", None):
        where = str(store.location)
        return ExtractionCache(extracted_folder(Path(".rag-milvus") if "://" in where
                                                else Path(where)))
    return None


def _milvus(location: str):
    from .index.stores.milvus import MilvusStore

    return MilvusStore(location)


def _target(index: str | Path | None, store: str | Store | None):
    """Where an index is kept: (kind, location) for ``index`` (a folder) or ``store`` (a URI),
    or ``store`` itself when it is an open Milvus store."""
    if index is not None and store is not None:
        raise ConfigError("give index (a folder) or store (a URI), not both")
    if store is not None and not isinstance(store, str):
        if getattr(store, "kind", None) != "milvus":
            raise ConfigError(f"store={store!r}: give a URI ({STORE_HELP}) or an open Milvus "
                              "store")
        return store
    if store is not None:
        return parse_store(store)
    return None if index is None else ("local", str(index))


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
        self._stored = None if isinstance(store, LocalStore) else StoredDocuments(store)
        # Counting documents needs no list of them where the store holds them (a large index
        # opens without building one).
        docs = len(store.docs) if self._stored is None else len(store.entries())
        self.last_stats = IndexStats(unchanged=docs, passages=len(store))
        self._sentence_vectors: dict[str, np.ndarray] = {}
        self._llm = None  # the LLM client, made on first use from the settings

    @property
    def documents(self) -> Mapping[str, Document]:
        """The indexed documents by id (a Milvus store fetches them when asked for)."""
        return self.store.docs if self._stored is None else self._stored

    @property
    def index(self):
        """The local store's :class:`rag.index.PassageIndex` (local stores only)."""
        if not isinstance(self.store, LocalStore):
            raise AttributeError(f"a {self.store.kind} store has no local PassageIndex: use "
                                 "Retriever.store")
        return self.store.index

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
        return cls._refreshed(docs, _target(index, store), embedder, settings, progress,
                              replace=replace)

    @classmethod
    def from_folder(cls, folder: str | Path = "seeds", index: str | Path | None = None, *,
                    store: str | None = None, uploads: str | Path | None = None,
                    embedder: Embedder | None = None, settings: Settings | None = None,
                    progress: bool = False, replace: bool = False,
                    extracted: str | Path | None = None) -> Retriever:
        """Index every file of a type rag reads (``rag.SUFFIXES``) under ``folder`` (and, when
        given, under
        ``uploads``, whose documents are cited as ``uploads/NAME``). With ``index`` (a folder)
        or ``store`` (a URI), an index kept there is refreshed incrementally (only added or
        changed files are embedded, removed ones dropped), recording both folders in its
        manifest. ``last_stats`` tells what changed. An index that holds another folder is
        refused (ConfigError: refreshing it would drop that folder's documents) unless
        ``replace``, which rebuilds it for this one. What a costly read of a file gave (OCR)
        is kept by content in ``extracted`` (default: beside the index, INDEX-extracted/), so
        an unchanged file is never read that way twice; files that cannot be read are listed
        by :meth:`document_infos` with their error."""
        html, ocr = (settings or Settings()).html, (settings or Settings()).ocr
        cache = _extraction_cache(index, store, extracted)
        reasons: dict[str, str] = {}
        docs, skipped = load_folder(folder, html=html, ocr=ocr, reasons=reasons, cache=cache)
        unreadable = {s: reasons[s] for s in skipped}
        if uploads is not None and Path(uploads).is_dir():
            why: dict[str, str] = {}
            more, more_skipped = load_folder(uploads, html=html, ocr=ocr, reasons=why,
                                             cache=cache)
            docs += [_under(d, UPLOADS_PREFIX) for d in more]
            skipped += [UPLOADS_PREFIX + s for s in more_skipped]
            unreadable.update({UPLOADS_PREFIX + s: why[s] for s in more_skipped})
        if cache is not None:
            cache.prune(cache.used)
        if not docs:
            why = "; ".join(f"{s}: {r}" for s, r in sorted(reasons.items())[:10])
            raise ConfigError(f"folder {str(Path(folder).resolve())!r} has no readable file"
                              f"{f' ({why})' if why else ''}: add documents to it (rag reads "
                              f"{'/'.join(SUFFIXES)})")
        folders = {"folder": str(Path(folder).resolve())}
        if uploads is not None:
            folders["uploads"] = str(Path(uploads).resolve())
        r = cls._refreshed(docs, _target(index, store), embedder, settings, progress, folders,
                           replace, unreadable)
        r.last_stats = dataclasses.replace(r.last_stats, skipped=tuple(skipped))
        return r

    @classmethod
    def _refreshed(cls, docs: list[Document], target: tuple[str, str] | None,
                   embedder: Embedder | None, settings: Settings | None,
                   progress: bool, folders: dict[str, str] | None = None,
                   replace: bool = False, unreadable: dict[str, str] | None = None) -> Retriever:
        if target is not None and not isinstance(target, tuple):  # an open Milvus store
            kind, location, milvus = "milvus", target.location, target
        else:
            kind, location = target or ("local", None)
            milvus = _milvus(location) if kind == "milvus" else None
        meta: dict = milvus.meta if milvus is not None else {}
        if milvus is None and location is not None:
            recover(location)  # a save killed half-way leaves the previous or the next version
            if (Path(location) / "manifest.json").exists():
                try:
                    meta = read_manifest(location)
                except IndexLoadError as e:
                    log.warning("rebuilding the index: %s", e)
        held = (meta.get("folders") or {}).get("folder") if meta else None
        if held and not replace and held != (folders or {}).get("folder"):
            what = f"folder {folders['folder']!r}" if folders else "these documents"
            raise ConfigError(f"the index at {location!r} holds folder {held!r}: refreshing it "
                              f"with {what} would drop that folder's documents. Give another "
                              "index (--index DIR), or rebuild this one on purpose with "
                              "--replace (Retriever.from_folder(..., replace=True))")
        embedder, settings = _setup(embedder, settings,
                                    meta.get("backend", "torch") if meta else None)
        store = None
        if meta:
            why = _mismatch(meta, embedder, f"index at {location!r}")
            if meta.get("chunking") != chunking(settings):
                old, cur = meta.get("chunking") or {}, chunking(settings)
                changed = ", ".join(f"{k} {old.get(k, 'unset')} -> {cur[k]}" for k in cur
                                    if old.get(k) != cur[k])
                log.warning("chunking settings changed (%s): rebuilding the index", changed)
            elif why:
                log.warning("rebuilding the index: %s", why)
            elif milvus is not None:
                store = milvus
            else:
                try:
                    store = LocalStore.open(location, embedder.model_id, embedder.dim,
                                            settings.ann, manifest=meta)
                except IndexLoadError as e:
                    log.warning("rebuilding the index: %s", e)
        new = store is None
        if milvus is not None and new:
            milvus.create(_meta(embedder, settings, folders))
            store = milvus
        elif new:
            store = LocalStore.empty(embedder.dim, settings.ann, _meta(embedder, settings,
                                                                       folders), path=location)
        r = cls(store, embedder, settings)
        stats = sync(store, embedder, settings, docs, progress=progress)
        r.last_stats = stats
        moved = folders is not None and folders != r.folders
        changed = {}
        if moved:
            changed["folders"] = folders
        if unreadable is not None and unreadable != store.meta.get("unreadable", {}):
            changed["unreadable"] = unreadable
        if changed:
            if milvus is not None:
                milvus.set_meta(**changed)
            else:
                store.meta = {**store.meta, **changed}
            moved = True
        if (location is not None and kind == "local"
                and (stats.added or stats.updated or stats.removed or new or moved)):
            store.save(location)
        return r

    def add_documents(self, documents: Sequence[Document], progress: bool = False) -> IndexStats:
        """Add (or replace, by source) documents and embed only those."""
        docs = [d if d.source else dataclasses.replace(d, source=d.id) for d in documents]
        self.last_stats = sync(self.store, self.embedder, self.settings, docs, complete=False,
                               progress=progress)
        return self.last_stats

    def remove_documents(self, ids: Sequence[str]) -> IndexStats:
        """Drop documents (by id) and their passages. Raises ConfigError for an unknown id."""
        entries = self.store.entries()
        known = {e.id for e in entries.values()}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ConfigError(f"document id {unknown[0]!r} is not in the index: list them with "
                              "Retriever.document_infos() (or `rag documents`)")
        self.store.update(list(ids), [], [], np.zeros((0, self.embedder.dim), np.float32), {})
        self.last_stats = IndexStats(removed=len(set(ids)), unchanged=len(entries) - len(set(ids)),
                                     passages=len(self.store))
        return self.last_stats

    def find_text(self, text: str) -> Document | None:
        """The indexed document whose text is exactly ``text``, if any (to refuse duplicates)."""
        digest = _text_hash(text)
        for e in self.store.entries().values():
            if e.sha256 == digest:
                doc = self.documents.get(e.id)
                if doc is not None and doc.text == text:
                    return doc
        return None

    def document_infos(self) -> list[DocumentInfo]:
        """One entry per indexed document, and one per file of the folders that could not be
        read (``error`` says why; nothing of it is indexed), sorted by source."""
        from .ingest.loading import doc_id_for

        infos = dict(self.store.entries())
        for source, why in (self.store.meta.get("unreadable") or {}).items():
            infos.setdefault(source, DocumentInfo(id=doc_id_for(source, ""), source=source,
                                                  title="", pages=None, passages=0, chars=0,
                                                  added="", error=why))
        return [e for _, e in sorted(infos.items())]

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
        given = settings
        manifest = manifest if manifest is not None else read_manifest(path)
        embedder, settings = _setup(embedder, settings, manifest.get("backend", "torch"))
        why = _mismatch(manifest, embedder, f"index at {str(path)!r}")
        if why and "backend" in why:
            raise IndexLoadError(why)
        store = LocalStore.open(path, model_id=embedder.model_id, dim=embedder.dim,
                                ann=settings.ann, manifest=manifest)
        if given is None:
            settings = _saved_settings(manifest, settings)
        return cls(store, embedder, settings)

    @classmethod
    def open(cls, store: str, *, embedder: Embedder | None = None,
             settings: Settings | None = None) -> Retriever:
        """Open an existing index: a folder (or ``local:DIR``), ``milvus:FILE.db`` or a Milvus
        server URL. Raises IndexLoadError (with how to fix it) when there is none or it was
        built for another model."""
        kind, location = parse_store(store)
        if kind == "local":
            return cls.load(location, embedder=embedder, settings=settings)
        given = settings
        milvus = _milvus(location)
        if not milvus.meta:
            milvus.close()
            raise IndexLoadError(f"no rag index in the Milvus store {location!r}: build it with "
                                 f"`rag index FOLDER --store {store}`")
        embedder, settings = _setup(embedder, settings, milvus.meta.get("backend", "torch"))
        why = _mismatch(milvus.meta, embedder, f"Milvus store {location!r}")
        if why:
            milvus.close()
            raise IndexLoadError(why if "backend" in why else
                                 f"{why}: rebuild it with `rag index FOLDER --store {store}`")
        if given is None:
            settings = _saved_settings(milvus.meta, settings)
        return cls(milvus, embedder, settings)

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
        return [found[:k] for found in self._reranked(queries, qvecs, results)]

    def _reranked(self, queries: Sequence[str], qvecs: np.ndarray,
                  results: list[list[Hit]]) -> list[list[Hit]]:
        """Each query's hits with the fused top ``settings.rerank_depth`` reordered by the
        learned reader (their best sentence's probability), the rest after them."""
        from .answer.readers.learned import rerank_hits

        ctx = self.read_context()
        return [rerank_hits(query, qvec, hits, ctx, self.settings.rerank_depth)
                for query, qvec, hits in zip(queries, qvecs, results)]

    def _search(self, queries: Sequence[str], k: int, mode: str,
                need_vectors: bool = False) -> tuple[list[list[Hit]], np.ndarray | None]:
        check_k(k)
        check_mode(mode)
        queries = [clean_query(q)[0] for q in queries]
        store, s = self.store, self.settings
        # BM25 alone needs no embedding (its hits then carry no dense score).
        qvecs = self.embedder.encode(queries) if mode != "bm25" or need_vectors else None
        n = max(k, s.candidates)
        dense_all = fused = None
        if mode == "dense":
            dense_all = store.dense(qvecs, k)
        elif mode == "hybrid":
            # An engine that fuses does it by reciprocal rank; score fusion happens here.
            fused = store.hybrid(qvecs, queries, k, s.rrf_k, n) if s.fusion == "rrf" else None
            dense_all = store.dense(qvecs, n) if fused is None else None
        results = []
        for qi, query in enumerate(queries):
            scored = None  # score fusion's (dense, BM25) scores of its candidates
            if mode == "dense":
                ranked = dense_all[qi]
            elif mode == "bm25":
                ranked = store.bm25([query], k)[0]
            elif fused is not None:  # the engine fused
                ranked = fused[qi]
            elif s.fusion == "rrf":
                ranked = rrf([key for key, _ in dense_all[qi]],
                             [key for key, _ in store.bm25([query], n)[0]], s.rrf_k,
                             s.dense_weight)
            else:
                scored = candidate_scores(dense_all[qi], store.bm25([query], n)[0],
                                          lambda keys, v=qvecs[qi]: store.dense_scores(keys, v),
                                          lambda keys, q=query: store.bm25_scores(keys, q))
                ranked = minmax_scores(scored, s.dense_weight)
            ranked = ranked[:k]
            keys = [key for key, _ in ranked]
            passages = store.passages(keys)
            scores = [score for _, score in ranked]
            # A single mode's ranking scores are its component scores; score fusion has both;
            # rank-fused hits ask the store.
            if scored is not None:
                dense, bm25 = [scored[key][0] for key in keys], [scored[key][1] for key in keys]
            else:
                dense = (scores if mode == "dense" else store.dense_scores(keys, qvecs[qi])
                         if qvecs is not None else [None] * len(keys))
                bm25 = (scores if mode == "bm25" else store.bm25_scores(keys, query)
                        if mode != "dense" else [None] * len(keys))
            results.append([Hit(rank=rank, score=score, passage=p, dense_score=d, bm25_score=b)
                            for rank, ((_, score), p, d, b)
                            in enumerate(zip(ranked, passages, dense, bm25), start=1)])
        return results, qvecs

    def read_context(self):
        """What a reader is given (rag.readers.ReadContext): the documents, the index's term
        statistics, the cached sentence encoder, the settings and the embedder's model id."""
        from .answer.readers.signals import ReadContext

        return ReadContext(self.documents, self.store, self._encode_sentences, self.settings,
                           self.embedder.model_id)

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

    # ---- answers --------------------------------------------------------------------------

    @property
    def abstain_threshold(self) -> float:
        """The threshold in force, on the scale of ``Answer.confidence`` (a probability): the
        setting, else the reader's own (the heuristic's is set on its raw score, 0.32 by
        default, and given here as that score's calibrated probability); with the answer gate
        (``settings.gate``) the setting, else the gate's own, on the gate's probability."""
        if self.settings.gate:
            from .answer.readers.gate import gate_of

            gate = gate_of(self.settings.reader)
            if gate is not None:
                raw = self.settings.abstain_threshold
                return gate["answer"]["threshold"] if raw is None else raw
        if self.settings.reader == "learned":
            if self.settings.abstain_threshold is not None:
                return self.settings.abstain_threshold
            from .answer.readers.learned import packaged_reader

            return packaged_reader().threshold
        from .answer.readers.heuristic import calibrated

        raw = self.settings.abstain_threshold
        return calibrated(HEURISTIC_THRESHOLD if raw is None else raw)

    def llm_client(self):
        """The client of ``settings.llm_url`` (None without one), kept while the settings
        name the same server and model."""
        from .answer.llm import ENV_KEY, LLMClient

        s = self.settings
        if not s.llm_url:
            return None
        key = (s.llm_url, s.llm_model, s.llm_timeout, s.llm_max_tokens)
        if self._llm is None or self._llm[0] != key:
            self._llm = (key, LLMClient(s.llm_url, s.llm_model, api_key=s.llm_api_key
                                        or os.environ.get(ENV_KEY) or None,
                                        timeout=s.llm_timeout, max_tokens=s.llm_max_tokens))
        return self._llm[1]

    def ask_stream(self, question: str, k: int = 5, mode: str = "hybrid",
                   history: Sequence | None = None, llm: bool | None = None):
        """:meth:`ask`, as it is written: yields the LLM's reply in pieces (str) as they come,
        then the verified :class:`Answer` last (only the Answer without an LLM)."""
        import queue
        import threading

        pieces: queue.Queue = queue.Queue()
        done = object()
        result: list = []

        def run() -> None:
            try:
                result.append(self.ask(question, k=k, mode=mode, history=history, llm=llm,
                                       on_text=pieces.put))
            except BaseException as e:  # noqa: BLE001 - raised again in the caller's thread
                result.append(e)
            finally:
                pieces.put(done)

        threading.Thread(target=run, daemon=True, name="rag-ask").start()
        while (piece := pieces.get()) is not done:
            yield piece
        if isinstance(result[0], BaseException):
            raise result[0]
        yield result[0]

    def ask(self, question: str, k: int = 5, mode: str = "hybrid",
            history: Sequence | None = None, llm: bool | None = None,
            on_text=None) -> Answer:
        """A grounded extractive answer with citations, or an abstention when the sources do not
        contain the answer (``abstained=True``; ``hits`` still holds the closest passages).

        ``history``: the earlier turns of a conversation, oldest first (questions, (question,
        answer) pairs or Answers). A question that leans on them ("When did he give it?") is
        searched and read with the turns it needs; a self-contained one alone.

        With ``Settings(reader="learned")`` the fused top ``settings.rerank_depth`` passages are
        reranked by the reader and ``hits`` holds the best ``k`` of them.

        With ``Settings(llm_url=...)`` (and ``llm`` not False) an LLM writes the answer from the
        top ``settings.llm_passages`` passages, each of its sentences checked against the quote
        it cites (``Answer.generated``, ``Answer.dropped``); ``on_text`` gets its reply as it
        is written. When the server fails, the extractive answer comes with a note."""
        from .answer.conversation import contextual_query
        from .answer.readers import make_reader

        question, note = clean_query(question)
        check_k(k)
        query = contextual_query(question, history)
        reader = make_reader(self.settings, self.llm_client() if llm is not False else None)
        t0 = time.perf_counter()
        rerank = self.settings.rerank and self.settings.reader != "learned"
        depth = reader.depth(self.settings, k)
        found, qvecs = self._search([query], max(depth, self.settings.rerank_depth)
                                    if rerank else depth, mode, need_vectors=True)
        if rerank:  # the extractive reader reads the learned reader's order
            found = [self._reranked([query], qvecs, found)[0][:depth]]
        t1 = time.perf_counter()
        answer = reader.read(question, query, qvecs[0], found[0], self.read_context(), k,
                             note=note, history=history, on_text=on_text)
        return dataclasses.replace(answer, retrieve_ms=(t1 - t0) * 1000,
                                   answer_ms=(time.perf_counter() - t1) * 1000)
