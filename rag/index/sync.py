"""Incremental indexing: make a store hold a set of documents, embedding only what changed."""
from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from ..ingest.chunking import chunk_documents
from ..embedders import Embedder
from .passages import _text_hash
from ..settings import Settings
from .stores import Store
from ..types import Document, IndexStats

# Bumped when sentence or block segmentation changes: passages of older indexes are re-cut.
SEGMENTER_VERSION = 2


def chunking(settings: Settings) -> dict:
    """The settings that shape passages: an index built with others is rebuilt."""
    return {"max_tokens": settings.max_tokens, "overlap_sentences": settings.overlap_sentences,
            "chunk_align": settings.chunk_align, "html": settings.html,
            "segmenter": SEGMENTER_VERSION}


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
        passages, vectors = chunk_and_embed(fresh, embedder, settings, progress)
        stamp = now()
        added = {d.id: by_id[d.id].added if d.id in by_id and by_id[d.id].added else stamp
                 for d in fresh}
        store.update(remove, fresh, passages, vectors, added)
    return IndexStats(added=len(fresh) - updated, updated=updated, removed=len(gone),
                      unchanged=unchanged, passages=len(store))


GROUP_CHARS = 500_000  # documents chunked (and then embedded) together: ~2,000 passages


def chunk_and_embed(docs: Sequence[Document], embedder: Embedder, settings: Settings,
                    progress: bool = False) -> tuple[list, np.ndarray]:
    """Passages of ``docs`` and their vectors. Chunking (which counts word pieces with the
    tokenizer) runs in a thread one group of documents ahead of embedding, so a fast embedder
    (a GPU) does not wait for it; both release the GIL for their heavy parts."""
    from concurrent.futures import ThreadPoolExecutor

    groups: list[list[Document]] = [[]]
    size = 0
    for d in docs:
        if size > GROUP_CHARS:
            groups.append([])
            size = 0
        groups[-1].append(d)
        size += len(d.text)

    def chunk(group: list[Document]) -> list:
        return chunk_documents(group, embedder.count_tokens, settings.max_tokens,
                               settings.overlap_sentences, settings.chunk_align)

    passages: list = []
    vectors = [np.zeros((0, embedder.dim), np.float32)]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc="embedding passages", unit="passage")
    with ThreadPoolExecutor(1, thread_name_prefix="rag-chunk") as pool:
        for part in [pool.submit(chunk, g) for g in groups if g]:
            found = part.result()
            if found:
                vectors.append(np.asarray(embedder.encode([p.text for p in found]),
                                          np.float32))
                passages += found
                if bar is not None:
                    bar.update(len(found))
    if bar is not None:
        bar.close()
    return passages, np.concatenate(vectors)
