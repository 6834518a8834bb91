"""Questions to suggest for an index, made from its own documents (their titles and the headings
that open a section of prose), so a folder of manuals is offered questions about its manuals."""
from __future__ import annotations

import re
from collections.abc import Iterable

from .segment import split_blocks
from ..types import Document

_SENTENCE_END = re.compile(r"[.!?…:;,\"”’)\]]\s*$")
HEADING_WORDS = (1, 10)  # a heading's length in words
TITLE_WORDS = 16  # a longer title reads as a sentence
PROSE_WORDS = 20  # the block after a heading must read as prose: this many words or more


def _heading(block: str) -> bool:
    """A line that reads as a heading: a few words, capitalised, no sentence end."""
    words = block.lstrip("#").split()
    return ("\n" not in block and HEADING_WORDS[0] <= len(words) <= HEADING_WORDS[1]
            and not _SENTENCE_END.search(block) and words[0][:1].isupper())


def _topics(doc: Document) -> list[str]:
    """The document's title, then each heading that opens prose (the blocks up to the next
    heading hold a sentence of ``PROSE_WORDS`` words or more), in document order."""
    topics = []
    # A title that is a sentence (a document without one is titled by its first line) or a
    # file name says nothing to ask about.
    if (doc.title and doc.title != doc.source.rsplit("/", 1)[-1]
            and len(doc.title.split()) <= TITLE_WORDS and not _SENTENCE_END.search(doc.title)):
        topics.append(doc.title)
    blocks = [doc.text[s:e].strip() for s, e in split_blocks(doc.text)]
    for i, block in enumerate(blocks):
        if not _heading(block):
            continue
        prose = []
        for after in blocks[i + 1:]:
            if _heading(after) or len(after.split()) < 3:
                break
            prose.append(after)
        text = " ".join(prose)
        if len(text.split()) >= PROSE_WORDS and _SENTENCE_END.search(text):
            topics.append(" ".join(block.lstrip("#").split()))
    return topics


def suggested_questions(documents: Iterable[Document], n: int = 4) -> list[str]:
    """Up to ``n`` questions about ``documents``: one topic of each document in turn (its
    title, then its headings), no topic twice."""
    per_doc = [_topics(d) for d in documents]
    out: list[str] = []
    seen: set[str] = set()
    depth = 0
    while len(out) < n and any(depth < len(t) for t in per_doc):
        for topics in per_doc:
            if depth < len(topics) and topics[depth].lower() not in seen and len(out) < n:
                seen.add(topics[depth].lower())
                out.append(f"What do the sources say about “{topics[depth]}”?")
        depth += 1
    return out
