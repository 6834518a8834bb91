"""A local index folder: segments and a manifest, written so that a kill at any moment leaves the
index as it was before or after the save; never pickle.

    INDEX/manifest.json      format, model, dimension, chunking, folders, the per-document
                             manifest (source -> id, SHA-256, when added), the segments with
                             their files' SHA-256, and the rows deleted since the base
    INDEX/base/              vectors.faiss (faiss.write_index: exact or HNSW), passages.jsonl,
                             documents.jsonl, bm25-*.npy + bm25-vocab.json
    INDEX/delta-N/           what a later save added: vectors.npy, passages.jsonl,
                             documents.jsonl (its BM25 postings are rebuilt on open: it is small)

Rows are numbered across the segments in order. A save after a change writes one small delta
segment and replaces ``manifest.json`` atomically (os.replace): adding a document costs what that
document costs, not a rewrite of the index. A first save, a save elsewhere, or one when deltas or
deleted rows have piled up (``MAX_DELTAS``, ``MAX_DEAD``) writes a fresh base into a temporary
folder that replaces the old one by two renames; :func:`recover` finishes those renames if a kill
fell between them. Segment folders no manifest names (left by a killed save) are removed by the
next save.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import IndexLoadError
from .passages import PassageIndex, _sha256, _text_hash
from ..types import Document, Passage

FORMAT = "rag-index"
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
BASE = "base"
VECTORS = "vectors.faiss"
DELTA_VECTORS = "vectors.npy"
PASSAGES = "passages.jsonl"
DOCUMENTS = "documents.jsonl"
REBUILD = "rebuild it with `rag index FOLDER --index DIR` (or Retriever.from_folder)"
MAX_DELTAS = 32     # more delta segments than this: the next save writes one base
MAX_DEAD = 0.25     # more deleted rows than this share: the next save drops them (a new base)

log = logging.getLogger(__name__)


@dataclass
class Saved:
    """What a folder holds of an index in memory: rows ``[0, rows)`` as of ``generation`` (row
    numbering), the documents saved, the segments, and the save's id (to tell whether another
    process wrote the folder since)."""

    path: Path
    rows: int
    generation: int
    segments: list[dict]
    save_id: str
    documents: set[str] = field(default_factory=set)
    stamp: tuple = ()  # the manifest file's (size, mtime): unchanged, it is still ours


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _doc_row(d: Document) -> dict:
    return {"id": d.id, "source": d.source, "title": d.title, "text": d.text,
            "page_starts": list(d.page_starts), "modified": d.modified}


def _passage_row(p: Passage) -> dict:
    # Passage text is not stored: it is re-sliced from its document on load.
    return {"id": p.id, "doc_id": p.doc_id, "start": p.start, "end": p.end, "page": p.page}


def _fsync(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def _manifest(meta: dict, documents: dict[str, Document], index: PassageIndex,
              added: dict[str, str], hashes: dict[str, str], segments: list[dict]) -> dict:
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "model_id": meta["model_id"],
        "backend": meta.get("backend", "torch"), "dimension": index.dim,
        "passage_count": len(index), "document_count": len(documents),
        "chunking": meta.get("chunking", {}), "folders": meta.get("folders", {}),
        "unreadable": meta.get("unreadable", {}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "save_id": uuid.uuid4().hex,
        "documents": {d.source: {"id": d.id, "sha256": hashes.get(d.id) or _text_hash(d.text),
                                 "added": added.get(d.id, "")}
                      for d in documents.values()},
        "segments": segments,
        "deleted": np.flatnonzero(~index.alive).tolist(),
    }


def save_index(path: str | Path, documents: dict[str, Document], index: PassageIndex,
               meta: dict, added: dict[str, str], hashes: dict[str, str] | None = None,
               saved: Saved | None = None, changed: set[str] | None = None) -> Saved:
    """Save to folder ``path``: a delta segment when ``saved`` says what the folder holds already
    (``changed``: ids of the documents added or replaced since), else a fresh base. Returns
    what the folder holds now."""
    target = Path(path).resolve()
    hashes = hashes or {}
    if (saved is not None and saved.path == target and saved.generation == index.generation
            and saved.rows <= index.size and len(saved.segments) <= MAX_DELTAS
            and index.dead <= MAX_DEAD * max(index.size, 1) and not index.needs_rebuild
            and saved.segments[0].get("kind") == index.kind  # else the open rebuilt the graph
            and _stamp(target) == saved.stamp):
        return _save_delta(target, documents, index, meta, added, hashes, saved,
                           changed or set())
    return _save_base(target, documents, index, meta, added, hashes)


def _stamp(target: Path) -> tuple:
    """Size and time of the manifest: another process's save changes them (no need to read
    a manifest that lists every document)."""
    try:
        st = (target / MANIFEST).stat()
    except OSError:
        return ()
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _dump(manifest: dict) -> str:
    return json.dumps(manifest, ensure_ascii=False, separators=(",", ":"))


def _save_base(target: Path, documents: dict[str, Document], index: PassageIndex, meta: dict,
               added: dict[str, str], hashes: dict[str, str]) -> Saved:
    import faiss

    index.compact()
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    try:
        seg = tmp / BASE
        seg.mkdir()
        faiss.write_index(index.faiss_index, str(seg / VECTORS))
        _write_jsonl(seg / DOCUMENTS, map(_doc_row, documents.values()))
        _write_jsonl(seg / PASSAGES, map(_passage_row, index.passages))
        names = [VECTORS, DOCUMENTS, PASSAGES, *index.bm25.save(seg)]
        segments = [{"name": BASE, "rows": index.size, "kind": index.kind,
                     "files": {n: _sha256(seg / n) for n in names}}]
        manifest = _manifest(meta, documents, index, added, hashes, segments)
        (tmp / MANIFEST).write_text(_dump(manifest))
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
    return Saved(target, index.size, index.generation, segments, manifest["save_id"],
                 set(documents), _stamp(target))


def _save_delta(target: Path, documents: dict[str, Document], index: PassageIndex, meta: dict,
                added: dict[str, str], hashes: dict[str, str], saved: Saved,
                changed: set[str]) -> Saved:
    segments = list(saved.segments)
    if index.size > saved.rows or changed:
        numbers = [int(m.group(1)) for p in target.iterdir()
                   if (m := re.fullmatch(r"delta-(\d+)", p.name))]
        name = f"delta-{max(numbers, default=0) + 1}"
        seg = target / name
        shutil.rmtree(seg, ignore_errors=True)
        seg.mkdir()
        np.save(seg / DELTA_VECTORS, index.vectors_of(np.arange(saved.rows, index.size)),
                allow_pickle=False)
        _write_jsonl(seg / PASSAGES, map(_passage_row, index.passages[saved.rows:]))
        _write_jsonl(seg / DOCUMENTS, (_doc_row(documents[i]) for i in sorted(changed)
                                       if i in documents))
        names = [DELTA_VECTORS, PASSAGES, DOCUMENTS]
        for n in names:
            _fsync(seg / n)
        segments.append({"name": name, "rows": index.size - saved.rows,
                         "files": {n: _sha256(seg / n) for n in names}})
    manifest = _manifest(meta, documents, index, added, hashes, segments)
    tmp = target / f".{MANIFEST}.tmp-{os.getpid()}"
    tmp.write_text(_dump(manifest))
    _fsync(tmp)
    os.replace(tmp, target / MANIFEST)  # the save: before it the old manifest, after it the new
    named = {s["name"] for s in segments}
    for p in target.iterdir():  # segments of killed saves
        if p.is_dir() and p.name not in named and re.fullmatch(r"delta-\d+", p.name):
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(f".{MANIFEST}.tmp-") and p != tmp:
            p.unlink(missing_ok=True)
    for stale, _ in _leftovers(target):  # of base saves killed earlier
        shutil.rmtree(stale, ignore_errors=True)
    return Saved(target, index.size, index.generation, segments, manifest["save_id"],
                 saved.documents | changed, _stamp(target))


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
    """Finish a base save that was killed between its two renames: ``path`` is then missing, and
    beside it lie the complete new version (``.NAME.tmp-PID-*``, manifest written last) and/or
    the previous one (``.NAME.old-PID``). The new one is put back if complete, else the old one.
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
    log.warning("recovered the index at %s from an interrupted save", target)
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
               ) -> tuple[dict, list[Document], PassageIndex, Saved]:
    """Read and verify an index folder. Raises IndexLoadError, saying how to fix it, when the
    folder is missing, corrupt, truncated or built with another model or dimension."""
    folder = Path(path)
    manifest = manifest if manifest is not None else read_manifest(folder)
    where = f"index at {str(folder)!r}"
    if model_id is not None and manifest.get("model_id") != model_id:
        raise IndexLoadError(f"{where} was built with model {manifest.get('model_id')!r}, not "
                             f"{model_id!r}: {REBUILD}")
    if dim is not None and manifest.get("dimension") != dim:
        raise IndexLoadError(f"{where} has dimension {manifest.get('dimension')}, the model "
                             f"gives {dim}: {REBUILD}")
    segments = manifest.get("segments") or []
    if not segments or segments[0].get("name") != BASE:
        raise IndexLoadError(f"{where}: its manifest names no base segment: {REBUILD}")
    for seg in segments:
        for name, digest in seg.get("files", {}).items():
            fpath = folder / seg["name"] / name
            shown = f"{seg['name']}/{name}"
            if not fpath.is_file():
                raise IndexLoadError(f"{where}: {shown} is missing: {REBUILD}")
            if _sha256(fpath) != digest:
                raise IndexLoadError(f"{where}: {shown} is corrupt or truncated (checksum "
                                     f"differs from the manifest): {REBUILD}")
    try:
        index, docs = _read(folder, manifest, segments, ann)
    except IndexLoadError:
        raise
    except Exception as e:  # noqa: BLE001 - any read failure means the index is unusable
        raise IndexLoadError(f"{where} cannot be read ({type(e).__name__}: {e}): {REBUILD}") from e
    if len(index) != manifest.get("passage_count"):
        raise IndexLoadError(f"{where}: {len(index)} live passages, the manifest says "
                             f"{manifest.get('passage_count')}: {REBUILD}")
    if index.dim != manifest.get("dimension"):
        raise IndexLoadError(f"{where}: vectors have dimension {index.dim}, manifest says "
                             f"{manifest.get('dimension')}: {REBUILD}")
    saved = Saved(folder.resolve(), index.size, index.generation, segments,
                  manifest.get("save_id", ""), {d.id for d in docs}, _stamp(folder.resolve()))
    return manifest, docs, index, saved


