"""Grounded extractive answers: sentences of the retrieved passages, each with a verified citation.
No sentence that is not in the sources is ever output."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .chunking import split_sentences
from .settings import Settings
from .types import Answer, Citation, Document, Hit

ABSTAIN_TEXT = "The sources do not contain an answer to this question."

# Sentences scoring within this margin of the best one join the answer.
_MARGIN = 0.12
# Shorter "sentences" (banners, buttons, captions) are not offered as answers.
_MIN_CHARS = 25


def verify_citation(citation: Citation, document: Document) -> bool:
    """True when the citation quotes its document exactly and lies inside its passage."""
    p = citation.passage
    return (document.text[citation.start:citation.end] == citation.quote
            and p.start <= citation.start < citation.end <= p.end
            and document.text[p.start:p.end] == p.text and p.doc_id == document.id)


def candidate_sentences(hits: Sequence[Hit], documents: dict[str, Document],
                        n_passages: int) -> list[tuple[Hit, int, int]]:
    """(hit, start, end) of each distinct sentence in the first ``n_passages`` hits."""
    seen: set[tuple[str, int, int]] = set()
    out = []
    for hit in hits[:n_passages]:
        p = hit.passage
        doc = documents[p.doc_id]
        for s, e in split_sentences(doc.text, p.start, p.end):
            key = (p.doc_id, s, e)
            if key not in seen and e - s >= _MIN_CHARS:
                seen.add(key)
                out.append((hit, s, e))
    return out


def compose_answer(question: str, qvec: np.ndarray, hits: Sequence[Hit],
                   documents: dict[str, Document], encode: Callable[[list[str]], np.ndarray],
                   settings: Settings, note: str = "") -> Answer:
    """Pick the sentences of the top passages closest to the question (cosine similarity of their
    embeddings). Abstain when even the best is below ``settings.abstain_threshold``."""
    cands = candidate_sentences(hits, documents, settings.answer_passages)
    if not cands:
        return Answer(question=question, text=ABSTAIN_TEXT, abstained=True, hits=tuple(hits),
                      note=note)
    texts = [documents[h.passage.doc_id].text[s:e] for h, s, e in cands]
    sims = encode(texts) @ np.asarray(qvec, dtype=np.float32)
    best = float(sims.max())
    if best < settings.abstain_threshold:
        return Answer(question=question, text=ABSTAIN_TEXT, abstained=True, hits=tuple(hits),
                      confidence=best, note=note)
    order = [i for i in np.argsort(-sims, kind="stable")
             if sims[i] >= max(settings.abstain_threshold, best - _MARGIN)]
    chosen = sorted(order[: settings.answer_sentences],
                    key=lambda i: (cands[i][0].rank, cands[i][1]))
    citations = []
    parts = []
    for n, i in enumerate(chosen, start=1):
        hit, s, e = cands[i]
        citations.append(Citation(n=n, passage=hit.passage, start=s, end=e, quote=texts[i]))
        parts.append(f"{texts[i]} [{n}]")
    return Answer(question=question, text=" ".join(parts), abstained=False,
                  citations=tuple(citations), hits=tuple(hits), confidence=best, note=note)
