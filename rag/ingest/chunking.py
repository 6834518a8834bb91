"""Sentence-aware chunking. Every span is a slice of the document text: no text is rewritten."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .segment import split_blocks, split_sentences, wrap_width
from ..types import Document, Passage

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


ALIGNS = ("paragraphs", "sentences")
# A block is a heading (kept with the paragraph under it) when it is one short line that does
# not end as a sentence does, or a Markdown heading.
_HEADING_WORDS = 15
_SENTENCE_END = re.compile(r"[.!?…:;,\"”’)\]]\s*$")


def _units(text: str, count: TokenCounter, budget: int) -> list[tuple[int, int, int, int]]:
    """(start, end, word pieces, block number) of each sentence (a sentence longer than the
    budget cut at word boundaries)."""
    units = []
    for b, (b0, b1) in enumerate(split_blocks(text)):
        for span in split_sentences(text, b0, b1, width=wrap_width(text)):
            n = count(text[span[0]:span[1]])
            if n <= budget:
                units.append((span[0], span[1], n, b))
            else:
                for piece in _split_long(text, span, budget, count):
                    units.append((piece[0], piece[1], count(text[piece[0]:piece[1]]), b))
    return units


def _is_heading(text: str, block: list[tuple[int, int, int, int]]) -> bool:
    line = text[block[0][0]:block[-1][1]]
    if line.lstrip().startswith("#"):
        return True
    return (len(block) == 1 and "\n" not in line and len(line.split()) <= _HEADING_WORDS
            and not _SENTENCE_END.search(line))


def _by_sentences(units: list, budget: int, overlap: int) -> list[tuple[int, int]]:
    """Runs of whole sentences within ``budget``, consecutive runs sharing ``overlap``."""
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
        i = max(j - overlap, i + 1)
    return passages


def _by_paragraphs(text: str, units: list, budget: int,
                   overlap: int) -> list[tuple[int, int]]:
    """Passages that start where a paragraph (block) does: short blocks packed together up to
    the budget, a long one split at sentences (the overlap only inside it), a heading kept with
    the block under it."""
    blocks: list[list] = []
    for u in units:
        if blocks and blocks[-1][0][3] == u[3]:
            blocks[-1].append(u)
        else:
            blocks.append([u])
    passages: list[tuple[int, int]] = []
    cur: list[list] = []  # the blocks of the passage being packed
    used = 0

    def close(keep_heading: bool) -> list[list]:
        """End the passage being packed; its trailing heading, if any, opens the next."""
        nonlocal cur, used
        carry = []
        if keep_heading and len(cur) > 1 and _is_heading(text, cur[-1]):
            carry = [cur.pop()]
        if cur:
            passages.append((cur[0][0][0], cur[-1][-1][1]))
        cur, used = [], 0
        return carry

    for block in blocks:
        size = sum(u[2] for u in block)
        if used + size <= budget:
            cur.append(block)
            used += size
            continue
        carry = close(keep_heading=True)
        carried = sum(u[2] for b in carry for u in b)
        if size + carried <= budget:
            cur, used = carry + [block], size + carried
            continue
        if carry:  # a heading over a long paragraph: its own sentences lead the first piece
            block = carry[0] + block
        # Its last piece ends the paragraph: the next block starts a passage of its own.
        passages.extend(_by_sentences(block, budget, overlap))
    close(keep_heading=False)
    return passages


def chunk_spans(text: str, count: TokenCounter, max_tokens: int,
                overlap_sentences: int = 1, align: str = "paragraphs") -> list[tuple[int, int]]:
    """Spans of passages made of whole sentences, each at most ``max_tokens`` word pieces
    including the two special tokens the model adds. A sentence longer than the budget is cut
    at word boundaries.

    ``align="paragraphs"`` (default): a passage starts where a paragraph, heading or list item
    does; short ones are packed together, a long one is split at sentences with
    ``overlap_sentences`` shared between its pieces, and a heading stays with what follows it.
    ``align="sentences"``: runs of sentences across paragraph breaks, consecutive passages
    sharing ``overlap_sentences`` (the chunking of indexes before paragraph alignment).

    Word-piece counts add up over white-space separated text, so counting each sentence once
    gives the exact count of any run of them."""
    if align not in ALIGNS:
        raise ValueError(f"align={align!r}: must be one of {', '.join(ALIGNS)}")
    budget = max_tokens - 2
    units = _units(text, count, budget)
    if align == "sentences":
        return _by_sentences(units, budget, overlap_sentences)
    return _by_paragraphs(text, units, budget, overlap_sentences)


def passage_of(doc: Document, start: int, end: int) -> Passage:
    """``doc.text[start:end]`` as a Passage, its id ``doc_id:start-end``."""
    return Passage(id=f"{doc.id}:{start}-{end}", doc_id=doc.id, source=doc.source or doc.id,
                   title=doc.title, text=doc.text[start:end], start=start, end=end,
                   page=doc.page_at(start))


def chunk_document(doc: Document, count: TokenCounter, max_tokens: int,
                   overlap_sentences: int = 1, align: str = "paragraphs") -> list[Passage]:
    """Passages of ``doc``; ids are ``doc_id:start-end`` and so stable across rebuilds."""
    return [passage_of(doc, s, e)
            for s, e in chunk_spans(doc.text, count, max_tokens, overlap_sentences, align)]


def chunk_documents(docs: Sequence[Document], count: TokenCounter, max_tokens: int,
                    overlap_sentences: int = 1, align: str = "paragraphs") -> list[Passage]:
    return [p for d in docs
            for p in chunk_document(d, count, max_tokens, overlap_sentences, align)]
