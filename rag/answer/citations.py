"""What every reader shares: the abstention text and the hedge's label, the one way a citation is made (the quote
read from the document at its offsets, so always exact) and the citation check."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from ..types import Citation, Document, Hit

ABSTAIN_TEXT = "The sources do not contain an answer to this question."
# What a hedged answer (Answer.hedged) is shown under, on every surface.
HEDGE_LABEL = "The closest passages; they may not answer this."
# What an answer whose sources disagree (Answer.disagree) opens with.
DISAGREE_LABEL = "The sources disagree; the newest first."


def cite(n: int, hit: Hit, start: int, end: int,
         documents: Mapping[str, Document]) -> Citation:
    """Citation ``[n]`` of ``text[start:end]`` of the document of ``hit``'s passage, with the
    page it is on (PDFs, slides, sheets)."""
    doc = documents[hit.passage.doc_id]
    return Citation(n=n, passage=hit.passage, start=start, end=end, quote=doc.text[start:end],
                    page=doc.page_at(start))


def quoted(spans: Sequence[tuple[Hit, int, int]], documents: Mapping[str, Document],
           labels: Mapping[str, str] | None = None) -> tuple[list[Citation], str]:
    """The citations of ``spans`` (hit, start, end), numbered from 1, and the answer that quotes
    them in that order, each followed by its marker: "Quote. [1] Quote. [2]". ``labels``
    (document id -> date label) when the sources disagree: each citation ``dated`` with its
    document's label, the answer saying so and giving the dates."""
    labels = labels or {}
    citations = [dataclasses.replace(cite(n, hit, s, e, documents),
                                     dated=labels.get(hit.passage.doc_id, ""))
                 for n, (hit, s, e) in enumerate(spans, start=1)]
    text = quoting(citations)
    return citations, f"{DISAGREE_LABEL} {text}" if labels else text


def quoting(citations: Sequence[Citation]) -> str:
    """The answer that quotes ``citations`` in order, each followed by its marker (and its date
    when dated): "Quote. [1] Quote. [2]"."""
    return " ".join(f"{c.quote} [{c.n}] ({c.dated})" if c.dated else f"{c.quote} [{c.n}]"
                    for c in citations)


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
