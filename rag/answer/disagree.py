"""When the sources disagree: two documents whose best sentences for a question both answer it
(the learned reader says so), say the same thing in mostly the same words (two versions of one
statement, not two facts) and give different values of what is asked (the date for "when", the
number for "how many/long"..., else the numbers they hold). Both are cited, the newest document first, each labelled with its
date: the one it states ("Effective 1 March 2024"), else a year in its title or file name, else
its file's modification time. A document that says it replaces earlier versions comes first;
one dated in a year the question names ("under the 2022 policy") before all."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np

from ..types import Document
from .lexicon import COUNT_WORDS, MONTH, STOP_WORDS
from .shortanswer import NUMBER, short_span

_DAY_MONTH_YEAR = (rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}\.?,?\s+\d{{4}}|"
                   rf"{MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|{MONTH}\.?\s+\d{{4}}|"
                   r"\d{4}-\d{2}-\d{2}")
# A date the document states as its own: "Effective 1 March 2024", "Last updated: May 2023".
_STATED = re.compile(r"\b(?:effective|valid|in force|updated|revised|issued|published|dated|"
                     r"as of|version of)\b(?:\s+(?:from|on|since|as of))?[:\s]+"
                     rf"(?P<date>{_DAY_MONTH_YEAR})", re.I)
_SUPERSEDES = re.compile(r"\b(?:replaces|supersedes|overrides)\s+(?:all\s+|any\s+)?(?:the\s+)?"
                         r"(?:earlier|previous|prior|older|former)\b", re.I)
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
# How far into a document its own date is looked for (a policy states it at the top).
_HEAD_CHARS = 1500
# Two sentences are versions of one statement when this share of their words (not numbers or
# stop words) is shared (Jaccard): "returned within 14 days of delivery" / "... 30 days ...".
SAME_STATEMENT = 0.5
# A number in digits or in words.
_NUMBERS = re.compile(f"{NUMBER.pattern}|{COUNT_WORDS}", re.I)


def document_date(doc: Document) -> tuple[datetime | None, str, bool]:
    """(the document's date, a label saying where it comes from, whether it says it replaces
    earlier versions). None and "" when nothing dates it."""
    from dateutil import parser

    head = doc.text[:_HEAD_CHARS]
    supersedes = _SUPERSEDES.search(head) is not None
    m = _STATED.search(head)
    if m is not None:
        try:
            when = parser.parse(m.group("date"), default=datetime(2000, 1, 1))
            return when, " ".join(m.group(0).split()), supersedes
        except (ValueError, OverflowError):
            pass
    for text in (doc.title, doc.source):
        years = _YEAR.findall(text or "")
        if years:
            return datetime(int(years[-1]), 1, 1), f"{years[-1]} (from its name)", supersedes
    if doc.modified:
        when = datetime.fromisoformat(doc.modified).replace(tzinfo=None)
        return when, f"file changed {when.date().isoformat()}", supersedes
    return None, "", supersedes


def _value(question: str, sentence: str) -> str:
    """What ``sentence`` gives for what ``question`` asks, normalised: the typed short answer,
    else the numbers it states; "" when neither (then no disagreement can be told)."""
    span = short_span(question, sentence)
    if span is None:  # no typed answer: the numbers it states
        return " ".join(sorted({m.group().lower() for m in _NUMBERS.finditer(sentence)}))
    return " ".join(re.findall(r"\w+", sentence[span[0]:span[1]].lower()))


def _words(sentence: str) -> set[str]:
    """The sentence's words that are neither numbers nor stop words, lower case."""
    return {w for w in re.findall(r"[a-z]+", _NUMBERS.sub(" ", sentence.lower()))
            if w not in STOP_WORDS}


def same_statement(a: str, b: str) -> bool:
    """Whether two sentences are versions of one statement (:data:`SAME_STATEMENT`)."""
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= SAME_STATEMENT


def newest_first(question: str, chosen: Sequence[int], cands, texts: Sequence[str],
                 probs: np.ndarray, documents: Mapping[str, Document],
                 share: float) -> tuple[list[int], dict[str, str]]:
    """``chosen`` (candidate indices, the lead first) as the answer cites them, or, when another
    document's best sentence also answers (probability at least ``share`` of the lead's) with
    a different value: the best sentence of each of the two documents, the newest first. Returns
    (the indices, {document id: its date label}), the labels empty when they agree."""
    if not chosen:
        return list(chosen), {}
    lead = chosen[0]
    lead_doc = cands[lead][0].passage.doc_id
    rivals = [i for i in np.argsort(-probs, kind="stable")
              if cands[i][0].passage.doc_id != lead_doc and probs[i] > 0
              and probs[i] >= share * probs[lead]]
    if not rivals:
        return list(chosen), {}
    rival = int(rivals[0])
    if not same_statement(texts[lead], texts[rival]):
        return list(chosen), {}  # two facts, not two versions of one
    mine, theirs = _value(question, texts[lead]), _value(question, texts[rival])
    if not mine or not theirs or mine == theirs:
        return list(chosen), {}
    docs = {i: documents[cands[i][0].passage.doc_id] for i in (lead, rival)}
    dated = {i: document_date(d) for i, d in docs.items()}
    # The version the question names by its year first ("under the 2022 policy"); else the
    # newest first: one that replaces earlier versions, then by date, undated last.
    asked = {int(y) for y in _YEAR.findall(question)}
    order = sorted((lead, rival), key=lambda i: (
        not (dated[i][0] is not None and dated[i][0].year in asked), not dated[i][2],
        dated[i][0] is None, -(dated[i][0] or datetime.min).toordinal()))
    labels = {docs[i].id: dated[i][1] or "undated" for i in order}
    return order, labels
