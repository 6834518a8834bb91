"""Typed results of the rag library: frozen dataclasses, no behaviour beyond serialisation."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """A source document. ``text`` is what every offset in the library refers to.

    ``source`` is the path relative to the indexed folder (for in-memory documents, the id).
    ``page_starts`` holds, for paginated sources (PDF), the character offset where each page
    begins, so that an offset can be mapped back to its page number. ``modified``: when its
    file was last changed (UTC, ISO 8601; "" when not from a file): the date of a document
    that does not state its own.
    """

    id: str
    text: str
    title: str = ""
    source: str = ""
    page_starts: tuple[int, ...] = ()
    modified: str = ""

    def page_at(self, offset: int) -> int | None:
        """1-based page number containing ``offset``, or None for unpaginated documents."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
            else:
                break
        return page + 1


@dataclass(frozen=True)
class Passage:
    """A chunk of a document: ``document.text[start:end] == text``, always."""

    id: str
    doc_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    page: int | None = None


@dataclass(frozen=True)
class Hit:
    """One retrieved passage. ``score`` is the score of the mode used (for hybrid the fused
    score: in [0, 1 + dense_weight] with the default min-max fusion, an RRF score with
    ``fusion="rrf"``), or, when the reader reranked the passages, the reader's probability
    that the passage holds the answer (``reader_score``); ``dense_score`` (cosine) and
    ``bm25_score`` are the component scores."""

    rank: int
    score: float
    passage: Passage
    dense_score: float | None = None
    bm25_score: float | None = None
    reader_score: float | None = None


@dataclass(frozen=True)
class Citation:
    """Citation ``[n]``: the quoted sentence is ``document.text[start:end]`` of the passage's
    document, and lies inside the passage. ``page`` is the page the quote starts on (PDF), from
    the quote's own offset, not the passage's. ``answer_start``/``answer_end``, when set, are the
    document offsets of the short answer inside the quote (the date for "when", the name for
    "who"...): ``document.text[answer_start:answer_end] == Answer.short``."""

    n: int
    passage: Passage
    start: int
    end: int
    quote: str
    page: int | None = None
    answer_start: int | None = None
    answer_end: int | None = None
    dated: str = ""  # when the sources disagree: the date of the quote's document, and whence


@dataclass(frozen=True)
class Dropped:
    """A sentence an LLM wrote that is not shown, because its sources do not support it:
    ``text`` as written, ``reason`` (e.g. "'1961' is not in its quote", "no marker"), and the
    passage markers it had."""

    text: str
    reason: str
    markers: tuple[int, ...] = ()


