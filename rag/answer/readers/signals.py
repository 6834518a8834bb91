"""What both extractive readers read of a sentence, cheaply: its cosine to the question,
the IDF-weighted share of the question's terms it holds, the kinds of answer asked for that it
holds (date, quantity, name), and how many names of the question the index never mentions. The
heuristic reader's score is made of them; the learned reader shortlists sentences by that score
and feeds the signals to its answer head. Also: what a reader is given (``ReadContext``)."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...index.passages import PassageIndex, bm25_tokenize, unaccented
from ...ingest.segment import split_sentences
from ...settings import Settings
from ...types import Document, Hit
from ..lexicon import (COUNT_WORDS, FREQUENCY_WORDS, MONTH_ABBREVIATIONS, MONTHS,
                       QUESTION_WORDS, TIMES_OF_DAY, WEEKDAYS, YEAR, asked_kinds)


@dataclass(frozen=True)
class ReadContext:
    """What a reader is given to answer from the retrieved hits: the documents, the index's
    term statistics (``idf``, ``doc_freq``), a (cached) sentence encoder and the settings.
    Readers get it passed in; none calls back into the Retriever."""

    documents: Mapping[str, Document]
    index: Any
    encode: Callable[[list[str]], np.ndarray]
    settings: Settings
    model_id: str = ""  # the embedder's: the answer gate was fitted with one
    learned: Any = None  # the learned cross-encoder (learned.LearnedReader): one an Answerer


# A sentence's score is its cosine similarity to the question plus this weight times the share
# (IDF-weighted) of the question's terms it contains, plus a small bonus when it holds the kind of
# answer the question asks for. Weights chosen on the seed eval set (docs/decisions.md).
LEXICAL_WEIGHT = 0.3
TYPE_BONUS = 0.08

# A "when" is answered by a year or a date, or by a time of day, a day of the week or how often
# ("opens at nine o'clock on weekdays", "is tested every morning", "twice a year"). Case
# matters: "may" the verb is no month. A year is the lexicon's (1000 to 2099).
_YEAR_OR_DATE = re.compile(rf"\b{YEAR}s?\b|\b("
                           + "|".join(MONTHS + MONTH_ABBREVIATIONS + WEEKDAYS)
                           + r"|[Ww]eekdays?|[Ww]eekends?|(?:" + "|".join(TIMES_OF_DAY) + r")s?|"
                           + "|".join(w for w in FREQUENCY_WORDS if w != "every")
                           + r")\b|o['’]clock|\b\d{1,2}(:\d\d)?\s?([ap]m|[ap]\.m\.)")
_COUNT_WORD = re.compile(COUNT_WORDS, re.I)
# Numbers, number words and frequency words: what the type bonus counts as a quantity.
_QUANTITY = re.compile(r"\d|" + COUNT_WORDS + r"|\b(" + "|".join(FREQUENCY_WORDS) + r")\b",
                       re.I)
_CENTURY = re.compile(r"\b(\d{1,2}|[a-z]+)(st|nd|rd|th)[\s-]+century\b", re.I)  # "16th century"
# A name inside a sentence: a capitalised word or an initialism ("the IT desk", "NASA"); a
# month or a weekday is a date, not the name a "who" asks for.
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b(?!(?:" + "|".join(MONTHS + WEEKDAYS)
                   + r")\b)(?:[A-Z][a-z]+|[A-Z]{2,}\b)")
# Question words carry no evidence: "what" in a sentence does not make it an answer.
_ASKS_FOR_TITLE = re.compile(r"\b(title|titled|called|named|name of|headline|heading|"
                             r"what is the name|what was the name)\b", re.I)
_TERMINAL = tuple(".?;\"”’')]")


def asks_for_title(question: str) -> bool:
    """Whether a question asks for a title or a name ("What was the title of...", "What is it
    called?"): only such a question is answered by a heading."""
    return bool(_ASKS_FOR_TITLE.search(question))


# A field on its own line, a label then a value with an address or a number in it.
_FIELD = re.compile(r"[A-Z][\w-]*(?: [\w-]+)?: (?=.*[\d@])")


def is_context_line(text: str, start: int, end: int, doc: Document) -> bool:
    """A heading, title, label or banner rather than a statement: the document's title, a
    Markdown heading, a line ending in a colon ("A Message from The Moscow Times:"), a short
    exclamation ("Support The Moscow Times!"), a short line of capitalised words without a
    full stop ("Lindqvist Orchard Cooperative") or of a few words in sentence case ("Opening
    hours"), before more text. Table rows are data, never context lines. It
    still gives the sentences under it their subject (the learned reader reads the title)."""
    line = text[start:end].strip()
    own_line = (start == 0 or text[start - 1] == "\n") and (end == len(text) or
                                                             text[end:end + 1] == "\n")
    if not line or line.startswith("|"):
        return False
    if line.startswith("#"):
        return True
    if line.endswith(_TERMINAL):  # a full sentence, even when it is what the title was read from
        return False
    if " ".join(line.split()) == " ".join(doc.title.split()):
        return True
    if not own_line:
        return False
    words = re.findall(r"[\w'’-]+", line)
    if line.endswith(":") or (line.endswith("!") and len(words) <= 6):
        return True
    if _FIELD.match(line):  # "From: orders@example.com", "Date: 9 June 2026": data, not a label
        return False
    capitalised = sum(1 for w in words if w[:1].isupper() or w[:1].isdigit())
    if len(words) <= 10 and capitalised >= 0.6 * max(1, len(words)):
        return True
    # A few words alone on a line, no number, no bullet, text after them: a heading in
    # sentence case ("Opening hours" above the hours), not a statement.
    return (len(words) <= 4 and not any(ch.isdigit() for ch in line)
            and not line.startswith(("-", "*", "•")) and bool(text[end:].strip()))


def candidate_sentences(hits: Sequence[Hit], documents: dict[str, Document],
                        question: str | None = None
                        ) -> tuple[list[tuple[Hit, int, int]], dict[str, list[int]]]:
    """Each distinct sentence of ``hits`` once, as (hit, start, end) of the first hit that holds
    it, and which candidates each passage holds (by passage id). Both readers read these. Given
    the ``question``, headings, titles and banners (:func:`is_context_line`) are left out unless
    it asks for a title or a name."""
    cands: list[tuple[Hit, int, int]] = []
    where: dict[tuple[str, int, int], int] = {}
    of_passage: dict[str, list[int]] = {}
    skip_context = question is not None and not asks_for_title(question)
    for hit in hits:
        p = hit.passage
        doc = documents[p.doc_id]
        for s, e in split_sentences(doc.text, p.start, p.end):
            if skip_context and is_context_line(doc.text, s, e, doc):
                continue
            key = (p.doc_id, s, e)
            if key not in where:
                where[key] = len(cands)
                cands.append((hit, s, e))
            of_passage.setdefault(p.id, []).append(where[key])
    return cands, of_passage


def _holds_count(sentence: str) -> bool:
    """A number word, or a number that can count (not a year standing alone nor an ordinal:
    rag.answer.shortanswer.is_count). Frequency words ("weekly") are no amounts."""
    from ..shortanswer import NUMBER, is_count

    return (any(is_count(sentence, *m.span()) for m in NUMBER.finditer(sentence))
            or bool(_COUNT_WORD.search(sentence)))


def answer_type(question: str) -> Callable[[str], bool] | None:
    """Whether a sentence holds what the question asks for (rag.answer.shortanswer.question_kind):
    for a date a year, date, century or time; for "how long/tall/far/old..." a number with a
    unit of that kind (hours for how long, metres for how tall: rag.answer.shortanswer's rule); for
    "how often" a number or a frequency word; for "how many/much", "what percentage/number" a
    number that can count or a number word. None for other questions."""
    from ..shortanswer import quantity_unit, question_kind, short_span

    kind = question_kind(question)
    if kind == "date":
        return lambda sentence: (_YEAR_OR_DATE.search(sentence) is not None
                                 or _CENTURY.search(sentence) is not None)
    if kind != "quantity":
        return None
    if quantity_unit(question) is not None:
        return lambda sentence: short_span(question, sentence) is not None
    if re.search(r"\bhow often\b", question, re.I):
        return lambda sentence: _QUANTITY.search(sentence) is not None
    if re.search(r"\bhow many times\b", question, re.I):  # "renewed twice", "once", "3 times"
        return lambda sentence: (_QUANTITY.search(sentence) is not None
                                 or re.search(r"\bonce\b", sentence, re.I) is not None)
    return _holds_count


def _type_bonus(question: str, sentence: str) -> float:
    """Bonus for each kind of answer asked for (date, quantity, name) that the sentence holds."""
    bonus = 0.0
    for kind in asked_kinds(question):
        if kind == "date":
            bonus += TYPE_BONUS if _YEAR_OR_DATE.search(sentence) else 0.0
        elif kind == "quantity":
            bonus += TYPE_BONUS if _QUANTITY.search(sentence) else 0.0
        else:
            asked = set(re.findall(r"\w+", question.lower()))
            names = [w for w in _NAME.findall(sentence) if w.lower() not in asked]
            bonus += TYPE_BONUS if names else 0.0
    return bonus


def unknown_names(question: str, index: PassageIndex) -> list[str]:
    """Capitalised words inside the question (names) that occur in no passage."""
    words = re.findall(r"\b[A-Z][\w'’-]*", question)[1:]  # the first word is capitalised anyway
    terms = [w for w in words if w.lower() not in QUESTION_WORDS]
    stems = bm25_tokenize(terms) if terms else []
    return [w for w, st in zip(terms, stems) if st and all(index.doc_freq(t) == 0 for t in st)]


def sentence_signals(question: str, qvec: np.ndarray, texts: list[str], index: PassageIndex,
                     encode: Callable[[list[str]], np.ndarray]) -> dict[str, np.ndarray]:
    """Cheap evidence that each sentence answers the question: ``cos`` (cosine similarity to
    the question), ``lexical`` (IDF-weighted share of the question's terms it holds) and
    ``type`` (how many of the kinds of answer asked for, date/quantity/name, it holds); and,
    the same for every sentence, ``unknown_names``: how many names in the question no passage
    holds."""
    sims = encode(texts) @ np.asarray(qvec, dtype=np.float32)
    q_terms = set(bm25_tokenize([question])[0]) - QUESTION_WORDS
    weights = {t: index.idf(t) for t in q_terms}
    total = sum(weights.values())
    # A term matches accents aside: "Temur" in the question is "Temür" in the text.
    as_asked = {unaccented(t): t for t in q_terms}
    lexical = np.zeros(len(texts), dtype=np.float32)
    for i, tokens in enumerate(bm25_tokenize(texts)):
        present = {as_asked[f] for f in map(unaccented, tokens) if f in as_asked}
        lexical[i] = sum(weights[t] for t in present) / total if total > 0 else 0.0
    types = np.array([_type_bonus(question, t) / TYPE_BONUS for t in texts], dtype=np.float32)
    unknown = np.full(len(texts), len(unknown_names(question, index)), dtype=np.float32)
    return {"cos": np.asarray(sims, dtype=np.float32), "lexical": lexical, "type": types,
            "unknown_names": unknown}


def combine(signals: dict[str, np.ndarray]) -> np.ndarray:
    """The heuristic score: cosine + LEXICAL_WEIGHT x lexical + TYPE_BONUS x type."""
    return (signals["cos"] + LEXICAL_WEIGHT * signals["lexical"]
            + TYPE_BONUS * signals["type"]).astype(np.float32)


def shortlist_for(question: str, qvec: np.ndarray, ctx: ReadContext):
    """texts -> :func:`sentence_signals` for ``question`` (searched as ``qvec``)."""
    return lambda texts: sentence_signals(question, qvec, texts, ctx.index, ctx.encode)
