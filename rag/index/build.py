"""Building and opening indexes: which embedder reads an index, whether a saved one can be
refreshed or must be rebuilt, reading the folders it is built from, and keeping its manifest
(folders, unreadable files) up to date. The retriever calls these; it names no store."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from ..embedders import VECTOR_SPACE, Embedder, backend_of, default_embedder
from ..errors import ConfigError, IndexLoadError
from ..ingest.loading import SUFFIXES, doc_id_for, load_folder
from ..settings import DEFAULT_BACKEND, Settings
from ..types import Document, DocumentInfo, IndexStats
from .persist import read_manifest
from .stores import STORE_HELP, Store, parse_store, store_class
from .sync import chunking, sync

log = logging.getLogger(__name__)

UPLOADS_PREFIX = "uploads/"


def setup(embedder: Embedder | None, settings: Settings | None,
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


def mismatch(meta: dict, embedder: Embedder, where: str) -> str | None:
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


def saved_settings(meta: dict, settings: Settings) -> Settings:
    """Settings that chunk further documents as the saved ones were."""
    saved = meta.get("chunking", {})
    if saved and "chunk_align" not in saved:
        saved = {**saved, "chunk_align": "sentences"}  # built before paragraph alignment
    keys = ("max_tokens", "overlap_sentences", "chunk_align", "html")
    return dataclasses.replace(settings, **{k: v for k, v in saved.items() if k in keys})


def _meta(embedder: Embedder, settings: Settings, folders: dict | None = None) -> dict:
    return {"model_id": embedder.model_id, "backend": backend_of(embedder),
            "dimension": embedder.dim, "chunking": chunking(settings), "folders": folders or {}}


def target(index: str | Path | None, store: str | Store | None):
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


def _extraction_cache(index, store, folder):
    """The extraction cache of an index: ``folder`` when given, else beside a local index
    (INDEX-extracted) or a Milvus Lite file; None for an index kept nowhere."""
    from ..ingest.extracted import ExtractionCache
    from ..paths import extracted_folder, store_base

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


def _under(doc: Document, prefix: str) -> Document:
    """``doc`` cited as ``prefix + source`` (its id follows the new source)."""
    source = prefix + doc.source
    return dataclasses.replace(doc, source=source, id=doc_id_for(source, doc.text))


def read_folders(folder: str | Path, uploads: str | Path | None, settings: Settings | None,
                 index=None, store=None, extracted=None):
    """(documents, skipped sources, folders, unreadable {source: why}) of ``folder`` and, cited
    as ``uploads/NAME``, of ``uploads``; costly reads kept in the extraction cache of the
    index (``extracted``, else beside ``index`` or ``store``)."""
    html, ocr = (settings or Settings()).html, (settings or Settings()).ocr
    cache = _extraction_cache(index, store, extracted)
    reasons: dict[str, str] = {}
    docs, skipped = load_folder(folder, html=html, ocr=ocr, reasons=reasons, cache=cache)
    unreadable = {s: reasons[s] for s in skipped}
    if uploads is not None and Path(uploads).is_dir():
        why: dict[str, str] = {}
        more, more_skipped = load_folder(uploads, html=html, ocr=ocr, reasons=why, cache=cache)
        docs += [_under(d, UPLOADS_PREFIX) for d in more]
        skipped += [UPLOADS_PREFIX + s for s in more_skipped]
        unreadable.update({UPLOADS_PREFIX + s: why[s] for s in more_skipped})
    if cache is not None:
        cache.prune(cache.used)
    if not docs:
        why_not = "; ".join(f"{s}: {r}" for s, r in sorted(reasons.items())[:10])
        raise ConfigError(f"folder {str(Path(folder).resolve())!r} has no readable file"
                          f"{f' ({why_not})' if why_not else ''}: add documents to it (rag "
                          f"reads {'/'.join(SUFFIXES)})")
    folders = {"folder": str(Path(folder).resolve())}
    if uploads is not None:
        folders["uploads"] = str(Path(uploads).resolve())
    return docs, skipped, folders, unreadable


def _reusable(meta: dict, embedder: Embedder, settings: Settings, kind_class, location,
              connection):
    """The saved store when it can be refreshed in place, else None (with the reason logged:
    the index is then rebuilt)."""
    if not meta:
        return None
    why = mismatch(meta, embedder, f"index at {location!r}")
    if meta.get("chunking") != chunking(settings):
        old, cur = meta.get("chunking") or {}, chunking(settings)
        changed = ", ".join(f"{k} {old.get(k, 'unset')} -> {cur[k]}" for k in cur
                            if old.get(k) != cur[k])
        log.warning("chunking settings changed (%s): rebuilding the index", changed)
        return None
    if why:
        log.warning("rebuilding the index: %s", why)
        return None
    try:
        return kind_class.reopen(location, meta, connection, embedder, settings)
    except IndexLoadError as e:
        log.warning("rebuilding the index: %s", e)
        return None


def refresh(docs: list[Document], where, embedder: Embedder | None,
            settings: Settings | None, progress: bool, folders: dict[str, str] | None = None,
            replace: bool = False, unreadable: dict[str, str] | None = None):
    """Make the index kept at ``where`` (see :func:`target`; None: in memory) hold ``docs``,
    embedding only what changed; a saved index of another model, backend or chunking is
    rebuilt. Returns (store, embedder, settings, what changed). An index that holds another
    folder is refused (ConfigError) unless ``replace``."""
    if where is not None and not isinstance(where, tuple):  # an open store
        kind_class, location = type(where), where.location
        meta, connection = where.meta, where
    else:
        kind, location = where or ("local", None)
        kind_class = store_class(kind)
        meta, connection = kind_class.attach(location)
    held = (meta.get("folders") or {}).get("folder") if meta else None
    if held and not replace and held != (folders or {}).get("folder"):
        what = f"folder {folders['folder']!r}" if folders else "these documents"
        raise ConfigError(f"the index at {location!r} holds folder {held!r}: refreshing it "
                          f"with {what} would drop that folder's documents. Give another "
                          "index (--index DIR), or rebuild this one on purpose with "
                          "--replace (Retriever.from_folder(..., replace=True))")
    embedder, settings = setup(embedder, settings, meta.get("backend", "torch") if meta else None)
    store = _reusable(meta, embedder, settings, kind_class, location, connection)
    new = store is None
    if new:
        store = kind_class.make(location, _meta(embedder, settings, folders), connection,
                                  embedder, settings)
    stats = sync(store, embedder, settings, docs, progress=progress)
    changed = {}
    if folders is not None and folders != dict(store.meta.get("folders", {})):
        changed["folders"] = folders
    if unreadable is not None and unreadable != store.meta.get("unreadable", {}):
        changed["unreadable"] = unreadable
    if changed:
        store.set_meta(**changed)
    store.commit(location, bool(stats.added or stats.updated or stats.removed or new or changed))
    return store, embedder, settings, stats


def load_local(path: str | Path, embedder: Embedder | None, settings: Settings | None,
               manifest: dict | None = None):
    """(store, embedder, settings) of the index saved in folder ``path``; IndexLoadError (with
    how to fix it) when it is missing, corrupt, truncated, or built for another model."""
    from .stores.local import LocalStore

    given = settings
    manifest = manifest if manifest is not None else read_manifest(path)
    embedder, settings = setup(embedder, settings, manifest.get("backend", "torch"))
    why = mismatch(manifest, embedder, f"index at {str(path)!r}")
    if why and "backend" in why:
        raise IndexLoadError(why)
    store = LocalStore.open(path, model_id=embedder.model_id, dim=embedder.dim,
                            ann=settings.ann, manifest=manifest)
    if given is None:
        settings = saved_settings(manifest, settings)
    return store, embedder, settings


def open_store(uri: str, embedder: Embedder | None, settings: Settings | None):
    """(store, embedder, settings) of an existing index: a folder (or ``local:DIR``),
    ``milvus:FILE.db`` or a Milvus server URL; IndexLoadError when there is none or it was
    built for another model."""
    kind, location = parse_store(uri)
    if kind == "local":
        return load_local(location, embedder, settings)
    given = settings
    kind_class = store_class(kind)
    meta, connection = kind_class.attach(location)
    if not meta:
        if connection is not None:
            connection.close()
        raise IndexLoadError(f"no rag index in the {kind.capitalize()} store {location!r}: build "
                             f"it with `rag index FOLDER --store {uri}`")
    embedder, settings = setup(embedder, settings, meta.get("backend", "torch"))
    why = mismatch(meta, embedder, f"{kind.capitalize()} store {location!r}")
    if why:
        if connection is not None:
            connection.close()
        raise IndexLoadError(why if "backend" in why else
                             f"{why}: rebuild it with `rag index FOLDER --store {uri}`")
    if given is None:
        settings = saved_settings(meta, settings)
    return kind_class.reopen(location, meta, connection, embedder, settings), embedder, settings


def remove(store: Store, dim: int, ids) -> IndexStats:
    """Drop documents (by id) and their passages; ConfigError for an unknown id."""
    import numpy as np

    entries = store.entries()
    known = {e.id for e in entries.values()}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ConfigError(f"document id {unknown[0]!r} is not in the index: list them with "
                          "Retriever.document_infos() (or `rag documents`)")
    store.update(list(ids), [], [], np.zeros((0, dim), np.float32), {})
    return IndexStats(removed=len(set(ids)), unchanged=len(entries) - len(set(ids)),
                      passages=len(store))


def find_text(store: Store, documents, text: str) -> Document | None:
    """The indexed document whose text is exactly ``text``, if any."""
    from .passages import _text_hash

    digest = _text_hash(text)
    for e in store.entries().values():
        if e.sha256 == digest:
            doc = documents.get(e.id)
            if doc is not None and doc.text == text:
                return doc
    return None


def document_infos(store: Store) -> list[DocumentInfo]:
    """One entry per indexed document and one per unreadable file (its ``error``), by
    source."""
    infos = dict(store.entries())
    for source, why in (store.meta.get("unreadable") or {}).items():
        infos.setdefault(source, DocumentInfo(id=doc_id_for(source, ""), source=source,
                                              title="", pages=None, passages=0, chars=0,
                                              added="", error=why))
    return [e for _, e in sorted(infos.items())]