def _read(folder: Path, manifest: dict, segments: list[dict], ann: str
          ) -> tuple[PassageIndex, list[Document]]:
    import faiss

    from .bm25 import BM25
    from .passages import _bm25_tokens

    current = {e["id"] for e in manifest.get("documents", {}).values()}
    by_id: dict[str, Document] = {}
    for seg in segments:  # a later segment's version of a document wins
        for r in map(json.loads, (folder / seg["name"] / DOCUMENTS).open(encoding="utf-8")):
            if r["id"] in current:
                by_id[r["id"]] = Document(id=r["id"], text=r["text"], title=r["title"],
                                          source=r["source"],
                                          page_starts=tuple(r["page_starts"]),
                                          modified=r.get("modified", ""))
    deleted = np.asarray(manifest.get("deleted", []), np.int64)
    passages: list[Passage] = []
    vectors = faiss.read_index(str(folder / BASE / VECTORS))
    bm25 = BM25.load(folder / BASE)
    for seg in segments:
        first = len(passages)
        for r in map(json.loads, (folder / seg["name"] / PASSAGES).open(encoding="utf-8")):
            d = by_id.get(r["doc_id"])  # a deleted row's document may be gone
            passages.append(Passage(id=r["id"], doc_id=r["doc_id"],
                                    source=d.source if d else "", title=d.title if d else "",
                                    text=d.text[r["start"]:r["end"]] if d else "",
                                    start=r["start"], end=r["end"], page=r["page"]))
        if len(passages) - first != seg["rows"]:
            raise IndexLoadError(f"index at {str(folder)!r}: segment {seg['name']} has "
                                 f"{len(passages) - first} passages, the manifest says "
                                 f"{seg['rows']}: {REBUILD}")
        if seg["name"] != BASE:
            more = np.load(folder / seg["name"] / DELTA_VECTORS, allow_pickle=False)
            if len(more):
                vectors.add(np.ascontiguousarray(more, dtype=np.float32))
            bm25.add(_bm25_tokens(passages[first:]))
    if vectors.ntotal != len(passages) or bm25.size != len(passages):
        raise IndexLoadError(f"index at {str(folder)!r}: {vectors.ntotal} vectors for "
                             f"{len(passages)} passages: {REBUILD}")
    alive = np.ones(len(passages), bool)
    alive[deleted] = False
    bm25.delete(deleted)
    docs = [by_id[i] for i in sorted(by_id, key=lambda i: by_id[i].source)]
    if len(docs) != len(current):
        raise IndexLoadError(f"index at {str(folder)!r}: {len(current) - len(docs)} documents "
                             f"of the manifest are in no segment: {REBUILD}")
    return PassageIndex(passages, ann=ann, faiss_index=vectors, alive=alive, bm25=bm25), docs
