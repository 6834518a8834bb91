"""The heuristic reader (``Settings(reader="heuristic")``, the default): sentences of the top
passages scored by cosine similarity to the question + IDF-weighted lexical coverage + an
answer-type bonus, with hand-set weights chosen on the seed set; the learned reader's probability
joins that score to choose the sentence that leads the answer (``Settings.lead_weight``)."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from ..citations import ABSTAIN_TEXT, quoted
from ..disagree import newest_first
from ...index.passages import PassageIndex
from ...paths import MODELS
from ...settings import HEURISTIC_THRESHOLD, Settings
from ...types import Answer, Document, Hit
from .signals import (LEXICAL_WEIGHT, TYPE_BONUS, ReadContext, answer_type,  # noqa: F401
                      candidate_sentences, combine, sentence_signals)

log = logging.getLogger(__name__)

# Sentences scoring within this margin of the best one join the answer (0.08 on the seed set:
# answer_supported 0.854 at 1.4 citations an answer; 0.12 adds noise, 0.04 loses support).
_MARGIN = 0.08
# Subtracted from the confidence for each name in the question that the sources never mention:
# the sources cannot answer a question about someone or something they do not name.
UNKNOWN_NAME_PENALTY = 0.25


@lru_cache(maxsize=1)
def _platt() -> tuple[float, float] | None:
    """(a, b) of rag/models/heuristic.json (eval/calibrate_heuristic.py), or None."""
    path = MODELS / "heuristic.json"
    try:
        platt = json.loads(path.read_text(encoding="utf-8"))["platt"]
        return float(platt["a"]), float(platt["b"])
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("%s is missing or unreadable: the heuristic's confidence is its raw score, "
                    "clipped to [0, 1] (reinstall rag or run eval/calibrate_heuristic.py)", path)
        return None


def calibrated(score: float) -> float:
    """The probability that an answer whose best sentence scores ``score`` holds the fact:
    Platt scaling fitted on held-out SQuAD (eval/calibrate_heuristic.py; ECE in
    docs/decisions.md). Monotonic, so abstaining below a score is abstaining below its
    probability."""
    if not np.isfinite(score):
        return 0.0
    platt = _platt()
    if platt is None:
        return float(min(1.0, max(0.0, score)))
    a, b = platt
    return float(1.0 / (1.0 + np.exp(-(a * score + b))))


def compose_answer(question: str, qvec: np.ndarray, hits: Sequence[Hit],
                   documents: dict[str, Document], index: PassageIndex,
                   encode: Callable[[list[str]], np.ndarray], settings: Settings,
                   note: str = "", learned=None) -> Answer:
    """Pick the sentences of the top passages that best answer the question (see
    :func:`rag.answer.readers.signals.combine`). Abstain when even the best is below ``settings.abstain_threshold``.
    ``qvec`` is the embedding of what was searched (with earlier turns, for a follow-up)."""
    cands = candidate_sentences(hits[:settings.answer_passages], documents, question)[0]
    if not cands:
        return Answer(question=question, text=ABSTAIN_TEXT, abstained=True, hits=tuple(hits),
                      note=note)
    texts = [documents[h.passage.doc_id].text[s:e] for h, s, e in cands]
    signals = sentence_signals(question, qvec, texts, index, encode)
    sims = combine(signals) - UNKNOWN_NAME_PENALTY * signals["unknown_names"]
    wanted = answer_type(question)
    typed = [wanted(t) for t in texts] if wanted is not None else []
    if any(typed):
        # Embeddings match topics, not answer types: "When was the speech given?" is closest to
        # sentences about the speech. Only sentences with a date (or number) can answer it.
        sims = np.where(typed, sims, -np.inf)
    best = float(sims.max())
    threshold = (HEURISTIC_THRESHOLD if settings.abstain_threshold is None
                 else settings.abstain_threshold)
    if best < threshold:
        return Answer(question=question, text=ABSTAIN_TEXT, abstained=True, hits=tuple(hits),
                      confidence=calibrated(best), note=note)
    order = [i for i in np.argsort(-sims, kind="stable")
             if sims[i] >= max(threshold, best - _MARGIN)]
    lead, probs = _lead(question, cands, texts, signals, sims, threshold, settings, learned)
    if lead is not None:  # in the answer whether or not the margin had it: [1], then the rest
        # No padding: a further sentence joins only when the learned reader finds that it too
        # answers (not merely that it is about the subject).
        order = [i for i in order
                 if i != lead and probs[i] >= settings.answer_join * probs[lead]]
    chosen = sorted(order[: settings.answer_sentences - (lead is not None)],
                    key=lambda i: (cands[i][0].rank, cands[i][1]))
    labels: dict[str, str] = {}
    if lead is not None:
        chosen.insert(0, lead)
        chosen, labels = newest_first(question, chosen, cands, texts, probs, documents,
                                      settings.answer_join)
    citations, text = quoted([cands[i] for i in chosen], documents, labels)
    return Answer(question=question, text=text, abstained=False,
                  citations=tuple(citations), hits=tuple(hits), confidence=calibrated(best),
                  note=note, disagree=bool(labels))


def _lead(question: str, cands, texts: list[str], signals: dict[str, np.ndarray],
          sims: np.ndarray, threshold: float, settings: Settings,
          learned) -> tuple[int | None, np.ndarray]:
    """The sentence that leads the answer (its first citation, where the short answer is
    looked for): the best by the heuristic score plus ``settings.lead_weight`` times the
    learned reader's probability, among those the heuristic would cite at all; None when
    ``lead_weight`` is 0 (the answer is then in source order). With it, the learned reader's
    probability of each candidate (0 for those it did not read)."""
    if settings.lead_weight <= 0:
        return None, np.zeros(len(texts), dtype=np.float32)
    from .learned import lead_probabilities

    can_lead = sims >= threshold
    probs = lead_probabilities(learned, question, cands, texts, signals,
                               settings.read_sentences, eligible=can_lead)
    lead = int(np.argmax(np.where(can_lead, sims + settings.lead_weight * probs, -np.inf)))
    return lead, probs


class HeuristicReader:
    """The heuristic reader behind the Reader protocol (rag/answer/readers/__init__.py): reads the
    top ``k`` hits; its short answer by rag.answer.shortanswer's rule."""

    name = "heuristic"

    def depth(self, settings: Settings, k: int) -> int:
        return k

    def read(self, question: str, query: str, qvec: np.ndarray, hits: Sequence[Hit],
             ctx: ReadContext, k: int, note: str = "", history=None, on_text=None) -> Answer:
        from dataclasses import replace

        from ..shortanswer import with_short_answer

        # Passages found with the earlier turns (qvec), sentences scored for the question.
        answer = compose_answer(question, qvec, hits, ctx.documents, ctx.index, ctx.encode,
                                ctx.settings, note=note, learned=ctx.learned)
        return with_short_answer(replace(answer, question=question, query=query))
