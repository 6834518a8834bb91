"""The Milvus store: passages in a Milvus collection, embedded (milvus-lite, a local ``.db``
file) or on a Milvus server (``http://host:19530``), through pymilvus' ``MilvusClient``.

Two collections per index, ``NAME_passages`` and ``NAME_documents``:

- passages: id, doc_id, source, title, start, end, page, the text, ``terms`` (the passage's
  stemmed, stop-word-free tokens, as rag's BM25 cuts them) with Milvus' BM25 function into a
  sparse field, ``text_terms`` (the text's alone, for the readers' IDF, by text match) and the
  dense vector (HNSW, inner product). Hybrid search with ``Settings(fusion="rrf")`` is Milvus'
  ``hybrid_search`` with ``RRFRanker(rrf_k)``; by default the retriever fuses the scores of
  :meth:`MilvusStore.dense` and :meth:`MilvusStore.bm25` itself (rag/index/fusion.py).
- documents: the per-document manifest (id, source, title, SHA-256 of the text, when added,
  passage count) and the text itself, in parts (a VARCHAR holds at most 65,535 bytes), so that a
  second process or host opens the same index with nothing local and every citation is checked
  against its document.

The index-level manifest (format, model, backend, dimension, chunking) is a property of the
passages collection. Why ``terms`` and not the raw text: milvus-lite's analyzer knows the
``standard`` tokenizer but applies no English stemmer or stop words, so BM25 over raw text ranks
differently from the local store; feeding Milvus our own tokens gives both stores one analyzer.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence

import numpy as np

from ...errors import ConfigError, IndexLoadError
from ..passages import _text_hash, bm25_tokenize
from ..persist import FORMAT, FORMAT_VERSION
from ...types import Document, DocumentInfo, Passage
from ..bm25 import idf as bm25_idf
from . import Ranked

log = logging.getLogger(__name__)

MANIFEST_PROPERTY = "rag.manifest"
TOKEN_ENV = "RAG_MILVUS_TOKEN"  # "user:password" or an API key, for a server that asks
TEXT_PART = 16_000      # characters per stored text part: at most 64,000 UTF-8 bytes
BATCH = 1_000           # rows per insert
MAX_VARCHAR = 65_535
QUERY_WINDOW = 16_384   # the most rows one Milvus query returns
HNSW = {"M": 32, "efConstruction": 200}
EF_SEARCH = 128
BM25_PARAMS = {"bm25_k1": 1.5, "bm25_b": 0.75}  # bm25s' defaults: both stores score alike
BM25_SCORE_DEPTH = 100
PASSAGE_FIELDS = ["doc_id", "source", "title", "start", "end", "page", "text"]
# Session: a client reads its own writes at once; another client's within Milvus' usual delay.
# (Strong makes every search wait for the latest timestamp: 2x slower on milvus-lite.)
CONSISTENCY = "Session"
ROW_FIELDS = ["id", *PASSAGE_FIELDS, "vector"]  # what a search returns with each hit


def _quote(values: Sequence[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


class MilvusStore:
    """A rag index in Milvus. ``uri``: a ``.db`` file (milvus-lite) or a server URL."""

    kind = "milvus"

    def __init__(self, uri: str, name: str = "rag", token: str | None = None) -> None:
        import os

        try:
            from pymilvus import MilvusClient
        except ImportError as e:
            raise ConfigError("the Milvus store needs pymilvus and milvus-lite: pip install "
                              "'pymilvus>=2.5' milvus-lite") from e
        token = token if token is not None else os.environ.get(TOKEN_ENV, "")
        self.location = uri
        self.name = name
        self.passages_name = f"{name}_passages"
        self.documents_name = f"{name}_documents"
        try:
            self.client = MilvusClient(uri, token=token) if token else MilvusClient(uri)
        except Exception as e:  # noqa: BLE001 - a server down, a locked or damaged file
            raise IndexLoadError(f"cannot open the Milvus store at {uri!r} ({type(e).__name__}: "
                                 f"{e}): check the URI (and that the server runs), or rebuild it "
                                 "with `rag index FOLDER --store URI`") from e
        self._df: dict[str, int] = {}
        self._count: int | None = None
        self._found: dict[str, dict] = {}
        self.meta = self._read_meta()

    # ---- the store-kind protocol (rag.index.stores.KINDS) ---------------------------------

    @classmethod
    def attach(cls, location: str) -> tuple[dict, MilvusStore]:
        """(the saved manifest, {} in a new collection; the connection, reused below)."""
        store = cls(location)
        return store.meta, store

    @classmethod
    def reopen(cls, location, meta: dict, connection: MilvusStore, embedder,
               settings) -> MilvusStore:
        return connection

    @classmethod
    def make(cls, location, meta: dict, connection: MilvusStore, embedder,
               settings) -> MilvusStore:
        connection.create(meta)
        return connection

    def commit(self, location, changed: bool) -> None:
        """Nothing to do: Milvus keeps every change as it is made."""

    # ---- the collections ----------------------------------------------------------------

    def _read_meta(self) -> dict:
        c = self.client
        if not (c.has_collection(self.passages_name) and c.has_collection(self.documents_name)):
            return {}
        props = c.describe_collection(self.passages_name).get("properties", {})
        try:
            meta = json.loads(props.get(MANIFEST_PROPERTY, "{}"))
        except ValueError as e:
            raise IndexLoadError(f"Milvus store {self.location!r}: its manifest is corrupt "
                                 f"({e}): rebuild it with `rag index FOLDER --store URI`") from e
        if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            raise IndexLoadError(f"Milvus store {self.location!r}: collection "
                                 f"{self.passages_name!r} is not a rag index of format version "
                                 f"{FORMAT_VERSION}: rebuild it with `rag index FOLDER --store "
                                 "URI`")
        for name in (self.passages_name, self.documents_name):
            c.load_collection(name)
        return meta

    def create(self, meta: dict) -> None:
        """(Re)create empty collections for an index described by ``meta`` (its model_id,
        backend, dimension, chunking, folders)."""
        from .milvus_schema import create_collections

        create_collections(self.client, self.passages_name, self.documents_name,
                           int(meta["dimension"]))
        self.meta = {**meta, "format": FORMAT, "format_version": FORMAT_VERSION}
        self._write_meta()
        self._forget()

    def _write_meta(self) -> None:
        self.client.alter_collection_properties(
            self.passages_name, properties={MANIFEST_PROPERTY: json.dumps(self.meta)})

    def set_meta(self, **changes) -> None:
        self.meta = {**self.meta, **changes}
        self._write_meta()

    def _forget(self) -> None:
        self._df.clear()
        self._count = None

    # ---- the manifest and documents -----------------------------------------------------

    def _query_all(self, collection: str, filter: str, fields: list[str]) -> list[dict]:
        """Every row matching ``filter``: one query up to Milvus' window, an iterator above."""
        c = self.client
        count = int(c.query(collection, filter=filter, output_fields=["count(*)"])[0]["count(*)"])
        if count <= QUERY_WINDOW:
            return c.query(collection, filter=filter, output_fields=fields, limit=QUERY_WINDOW)
        rows: list[dict] = []
        # (milvus-lite gives the iterator no timestamp: pymilvus warns once that it takes the
        # client's own, which is right for a single client.)
        it = c.query_iterator(collection, batch_size=BATCH, filter=filter, output_fields=fields)
        while batch := it.next():
            rows.extend(batch)
        it.close()
        return rows

    def entries(self) -> dict[str, DocumentInfo]:
        rows = self._query_all(self.documents_name, "part == 0", ["doc_id", "info"])
        out = {}
        for r in rows:
            i = r["info"]
            out[i["source"]] = DocumentInfo(id=r["doc_id"], source=i["source"],
                                            title=i["title"], pages=len(i["page_starts"]) or None,
                                            passages=i["passages"], chars=i["chars"],
                                            added=i["added"], sha256=i["sha256"])
        return dict(sorted(out.items()))

    def documents(self, ids: Sequence[str]) -> dict[str, Document]:
        out: dict[str, Document] = {}
        ids = list(dict.fromkeys(ids))
        for i in range(0, len(ids), 100):
            rows = self._query_all(self.documents_name, f"doc_id in {_quote(ids[i:i + 100])}",
                                   ["doc_id", "part", "text", "info"])
            parts: dict[str, list[dict]] = {}
            for r in rows:
                parts.setdefault(r["doc_id"], []).append(r)
            for doc_id, rs in parts.items():
                rs.sort(key=lambda r: r["part"])
                info = rs[0]["info"]
                if len(rs) != info["parts"]:
                    raise IndexLoadError(f"Milvus store {self.location!r}: document {doc_id!r} "
                                         f"has {len(rs)} of its {info['parts']} text parts: "
                                         "rebuild it with `rag index FOLDER --store URI`")
                out[doc_id] = Document(id=doc_id, text="".join(r["text"] for r in rs),
                                       title=info["title"], source=info["source"],
                                       page_starts=tuple(info["page_starts"]),
                                       modified=info.get("modified", ""))
        return out

    def update(self, remove: Sequence[str], documents: Sequence[Document],
               passages: Sequence[Passage], vectors: np.ndarray, added: dict[str, str]) -> None:
        gone = list(dict.fromkeys([*remove, *(d.id for d in documents)]))
        for i in range(0, len(gone), 100):
            where = f"doc_id in {_quote(gone[i:i + 100])}"
            self.client.delete(self.passages_name, filter=where)
            self.client.delete(self.documents_name, filter=where)
        counts: dict[str, int] = {}
        for p in passages:
            counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
        doc_rows = []
        for d in documents:
            pieces = [d.text[i:i + TEXT_PART] for i in range(0, len(d.text), TEXT_PART)] or [""]
            info = {"source": d.source, "title": d.title, "sha256": _text_hash(d.text),
                    "added": added.get(d.id, ""), "page_starts": list(d.page_starts),
                    "modified": d.modified,
                    "passages": counts.get(d.id, 0), "chars": len(d.text), "parts": len(pieces)}
            doc_rows += [{"key": f"{d.id}#{n}", "doc_id": d.id, "part": n, "text": piece,
                          "info": info if n == 0 else {"parts": len(pieces)},
                          "unused": [0.0, 0.0]} for n, piece in enumerate(pieces)]
        terms = bm25_tokenize([f"{p.title}\n{p.text}" for p in passages]) if passages else []
        text_terms = bm25_tokenize([p.text for p in passages]) if passages else []
        rows = [{"id": p.id, "doc_id": p.doc_id, "source": p.source, "title": p.title,
                 "start": p.start, "end": p.end, "page": -1 if p.page is None else p.page,
                 "text": p.text, "terms": " ".join(t), "text_terms": " ".join(tt),
                 "vector": v.tolist()}
                for p, t, tt, v in zip(passages, terms, text_terms,
                                       np.asarray(vectors, dtype=np.float32))]
        # Passages first, the manifest rows last: a document is listed once it is searchable.
        for i in range(0, len(rows), BATCH):
            self.client.insert(self.passages_name, rows[i:i + BATCH])
        for i in range(0, len(doc_rows), 100):
            self.client.insert(self.documents_name, doc_rows[i:i + 100])
        self._forget()

    # ---- search -------------------------------------------------------------------------

    @staticmethod
    def _terms(query: str) -> str:
        return " ".join(bm25_tokenize([query])[0])

    def dense(self, qvecs: np.ndarray, n: int) -> list[Ranked]:
        if len(qvecs) == 0:
            return []
        self._found.clear()
        res = self.client.search(self.passages_name, data=np.asarray(qvecs).tolist(),
                                 anns_field="vector", limit=n, output_fields=ROW_FIELDS,
                                 search_params={"metric_type": "IP",
                                                "params": {"ef": max(EF_SEARCH, n)}})
        return [[self._keep(h) for h in row] for row in res]

    def _keep(self, hit: dict, bm25: bool = False) -> tuple[str, float]:
        """(id, score) of a search hit; its fields are kept for the hits' passages and scores
        (one round trip fewer per question)."""
        entity = hit.get("entity") or {}
        if "text" in entity:
            self._found[hit["id"]] = {"id": hit["id"], **entity}
        if bm25:  # milvus-lite reports BM25 negated (a distance), servers as it is; Milvus
            # multiplies by (k1 + 1), which bm25s (Lucene's variant) leaves out: divided here,
            # both stores give a passage the same score.
            return hit["id"], abs(float(hit["distance"])) / (1.0 + BM25_PARAMS["bm25_k1"])
        return hit["id"], float(hit["distance"])

    def bm25(self, queries: Sequence[str], n: int) -> list[Ranked]:
        self._found.clear()
        out = []
        for q in queries:
            terms = self._terms(q)
            if not terms:
                out.append([])
                continue
            out.append(self._bm25_search(terms, n))
        return out

    def _bm25_search(self, terms: str, n: int, fields: list[str] = ROW_FIELDS) -> Ranked:
        res = self.client.search(self.passages_name, data=[terms], anns_field="sparse", limit=n,
                                 output_fields=fields, search_params={"metric_type": "BM25"})
        return [self._keep(h, bm25=True) for h in res[0]]

    def hybrid(self, qvecs: np.ndarray, queries: Sequence[str], n: int, rrf_k: int,
               candidates: int) -> list[Ranked]:
        from pymilvus import AnnSearchRequest, RRFRanker

        self._found.clear()
        out = []
        for qvec, q in zip(qvecs, queries):
            dense = AnnSearchRequest([np.asarray(qvec).tolist()], "vector",
                                     {"metric_type": "IP",
                                      "params": {"ef": max(EF_SEARCH, candidates)}}, candidates)
            terms = self._terms(q)
            if not terms:  # nothing for BM25 to match: the dense ranking, RRF-scored
                ranked = [self._keep(h) for h in self.client.search(
                    self.passages_name, data=[np.asarray(qvec).tolist()], anns_field="vector",
                    limit=min(n, candidates), output_fields=ROW_FIELDS,
                    search_params={"metric_type": "IP",
                                   "params": {"ef": max(EF_SEARCH, candidates)}})[0]]
                out.append([(key, 1.0 / (rrf_k + r)) for r, (key, _) in enumerate(ranked, 1)])
                continue
            sparse = AnnSearchRequest([terms], "sparse", {"metric_type": "BM25"}, candidates)
            res = self.client.hybrid_search(self.passages_name, [dense, sparse],
                                            RRFRanker(rrf_k), limit=n, output_fields=ROW_FIELDS)
            out.append([self._keep(h) for h in res[0]])
        return out

    def _rows(self, keys: Sequence[object], fields: list[str]) -> dict[str, dict]:
        keys = [str(k) for k in keys]
        if not keys:
            return {}
        if all(k in self._found for k in keys):  # returned by the search just made
            return {k: self._found[k] for k in keys}
        rows = self.client.query(self.passages_name, filter=f"id in {_quote(keys)}",
                                 output_fields=["id", *fields], limit=len(keys))
        return {r["id"]: r for r in rows}

    @staticmethod
    def _passage(r: dict) -> Passage:
        return Passage(id=r["id"], doc_id=r["doc_id"], source=r["source"], title=r["title"],
                       text=r["text"], start=r["start"], end=r["end"],
                       page=None if r["page"] < 0 else r["page"])

    def passages(self, keys: Sequence[object]) -> list[Passage]:
        rows = self._rows(keys, PASSAGE_FIELDS)
        return [self._passage(rows[str(k)]) for k in keys]

    def passages_of(self, doc_ids: Sequence[str]) -> list[Passage]:
        ids = list(dict.fromkeys(doc_ids))
        rows = [r for i in range(0, len(ids), 100)
                for r in self._query_all(self.passages_name, f"doc_id in {_quote(ids[i:i + 100])}",
                                         ["id", *PASSAGE_FIELDS])]
        return sorted(map(self._passage, rows), key=lambda p: (p.doc_id, p.start, p.end))

    def dense_scores(self, keys: Sequence[object], qvec: np.ndarray) -> list[float]:
        rows = self._rows(keys, ["vector"])
        return [float(np.asarray(rows[str(k)]["vector"], np.float32) @ qvec) for k in keys]

    def bm25_scores(self, keys: Sequence[object], query: str) -> list[float | None]:
        # A filtered BM25 search scores with the filtered rows' statistics, not the collection's:
        # the scores come from one unfiltered search instead; a passage below its top
        # ``BM25_SCORE_DEPTH`` gets None (unknown, and lower than all of those).
        terms = self._terms(query)
        if not keys or not terms:
            return [0.0] * len(keys)
        limit = min(max(len(keys), BM25_SCORE_DEPTH), QUERY_WINDOW)
        ranked = self._bm25_search(terms, limit, ["id"])
        # Fewer than asked for: every passage holding a query term is there, the others score 0.
        missing = 0.0 if len(ranked) < limit else None
        found = dict(ranked)
        return [found.get(str(k), missing) for k in keys]

    def doc_freq(self, term: str) -> int:
        if term not in self._df:
            if not term.replace("_", "").isalnum():
                return 0
            rows = self.client.query(self.passages_name,
                                     filter=f"TEXT_MATCH(text_terms, '{term}')",
                                     output_fields=["count(*)"])
            self._df[term] = int(rows[0]["count(*)"])
        return self._df[term]

    def idf(self, term: str) -> float:
        return bm25_idf(len(self), self.doc_freq(term))

    def __len__(self) -> int:
        if self._count is None:
            rows = self.client.query(self.passages_name, filter="", output_fields=["count(*)"])
            self._count = int(rows[0]["count(*)"])
        return self._count

    def save(self, path=None) -> None:
        """Milvus writes as it goes; this flushes the collections to storage."""
        if path is not None:
            raise ConfigError("a Milvus index is saved where it lives: save() takes no path")
        for name in (self.passages_name, self.documents_name):
            self.client.flush(name)

    def close(self) -> None:
        self.client.close()