@dataclass(frozen=True)
class Answer:
    """An extractive answer. When ``abstained`` is true, ``text`` says the sources do not contain
    the answer, ``citations`` is empty and ``hits`` still holds the closest passages.
    ``confidence`` is, with the learned reader, the calibrated probability that the first cited
    sentence answers the question. ``short`` is the span of it that answers (may be empty).
    ``query`` is what was searched: the question, with earlier turns when it leans on them;
    ``resolved`` the question as it was read then ("When is a staff parking permit due?" for
    "When is it due?"), else "".

    How sure it is, in three outcomes: answered; ``hedged`` — the reader is not sure the cited
    sentences answer (``confidence`` between the abstention and the answer thresholds): they
    are shown as the closest passages, that may not answer, with no short answer; or
    ``abstained``. ``outcome`` names which. ``disagree``: documents give different values for
    what is asked; each is cited, the newest first, its citation ``dated``.

    ``generated``: the text was written by an LLM (``model``) and every sentence of it was
    checked against the quote it cites; ``dropped`` lists the sentences it wrote that were not
    supported (never part of ``text``); ``first_token_ms``: how long its first words took.
    Without an LLM, or when it fails (``note`` says why), the answer is extractive."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    confidence: float = 0.0
    note: str = ""
    retrieve_ms: float = 0.0
    answer_ms: float = 0.0
    short: str = ""
    query: str = ""
    generated: bool = False
    dropped: tuple[Dropped, ...] = ()
    model: str = ""
    first_token_ms: float | None = None
    hedged: bool = False
    disagree: bool = False
    resolved: str = ""

    @property
    def outcome(self) -> str:
        """"answered", "hedged" or "abstained"."""
        return outcome(self.abstained, self.hedged)


@dataclass(frozen=True)
class Followup:
    """A question read after the earlier turns of a conversation: ``resolved`` stands alone
    ("When is a staff parking permit due?" for "When is it due?"; the question itself when it
    leans on nothing), ``query`` is what is searched (with the turn before when it leans on
    it), ``focus`` the documents the answer before cites (preferred when it leans), ``near``
    the spans it cites when the question asks about that answer itself ("Why?")."""

    question: str
    resolved: str
    query: str
    focus: tuple[str, ...] = ()
    # a bare question word ("Why?", "When?") asks about the answer before: the spans it cites
    # (document id, start, end), read first
    near: tuple[tuple[str, int, int], ...] = ()

    @property
    def leans(self) -> bool:
        """Whether the question was read with an earlier turn."""
        return self.query != self.question


@dataclass(frozen=True)
class DocumentInfo:
    """What the index holds of one document: for listing and removing documents."""

    id: str
    source: str
    title: str
    pages: int | None
    passages: int
    chars: int
    added: str  # when this version of the document was indexed (UTC, ISO 8601)
    sha256: str = ""  # of its text: what incremental indexing compares
    error: str = ""  # a file of the folders that could not be read: why (nothing indexed)


@dataclass(frozen=True)
class IndexStats:
    """What a (re)index did, counted in documents, plus the passage total afterwards."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    passages: int = 0
    skipped: tuple[str, ...] = field(default_factory=tuple)


def outcome(abstained: bool, hedged: bool) -> str:
    """An answer's outcome from its flags: "abstained", "hedged" or "answered"."""
    return "abstained" if abstained else "hedged" if hedged else "answered"


def to_dict(obj: Any) -> Any:
    """JSON-ready dict of any of the dataclasses above (lists of them too)."""
    if isinstance(obj, (list, tuple)):
        return [to_dict(o) for o in obj]
    out = asdict(obj)
    if isinstance(obj, Answer):
        out["outcome"] = obj.outcome
    return out


@dataclass(frozen=True)
class ExpectedSpan:
    """An eval label: ``quote`` sits at ``[start:end]`` of the document at ``source``."""

    source: str
    quote: str
    start: int
    end: int


@dataclass(frozen=True)
class Question:
    """One eval question; unanswerable ones have no expected spans. ``topic`` tells, for an
    unanswerable one, whether the documents name its subject ("near") or not ("off")."""

    id: str
    question: str
    answerable: bool
    expected: tuple[ExpectedSpan, ...] = ()
    topic: str = ""


@dataclass(frozen=True)
class Conversation:
    """An eval conversation: questions asked in turn, each labelled like a seed question."""

    id: str
    turns: tuple[Question, ...]


@dataclass(frozen=True)
class QuestionResult:
    """What the system did on one eval question."""

    id: str
    question: str
    answerable: bool
    expected: tuple[ExpectedSpan, ...]
    retrieved: tuple[Passage, ...]
    first_relevant_rank: int | None
    answer: str
    abstained: bool
    confidence: float
    citations: tuple[Citation, ...]
    supported: bool
    latency_ms: float
    retrieval: dict[str, float] = field(default_factory=dict)  # hit@k, mrr@10... (answerable)
    short: str = ""
    topic: str = ""
    generated: bool = False   # written by an LLM (else extractive)
    fell_back: bool = False   # an LLM was asked but failed: the extractive answer was given
    kept: int = 0             # sentences of the written answer shown
    dropped: int = 0          # sentences it wrote that were not supported
    first_token_ms: float | None = None
    hedged: bool = False      # answered as the closest passages, that may not answer

    @property
    def outcome(self) -> str:
        """"answered", "hedged" or "abstained" (as :attr:`Answer.outcome`)."""
        return outcome(self.abstained, self.hedged)


@dataclass(frozen=True)
class EvalResult:
    """Metrics of one retrieval mode on one question set, with the per-question records."""

    mode: str
    metrics: dict[str, float]
    questions: tuple[QuestionResult, ...] = ()
