"""The answer gate, after any extractive reader: whether to answer at all, and whether to show a
bold short answer. Two logistic regressions over what an answer says of itself (the reader's
confidence, the span head's probability of the short answer in the first cited sentence, whether
that span is of the kind asked for, the question's kind, what the question asks that the cited
sentence does not say or contradicts), fitted on held-out SQuAD with near-topic unanswerables
and SQuAD 2.0's (eval/fit_gate.py; rag/models/gate.json):

- ``answer``: the probability that the first citation holds the fact asked for. It becomes
  ``Answer.confidence``; below the threshold the answer abstains ("not in the sources"), saying
  what the sources do mention of the question's subject; below ``hedge`` it is hedged (the
  closest sentence alone, that may not answer: ``Answer.hedged``, no short answer). An answer the
  reader already abstained on (below its own threshold) stays so, with the reader's confidence.
- ``short``: the probability that the short answer is right; shown only at or above its
  threshold (chosen for precision on held-out articles), else the sentence stands alone.

A table row is one record (:func:`holds_record`): a row of another record than the question
names never leads when a cited row of that record can, and never stands as the answer (hedged).
SQuAD has no tables, so this is a rule of the rows' form, not a fitted feature.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
from functools import lru_cache

import numpy as np

from ..citations import ABSTAIN_TEXT, quoting
from ..lexicon import AUXILIARIES, PARTICLES, PREPOSITIONS, SPEAKERS, STOP_WORDS, WH_MODIFIERS
from ...types import Answer
from ...paths import MODELS

log = logging.getLogger(__name__)

GATE = MODELS / "gate.json"
KINDS = ("date", "quantity", "name", "title", "phrase")
# What the question asks that its first citation cannot answer (rag.answer.verify.unmet).
UNMET = ("unmet_numbers", "unmet_names", "unmet_negated", "unmet_opposite")
_EPS = 1e-4
# The words of a question's frame ("how many", "should"): no evidence of which record it asks
# about (:func:`holds_record`).
_FRAME = STOP_WORDS | AUXILIARIES | PARTICLES | PREPOSITIONS | SPEAKERS | WH_MODIFIERS


@lru_cache(maxsize=1)
def packaged_gate() -> dict | None:
    """rag/models/gate.json, or None (then readers answer and mark as without the gate)."""
    try:
        gate = json.loads(GATE.read_text(encoding="utf-8"))
        if gate.get("format") != "rag-gate" or gate.get("format_version") != 1:
            raise ValueError("not a rag-gate file of format version 1")
        return gate
    except (OSError, ValueError) as e:
        log.warning("%s is missing or unreadable (%s): answers are not gated (reinstall rag or "
                    "run eval/fit_gate.py)", GATE, e)
        return None


def _logit(p: float) -> float:
    p = min(1 - _EPS, max(_EPS, float(p)))
    return float(np.log(p / (1 - p)))


def features(answer: Answer, learned) -> dict:
    """What the gate reads of ``answer``: its confidence, and of its first citation the span
    head's short answer (``span``: its text, ``span_p``: its probability, ``fits``: of the kind
    asked for; ``learned``: the LearnedReader whose span head reads it) and the typed rule's
    (``rule``: rag.answer.shortanswer.short_span's text, or "")."""
    from ..shortanswer import fits_kind, question_kind, short_span
    from ..verify import unmet

    row = {"confidence": float(answer.confidence), "qkind": question_kind(answer.question),
           "citations": len(answer.citations), "span": "", "span_p": 0.0, "fits": False,
           "rule": "", "unsaid": 1.0, "unsaid_first": 1.0, **dict.fromkeys(UNMET, 0.0)}
    if answer.abstained or not answer.citations:
        return row
    first = answer.citations[0]
    row["unsaid"] = unsaid(answer.question, " ".join(h.passage.text for h in answer.hits[:5]))
    row["unsaid_first"] = unsaid(answer.question, f"{first.passage.title} {first.quote}")
    titled = f"{first.passage.title}. {first.quote}" if first.passage.title else first.quote
    row.update({f"unmet_{k}": v for k, v in unmet(answer.question, titled).items()})
    context = context_titles(answer)
    if context:  # a name the closest documents' titles give is their context
        row["unmet_names"] = unmet(answer.question, f"{context}. {titled}")["names"]
    found = learned.scored_span(answer.question, first.quote, first.passage.title)
    if found is not None:
        start, end, p = found
        row.update(span=first.quote[start:end], span_p=p, span_start=start, span_end=end,
                   fits=fits_kind(answer.question, first.quote[start:end],
                                  first.quote[:start], first.quote[end:]))
    rule = short_span(answer.question, first.quote)
    if rule is not None:
        row.update(rule=first.quote[rule[0]:rule[1]], rule_start=rule[0], rule_end=rule[1])
    return row


def unsaid(question: str, text: str) -> float:
    """The share of the question's content words (not stop words; compared by stem) that
    ``text`` never says: a near-topic question asks about something its sources name, in
    words for a fact they do not hold ("How many *delegates* attended the Congress?")."""
    from ..lexicon import STOP_WORDS, WORD, light_stem

    words = {light_stem(w) for w in WORD.findall(question.lower())
             if w not in STOP_WORDS and len(w) > 2}
    if not words:
        return 0.0
    said = {light_stem(w) for w in WORD.findall(text.lower())}
    return sum(w not in said for w in words) / len(words)


def context_titles(answer: Answer) -> str:
    """The titles of ``answer``'s closest documents: a name one of them gives ("Larkspur
    Dental" in "How much is a root canal at Larkspur Dental?") is the sources' context, the
    organisation or product they are about, not a fact the cited sentence must state."""
    return ". ".join(dict.fromkeys(h.passage.title for h in answer.hits[:5] if h.passage.title))


def holds_record(question: str, quote: str, title: str = "", context: str = "") -> bool:
    """Whether a table row (``quote``, "Row N: column: value; ...") is the record ``question``
    asks about. A row is one record: it answers only about what it holds. So it says every
    number, date, weekday and name the question names ("Which dentist works on *Saturday*?" is
    not answered by Friday's row); at least half of the question's words, its column names and
    its table's ``title`` counted ("the *door code* of the staff room" is in no row of the rota);
    and, when the question says more than the column names and title do, some of that is in
    its values ("How many *toasters* are in stock?" is not answered by the kettle's row).
    ``context``: :func:`context_titles`, names the question may give besides the record's."""
    from ...ingest.loaders.sheets import row_cells
    from ..verify import unmet
    from ...index.passages import stems

    def words(text: str) -> set[str]:
        # "price_gbp" says "price"; the question's frame is no evidence
        found = re.findall(r"[^\W\d_]+", text.lower())
        return set(stems([w for w in found if w not in _FRAME]))

    if (unmet(question, f"{title}. {quote}")["numbers"]
            or unmet(question, f"{context}. {title}. {quote}")["names"]):
        return False
    cells = row_cells(quote)
    header = words(" ".join([title, *(c for c, _ in cells)]))
    values = words(" ".join(v for _, v in cells))
    asked = words(question)
    if len(asked - header - values) > len(asked) / 2:
        return False
    beyond = asked - header
    return not beyond or bool(beyond & values)


def other_record(question: str, citation, context: str = "") -> bool:
    """Whether ``citation`` is a table row of another record than ``question`` asks about
    (``context``: as :func:`holds_record`'s)."""
    from ...ingest.loaders.sheets import is_row

    return is_row(citation.quote) and not holds_record(question, citation.quote,
                                                       citation.passage.title, context)


def _record_first(answer: Answer) -> tuple[Answer, bool]:
    """``answer`` led by a table row of the record asked about: when its first citation is a
    row of another record and a later one is a row that :func:`holds_record`, that one leads.
    Also whether the first citation is then a row of another record (to hedge)."""
    from ...ingest.loaders.sheets import is_row

    first, context = answer.citations[0], context_titles(answer)
    if not other_record(answer.question, first, context):
        return answer, False
    for n, c in enumerate(answer.citations[1:], start=1):
        if is_row(c.quote) and not other_record(answer.question, c, context):
            plain = dataclasses.replace(first, answer_start=None, answer_end=None)
            cited = (c, plain, *answer.citations[1:n], *answer.citations[n + 1:])
            return dataclasses.replace(answer, citations=cited, text=quoting(cited),
                                       short=""), False
    return answer, True


def design(row: dict, model: str) -> np.ndarray:
    """The feature vector of one :func:`features` row for ``model`` ("answer" or "short")."""
    kind = [float(row["qkind"] == k) for k in KINDS[:-1]]
    typed = float(row["qkind"] != "phrase")
    base = [_logit(row["confidence"]), np.log(max(row["span_p"], _EPS)),
            typed * float(row["fits"]), typed * float(bool(row["rule"])), *kind,
            row["unsaid"], row["unsaid_first"], *(row.get(k, 0.0) for k in UNMET)]
    if model == "short":
        base.append(float(bool(row["span"]) and row["span"] == row["rule"]))
    return np.asarray(base, dtype=np.float64)


def probability(row: dict, model: dict) -> float:
    """The fitted logistic regression ``model`` ({"coef", "intercept"}) on ``row``."""
    z = float(design(row, model["name"]) @ np.asarray(model["coef"]) + model["intercept"])
    return float(1.0 / (1.0 + np.exp(-z)))


def _subject(question: str, answer: Answer) -> str:
    """What the question is about that the nearest passages name: its longest run of
    capitalised words (not its first word alone) found in them, else the top passage's title."""
    text = " ".join(h.passage.text for h in answer.hits[:5])
    names = [m.group() for m in re.finditer(r"[A-Z][\w'’-]*(?:\s+(?:of|the|de|von|van|and)?\s*"
                                            r"[A-Z][\w'’-]*)*", question)
             if m.start() > 0 or " " in m.group()]
    found = [n for n in names if n.lower() in text.lower()]
    if found:
        return max(found, key=len)
    if answer.hits and answer.hits[0].passage.title:
        return answer.hits[0].passage.title
    return ""


def covered_text(question: str, answer: Answer) -> str:
    """The abstention's text: that the sources do not answer, what of the subject they do
    mention, and what they do not say ("... They mention the Twentieth Party Congress, but do
    not say how many.")."""
    from ..shortanswer import asked_for

    subject = _subject(question, answer)
    if not subject:
        return ABSTAIN_TEXT
    asked = asked_for(question)
    return (f"{ABSTAIN_TEXT} They mention {subject}, but do not say {asked}." if asked
            else f"{ABSTAIN_TEXT} They mention {subject}, but not this.")


def gate_of(reader: str) -> dict | None:
    """The gate fitted for ``reader`` ("heuristic", "learned"), or None."""
    gate = packaged_gate()
    return None if gate is None else gate["readers"].get(reader)


def gated(answer: Answer, reader: str, threshold: float | None, learned) -> Answer:
    """``answer`` (of ``reader``) through the gate: its confidence the gate's probability that
    it holds the fact; an abstention below ``threshold`` (None: the gate's own); the short
    answer kept only when the gate trusts it. Unchanged without a gate file for the reader."""
    from ..shortanswer import mark_short

    gate = gate_of(reader)
    if gate is None or answer.abstained or not answer.citations or answer.generated:
        return answer
    answer, another = _record_first(answer)
    row = features(answer, learned)
    p = probability(row, gate["answer"])
    abstain = abstain_below(gate, threshold)
    hedge = gate["answer"].get("hedge", abstain)
    if another:  # a row of another record may be the closest, never the answer
        p = min(p, _just_below(hedge))
    if p < abstain:
        return Answer(question=answer.question, text=covered_text(answer.question, answer),
                      abstained=True, hits=answer.hits, confidence=p, note=answer.note,
                      query=answer.query)
    first = answer.citations[0]
    plain = dataclasses.replace(first, answer_start=None, answer_end=None)
    answer = dataclasses.replace(answer, confidence=p, short="",
                                 citations=(plain, *answer.citations[1:]))
    if p < hedge:
        if len(answer.citations) > 1 and not answer.disagree:
            # No padding: a hedge quotes its closest sentence only (its passages stay in
            # ``hits``); the sentences after it were added as parts of an answer it may not be.
            answer = dataclasses.replace(answer, citations=(plain,), text=quoting((plain,)))
        return dataclasses.replace(answer, hedged=True)
    span = short_of(row)
    if span is not None and probability(row, gate["short"]) >= gate["short"]["threshold"]:
        return mark_short(answer, span)
    return answer


def abstain_below(gate: dict, threshold: float | None) -> float:
    """The probability an answer of ``gate`` (one reader's, :func:`gate_of`) is abstained
    below: ``threshold`` (``Settings.abstain_threshold``), else the gate's own."""
    return gate["answer"]["threshold"] if threshold is None else threshold


def _just_below(threshold: float) -> float:
    """The largest confidence still below ``threshold``."""
    return float(np.nextafter(threshold, 0.0))


def short_of(row: dict) -> tuple[int, int] | None:
    """The short answer the gate weighs: the span head's when of the kind asked for, else the
    typed rule's."""
    if row["span"] and row["fits"]:
        return row["span_start"], row["span_end"]
    if row["rule"]:
        return row["rule_start"], row["rule_end"]
    return None


class GatedReader:
    """An extractive reader behind the gate (the Reader protocol, rag/answer/readers/__init__.py):
    ``inner`` answers (or abstains) by its own rule; the gate may still abstain, and decides
    the short answer."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name

    def depth(self, settings, k: int) -> int:
        return self.inner.depth(settings, k)

    def read(self, question: str, query: str, qvec: np.ndarray, hits, ctx, k: int,
             note: str = "", history=None, on_text=None) -> Answer:
        answer = self.inner.read(question, query, qvec, hits, ctx, k, note=note)
        gate = packaged_gate()
        own = gate_of(self.name)
        if gate is None or ctx.model_id != gate.get("model_id") or own is None:
            return answer  # fitted on another embedder's confidences: they do not carry over
        if answer.abstained:
            # The inner reader's own rule found nothing it would quote (an off-topic question,
            # mostly: its rule refuses those the gate alone would hedge). Its calibrated score
            # can exceed the gate's threshold (another scale): shown below it, no abstention
            # reads surer than an answer or a hedge.
            below = _just_below(abstain_below(own, ctx.settings.abstain_threshold))
            return dataclasses.replace(answer, confidence=min(answer.confidence, below))
        return gated(answer, self.name, ctx.settings.abstain_threshold, ctx.learned)
