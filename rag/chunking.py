"""Sentence-aware chunking. Every span is a slice of the document text: no text is rewritten."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .types import Document, Passage

TokenCounter = Callable[[str], int]

# Words after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e cf al fig figs no nos vol approx ca est dept "
    "jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp gen col lt sgt rev".split())

# A sentence ends at . ! ? or … (plus closing quotes/brackets) followed by white space.
_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_PARAGRAPH = re.compile(r"\n\s*\n|\n")
_WORD = re.compile(r"\S+")


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at ``dot`` closes an abbreviation or an initial ("J. Smith")."""
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip("(\"'“‘").lower()
    if word in _ABBREVIATIONS:
        return True
    return len(word) == 1 and word.isalpha()


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of ``text[start:end]``, trimmed of white space. Line breaks
    always end a sentence (headings, list items and paragraphs stand alone)."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    block_start = start
    blocks: list[tuple[int, int]] = []
    for m in _PARAGRAPH.finditer(text, start, end):
        blocks.append((block_start, m.start()))
        block_start = m.end()
    blocks.append((block_start, end))
    for b_start, b_end in blocks:
        s = b_start
        for m in _END.finditer(text, b_start, b_end):
            dot = m.start()
            nxt = m.end()
            while nxt < b_end and text[nxt].isspace():
                nxt += 1
            if text[dot] == "." and _is_abbreviation(text, dot):
                continue
            if nxt < b_end and text[nxt].islower():
                continue  # "e.g. the famines" - lowercase continuation is not a new sentence
            spans.append((s, m.end()))
            s = m.end()
        spans.append((s, b_end))
    out = []
    for s, e in spans:
        s, e = _trim(text, s, e)
        if e > s:
            out.append((s, e))
    return out


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
