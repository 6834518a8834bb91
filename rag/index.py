"""The passage index: FAISS over normalised embeddings, BM25 (bm25s) over the same passages, and
their persistence (faiss.write_index + JSONL + manifest.json; never pickle)."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from .errors import IndexLoadError
from .types import Document, Passage

FORMAT = "rag-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
PASSAGES = "passages.jsonl"
DOCUMENTS = "documents.jsonl"
REBUILD = "rebuild it with `rag index FOLDER --index DIR` (or Retriever.from_folder)"
# Settings(ann="auto") searches exactly up to this many passages, by HNSW above: exact search
# costs ~1 ms per 10,000 passages a query on 2 cores; HNSW stays ~1 ms at a million, at a recall@10
# measured against exact search (eval/README.md, "Approximate search").
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


_STEMMER = None


def _stemmer(module):
    global _STEMMER
    if _STEMMER is None:
        _STEMMER = module.Stemmer("english")
    return _STEMMER


class PassageIndex:
    """Passages with their embeddings, searchable densely (FAISS: exact inner product, or HNSW
    above a size, see ``ANN_AUTO_PASSAGES``) and by BM25. ``vectors[i]`` is the embedding of
    ``passages[i]``.

    The vectors are held once, inside the FAISS index: ``vectors`` is a read-only view of its
    storage, not a copy. Give either ``vectors`` or a FAISS index (``faiss_index``, as read from
    disk); one of another kind than ``ann`` asks for is rebuilt from its own vectors."""

    def __init__(self, passages: list[Passage], vectors: np.ndarray | None = None,
                 ann: str = "auto", faiss_index=None, dim: int | None = None) -> None:
        import faiss

        self.passages = passages
        self.ann = ann
        self._bm25 = None
        self._df: dict | None = None
        kind = self.search_kind
        if faiss_index is not None and _kind_of(faiss_index) == kind:
            index = faiss_index
        else:
            if vectors is None:
                vectors = _storage_view(faiss_index) if faiss_index is not None else None
            if vectors is None:
                raise ValueError("PassageIndex needs vectors or a FAISS index")
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            d = vectors.shape[1] if vectors.ndim == 2 else int(dim or 0)
            if kind == "hnsw":
                index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
                index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            else:
                index = faiss.IndexFlatIP(d)
            if len(vectors):
                index.add(vectors)
        if kind == "hnsw":
            index.hnsw.efSearch = HNSW_EF_SEARCH
        if index.ntotal != len(passages):
            raise ValueError(f"{len(passages)} passages but {index.ntotal} vectors")
        self._faiss = index
        self._view = _storage_view(index)  # valid while the index lives: it is never re-added to
        self._view.flags.writeable = False

    @property
    def vectors(self) -> np.ndarray:
        """The embeddings, one row per passage: a read-only view of the FAISS storage."""
        return self._view

    @property
    def dim(self) -> int:
        return int(self._faiss.d)

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def search_kind(self) -> str:
        """How dense search runs for this index: "exact" or "hnsw" (see ``ANN_AUTO_PASSAGES``)."""
        return resolve_ann(self.ann, len(self))

    @property
    def faiss_index(self):
        return self._faiss

    def dense(self, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` (scores, indices) per query by inner product (cosine: vectors are unit)."""
        n = min(n, len(self))
        if n == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        return self._faiss.search(np.ascontiguousarray(queries, dtype=np.float32), n)

    @property
    def bm25(self):
        if self._bm25 is None:
            import bm25s

            logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG
            model = bm25s.BM25()
            # Passages are indexed with their document title, which often names the subject.
            model.index(bm25_tokenize([f"{p.title}\n{p.text}" for p in self.passages]),
                        show_progress=False)
            self._bm25 = model
        return self._bm25

    def doc_freq(self, term: str) -> int:
        """Number of passages holding the (stemmed) term."""
        if self._df is None:
            from collections import Counter

            self._df = dict(Counter(t for tokens in bm25_tokenize([p.text for p in self.passages])
                                    for t in set(tokens)))
        return self._df.get(term, 0)

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of a (stemmed) term over the passages."""
        df = self.doc_freq(term)
        return float(np.log(1 + (len(self) - df + 0.5) / (df + 0.5)))

    def bm25_scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (0 where no query term occurs)."""
        if len(self) == 0:
            return np.zeros(0, dtype=np.float32)
        tokens = bm25_tokenize([query])[0]
        if not tokens:
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)


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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def save_index(path: str | Path, documents: list[Document], index: PassageIndex, model_id: str,
               chunking: dict, added: dict[str, str] | None = None,
               folders: dict[str, str] | None = None, backend: str = "torch") -> None:
    """Write the index to ``path`` atomically: into a sibling temporary folder, then renamed, so an
    interrupted save leaves the previous index (or none), never a broken one."""
    import faiss

    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    try:
        faiss.write_index(index.faiss_index, str(tmp / VECTORS))
        _write_jsonl(tmp / DOCUMENTS, ({"id": d.id, "source": d.source, "title": d.title,
                                        "text": d.text, "page_starts": list(d.page_starts)}
                                       for d in documents))
        # Passage text is not stored: it is re-sliced from its document on load.
        _write_jsonl(tmp / PASSAGES, ({"id": p.id, "doc_id": p.doc_id, "start": p.start,
                                       "end": p.end, "page": p.page} for p in index.passages))
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "model_id": model_id,
            "backend": backend,
            "dimension": index.dim, "passage_count": len(index), "document_count": len(documents),
            "chunking": chunking, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "folders": folders or {},
            "documents": {d.source: {"id": d.id, "sha256": _text_hash(d.text),
                                     "added": (added or {}).get(d.id, "")}
                          for d in documents},
            "files": {name: _sha256(tmp / name) for name in (VECTORS, DOCUMENTS, PASSAGES)},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        # A kill between these two renames leaves no folder at ``target``: recover() puts the
        # complete new version (or else the old one) back when the index is next opened.
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for stale, _ in _leftovers(target):  # of saves killed earlier
        shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(target: Path) -> list[tuple[Path, str]]:
    """Sibling folders of saves whose process is gone: (folder, "tmp" or "old")."""
    import re

    out = []
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(tmp|old)-(\d+)")
    for p in target.parent.glob(f".{target.name}.*"):
        m = pattern.match(p.name)
        if m and p.is_dir() and not _alive(int(m.group(2))):
            out.append((p, m.group(1)))
    return out


