"""What every reader shares: the abstention text and the citation check."""
from __future__ import annotations

from ..types import Citation, Document

ABSTAIN_TEXT = "The sources do not contain an answer to this question."


def verify_citation(citation: Citation, document: Document) -> bool:
    """True when the citation quotes its document exactly and lies inside its passage (and its
    short answer, if any, inside the quote)."""
    p = citation.passage
    short_ok = citation.answer_start is None or (
        citation.answer_end is not None
        and citation.start <= citation.answer_start < citation.answer_end <= citation.end)
    return (document.text[citation.start:citation.end] == citation.quote
            and p.start <= citation.start < citation.end <= p.end
            and document.text[p.start:p.end] == p.text and p.doc_id == document.id and short_ok)
