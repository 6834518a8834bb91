"""Adapters to other frameworks (optional extras, imported only when asked for):
:mod:`rag.integrations.langchain` and :mod:`rag.integrations.llamaindex`."""
from __future__ import annotations

from ..types import Hit


def hit_metadata(hit: Hit) -> dict:
    """Where a passage sits, and how it scored: what both adapters attach to it."""
    p = hit.passage
    return {"source": p.source, "title": p.title, "start": p.start, "end": p.end,
            "page": p.page, "passage_id": p.id, "doc_id": p.doc_id, "score": hit.score,
            "rank": hit.rank, "dense_score": hit.dense_score, "bm25_score": hit.bm25_score}