def _complete(folder: Path) -> bool:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def recover(path: str | Path) -> bool:
    """Finish a save that was killed between its two renames: ``path`` is then missing, and beside
    it lie the complete new version (``.NAME.tmp-PID-*``, manifest written last) and/or the
    previous one (``.NAME.old-PID``). The new one is put back if complete, else the old one.
    Returns True when something was recovered. Saves of live processes are left alone."""
    target = Path(path).resolve()
    if target.exists() or not target.parent.is_dir():
        return False
    found = [(p, kind) for p, kind in _leftovers(target) if _complete(p)]
    if not found:
        return False
    # The newest complete new version, else the newest old one.
    found.sort(key=lambda pk: (pk[1] == "tmp", pk[0].stat().st_mtime))
    os.replace(found[-1][0], target)
    logging.getLogger(__name__).warning("recovered the index at %s from an interrupted save",
                                        target)
    return True


def read_manifest(path: str | Path) -> dict:
    folder = Path(path)
    recover(folder)
    mpath = folder / MANIFEST
    if not mpath.is_file():
        raise IndexLoadError(f"no index at {str(folder.resolve())!r} (no {MANIFEST} there): "
                             f"{REBUILD}, or point to one with --index DIR or RAG_INDEX")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise IndexLoadError(f"index at {str(folder)!r}: {MANIFEST} is corrupt ({e}): "
                             f"{REBUILD}") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexLoadError(f"{str(mpath)!r} is not a rag index manifest: {REBUILD}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexLoadError(f"index at {str(folder)!r} has format version "
                             f"{manifest.get('format_version')}, this rag reads {FORMAT_VERSION}: "
                             f"{REBUILD}")
    return manifest


def load_index(path: str | Path, model_id: str | None = None, dim: int | None = None,
               ann: str = "auto", manifest: dict | None = None
               ) -> tuple[dict, list[Document], PassageIndex]:
    """Read and verify an index folder. Raises IndexLoadError, saying how to fix it, when the
    folder is missing, corrupt, truncated or built with another model or dimension."""
    import faiss

    folder = Path(path)
    manifest = manifest if manifest is not None else read_manifest(folder)
    where = f"index at {str(folder)!r}"
    if model_id is not None and manifest.get("model_id") != model_id:
        raise IndexLoadError(f"{where} was built with model {manifest.get('model_id')!r}, not "
                             f"{model_id!r}: {REBUILD}")
    if dim is not None and manifest.get("dimension") != dim:
        raise IndexLoadError(f"{where} has dimension {manifest.get('dimension')}, the model "
                             f"gives {dim}: {REBUILD}")
    for name, digest in manifest.get("files", {}).items():
        fpath = folder / name
        if not fpath.is_file():
            raise IndexLoadError(f"{where}: {name} is missing: {REBUILD}")
        if _sha256(fpath) != digest:
            raise IndexLoadError(f"{where}: {name} is corrupt or truncated (checksum differs "
                                 f"from the manifest): {REBUILD}")
    try:
        vectors_index = faiss.read_index(str(folder / VECTORS))
        docs = [Document(id=r["id"], text=r["text"], title=r["title"], source=r["source"],
                         page_starts=tuple(r["page_starts"]))
                for r in map(json.loads, (folder / DOCUMENTS).open(encoding="utf-8"))]
        by_id = {d.id: d for d in docs}
        passages = []
        for r in map(json.loads, (folder / PASSAGES).open(encoding="utf-8")):
            d = by_id[r["doc_id"]]
            passages.append(Passage(id=r["id"], doc_id=d.id, source=d.source, title=d.title,
                                    text=d.text[r["start"]:r["end"]], start=r["start"],
                                    end=r["end"], page=r["page"]))
    except Exception as e:  # noqa: BLE001 - any read failure means the index is unusable
        raise IndexLoadError(f"{where} cannot be read ({type(e).__name__}: {e}): {REBUILD}") from e
    if vectors_index.ntotal != len(passages) or len(passages) != manifest.get("passage_count"):
        raise IndexLoadError(f"{where}: {vectors_index.ntotal} vectors for {len(passages)} "
                             f"passages (manifest says {manifest.get('passage_count')}): {REBUILD}")
    if vectors_index.d != manifest.get("dimension"):
        raise IndexLoadError(f"{where}: vectors have dimension {vectors_index.d}, manifest says "
                             f"{manifest.get('dimension')}: {REBUILD}")
    return manifest, docs, PassageIndex(passages, ann=ann, faiss_index=vectors_index)
