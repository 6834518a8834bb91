"""Loaders of the formats beyond plain text, web pages, PDF and Word (rag/loading.py): one small
module each, every one returning (text, title, page starts): the document's text as rag indexes
and cites it (citations are exact slices of it), and where each page, slide, sheet or chapter
starts in it."""
from __future__ import annotations

from collections.abc import Sequence


def join_pages(parts: Sequence[str], sep: str = "\n\n") -> tuple[str, tuple[int, ...]]:
    """The parts (pages, slides, sheets...) joined by ``sep``, and where each starts."""
    starts, pos, kept = [], 0, []
    for part in parts:
        starts.append(pos)
        kept.append(part)
        pos += len(part) + len(sep)
    return sep.join(kept), tuple(starts)
