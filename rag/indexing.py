"""Incremental indexing: make a store hold a set of documents, embedding only what changed."""
from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from .chunking import chunk_documents
from .embedders import Embedder
from .index import _text_hash
from .settings import Settings
from .stores import Store
from .types import Document, IndexStats

# Bumped when sentence or block segmentation changes: passages of older indexes are re-cut.
SEGMENTER_VERSION = 2


def chunking(settings: Settings) -> dict:
    """The settings that shape passages: an index built with others is rebuilt."""
    return {"max_tokens": settings.max_tokens, "overlap_sentences": settings.overlap_sentences,
            "html": settings.html, "segmenter": SEGMENTER_VERSION}


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def sync(store: Store, embedder: Embedder, settings: Settings, docs: Sequence[Document], *,
         complete: bool = True, progress: bool = False) -> IndexStats:
    """Add or replace (by source) ``docs`` in ``store``, embedding only new or changed ones.
    With ``complete``, ``docs`` is everything the index should hold: other documents go."""
    entries = store.entries()
    by_id = {e.id: e for e in entries.values()}

    def same(d: Document) -> bool:
        e = by_id.get(d.id)
        return (e is not None and e.source == d.source and e.title == d.title
                and e.sha256 == _text_hash(d.text))

    fresh = [d for d in docs if not same(d)]
    sources = {d.source for d in docs}
    fresh_sources = {d.source for d in fresh}
    gone = [s for s in entries if s not in sources] if complete else []
    remove = [entries[s].id for s in gone] + [entries[s].id for s in fresh_sources
                                              if s in entries]
    updated = sum(1 for s in fresh_sources if s in entries)
    unchanged = sum(1 for s in entries if s not in fresh_sources and s not in gone)
    if fresh or remove:
        passages = chunk_documents(fresh, embedder.count_tokens, settings.max_tokens,
                                   settings.overlap_sentences)
        vectors = (embedder.encode([p.text for p in passages], progress=progress) if passages
                   else np.zeros((0, embedder.dim), np.float32))
        stamp = now()
        added = {d.id: by_id[d.id].added if d.id in by_id and by_id[d.id].added else stamp
                 for d in fresh}
        store.update(remove, fresh, passages, vectors, added)
    return IndexStats(added=len(fresh) - updated, updated=updated, removed=len(gone),
                      unchanged=unchanged, passages=len(store))
