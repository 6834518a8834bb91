"""Sentence-aware chunking. Every span is a slice of the document text: no text is rewritten."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .segment import split_sentences
from .types import Document, Passage

TokenCounter = Callable[[str], int]

_WORD = re.compile(r"\S+")


def _split_long(text: str, span: tuple[int, int], budget: int,
                count: TokenCounter) -> list[tuple[int, int]]:
    """Cut a span that alone exceeds ``budget`` word pieces at word boundaries."""
    words = [m.span() for m in _WORD.finditer(text, span[0], span[1])]
    pieces: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        j = i + 1
        used = count(text[words[i][0]:words[i][1]])
        while j < len(words):
            c = count(text[words[j][0]:words[j][1]])
            if used + c > budget:
                break
            used += c
            j += 1
        pieces.append((words[i][0], words[j - 1][1]))
        i = j
    return pieces


def chunk_spans(text: str, count: TokenCounter, max_tokens: int,
                overlap_sentences: int = 1) -> list[tuple[int, int]]:
    """Spans of passages made of whole sentences, each at most ``max_tokens`` word pieces
    including the two special tokens the model adds, consecutive passages sharing
    ``overlap_sentences`` sentences. A sentence longer than the budget is cut at word boundaries.

    Word-piece counts add up over white-space separated text, so counting each sentence once
    gives the exact count of any run of them."""
    budget = max_tokens - 2
    units: list[tuple[int, int, int]] = []
    for span in split_sentences(text):
        n = count(text[span[0]:span[1]])
        if n <= budget:
            units.append((span[0], span[1], n))
        else:
            for piece in _split_long(text, span, budget, count):
                units.append((piece[0], piece[1], count(text[piece[0]:piece[1]])))
    passages: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, used = i, 0
        while j < len(units) and used + units[j][2] <= budget:
            used += units[j][2]
            j += 1
        j = max(j, i + 1)
        passages.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # Step back by the overlap, but always move forward.
        i = max(j - overlap_sentences, i + 1)
    return passages


def chunk_document(doc: Document, count: TokenCounter, max_tokens: int,
                   overlap_sentences: int = 1) -> list[Passage]:
    """Passages of ``doc``; ids are ``doc_id:start-end`` and so stable across rebuilds."""
    return [Passage(id=f"{doc.id}:{s}-{e}", doc_id=doc.id, source=doc.source or doc.id,
                    title=doc.title, text=doc.text[s:e], start=s, end=e, page=doc.page_at(s))
            for s, e in chunk_spans(doc.text, count, max_tokens, overlap_sentences)]


def chunk_documents(docs: Sequence[Document], count: TokenCounter, max_tokens: int,
                    overlap_sentences: int = 1) -> list[Passage]:
    return [p for d in docs for p in chunk_document(d, count, max_tokens, overlap_sentences)]
