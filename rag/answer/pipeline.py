"""Answering: search, an optional rerank by the learned reader, then a reader (heuristic,
learned, or an LLM whose sentences are verified) over the hits. The settings come with each
call; the sentence-embedding cache and the LLM client are kept here."""
from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..embedders import Embedder
from ..index.search import Searcher, clean_query
from ..settings import HEURISTIC_THRESHOLD, Settings, check_k
from ..types import Answer, Document, Hit

SENTENCE_CACHE = 50_000  # sentence embeddings kept for answers (384 floats each: ~75 MB at most)


class Answerer:
    """Answers over ``searcher``'s hits; ``documents`` maps ids to the indexed documents."""

    def __init__(self, searcher: Searcher, documents: Mapping[str, Document],
                 embedder: Embedder) -> None:
        self.searcher = searcher
        self.documents = documents
        self.embedder = embedder
        self._sentence_vectors: dict[str, np.ndarray] = {}
        self._llm = None  # the LLM client, made on first use from the settings
        self._learned = None

    @property
    def learned(self):
        """The learned cross-encoder (reranking, the lead, short answers, the gate's span),
        loaded on first use and owned here: one a retriever, shared by its settings views."""
        if self._learned is None:
            from .readers.learned import LearnedReader

            self._learned = LearnedReader()
        return self._learned

    def context(self, settings: Settings):
        """What a reader is given (rag.answer.readers.ReadContext): the documents, the index's
        term statistics, the cached sentence encoder, the settings and the model id."""
        from .readers.signals import ReadContext

        return ReadContext(self.documents, self.searcher.store, self.encode_sentences,
                           settings, self.embedder.model_id, self.learned)

    def rerank(self, queries: Sequence[str], qvecs: np.ndarray, results: list[list[Hit]],
               settings: Settings) -> list[list[Hit]]:
        """Each query's hits with the fused top ``settings.rerank_depth`` reordered by the
        learned reader (their best sentence's probability), the rest after them: the one
        place reranking happens."""
        from .readers.learned import rerank_hits

        ctx = self.context(settings)
        return [rerank_hits(query, qvec, hits, ctx, settings.rerank_depth)
                for query, qvec, hits in zip(queries, qvecs, results)]

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        """Embeddings of answer candidates, cached: the same passages come back across questions,
        and embedding their sentences is most of the cost of an answer."""
        if not texts:
            return np.zeros((0, self.embedder.dim), np.float32)
        cache = self._sentence_vectors
        found = {t: cache.get(t) for t in texts}  # a local view: safe if another thread clears
        missing = [t for t, v in found.items() if v is None]
        if missing:
            found.update(zip(missing, self.embedder.encode(missing)))
            if len(cache) + len(missing) > SENTENCE_CACHE:
                cache.clear()
            cache.update((t, found[t]) for t in missing)
        return np.stack([found[t] for t in texts])

    def abstain_threshold(self, settings: Settings) -> float:
        """The threshold in force, on the scale of ``Answer.confidence`` (a probability): the
        setting, else the reader's own (the heuristic's is set on its raw score, 0.32 by
        default, and given here as that score's calibrated probability); with the answer gate
        (``settings.gate``) the setting, else the gate's own, on the gate's probability."""
        if settings.gate:
            from .readers.gate import abstain_below, gate_of

            gate = gate_of(settings.reader)
            if gate is not None:
                return abstain_below(gate, settings.abstain_threshold)
        if settings.reader == "learned":
            if settings.abstain_threshold is not None:
                return settings.abstain_threshold
            return self.learned.threshold
        from .readers.heuristic import calibrated

        raw = settings.abstain_threshold
        return calibrated(HEURISTIC_THRESHOLD if raw is None else raw)

    @staticmethod
    def _read_followup(reader, followup, qvec, hits, ctx, k: int, note: str) -> Answer:
        """A follow-up read first in what the answer before cites when it asks about that
        answer ("Why?"), then in the documents it cites ("How many are in stock?" in the price
        list's rows): answered there, that answer stands; else read in all the hits."""
        from .conversation import asks_for_examples

        around = _around(followup.near, ctx.documents)
        if around:  # "Why?": asked of the answer before, read first in what it cites
            answer = _best_reading(reader, followup, qvec, around, ctx, k, note)
            # "Such as?" is answered where the examples are, however sure the reader is of
            # them (a hedge says so); anything else stands there only when answered.
            if answer.outcome == "answered" or (not answer.abstained
                                                and asks_for_examples(followup.question)):
                return dataclasses.replace(answer, hits=tuple(hits[:k]))
        near = [h for h in hits if h.passage.doc_id in followup.focus]
        if near and len(near) < len(hits):
            answer = _best_reading(reader, followup, qvec, near, ctx, k, note)
            if answer.outcome == "answered":
                shown = {h.passage.id for h in answer.hits}
                return dataclasses.replace(answer, hits=(*answer.hits, *(
                    h for h in hits if h.passage.id not in shown))[:k])
        return _best_reading(reader, followup, qvec, hits, ctx, k, note)

    def llm_client(self, settings: Settings):
        """The client of ``settings.llm_url`` (None without one), kept while the settings
        name the same server and model."""
        from .llm import ENV_KEY, LLMClient

        s = settings
        if not s.llm_url:
            return None
        key = (s.llm_url, s.llm_model, s.llm_timeout, s.llm_max_tokens)
        if self._llm is None or self._llm[0] != key:
            self._llm = (key, LLMClient(s.llm_url, s.llm_model, api_key=s.llm_api_key
                                        or os.environ.get(ENV_KEY) or None,
                                        timeout=s.llm_timeout, max_tokens=s.llm_max_tokens))
        return self._llm[1]

    def ask(self, question: str, k: int, mode: str, history: Sequence | None,
            llm: bool | None, on_text, settings: Settings) -> Answer:
        """A grounded extractive answer with citations, or an abstention when the sources do not
        contain the answer (``abstained=True``; ``hits`` still holds the closest passages).

        ``history``: the earlier turns of a conversation, oldest first (questions, (question,
        answer) pairs or Answers). A question that leans on them ("When did he give it?") is
        resolved against the turn before (rag.answer.conversation.resolve: "When did Nikita
        Khrushchev give the Secret Speech?", in ``Answer.resolved``), read as that and searched
        with the turn before; a self-contained one alone.

        With ``Settings(reader="learned")`` the fused top ``settings.rerank_depth`` passages are
        reranked by the reader and ``hits`` holds the best ``k`` of them.

        With ``Settings(llm_url=...)`` (and ``llm`` not False) an LLM writes the answer from the
        top ``settings.llm_passages`` passages, each of its sentences checked against the quote
        it cites (``Answer.generated``, ``Answer.dropped``); ``on_text`` gets its reply as it
        is written. When the server fails, the extractive answer comes with a note."""
        from .conversation import resolve
        from .readers import make_reader, reranked_by

        question, note = clean_query(question)
        check_k(k)
        # A follow-up is read as the question it stands for; the turn before it, given
        # without its answer, is answered again (extractively) to know what it refers to.
        followup = resolve(question, history, lambda q: self.ask(q, k, mode, None, False, None,
                                                                  settings))
        query = followup.query
        reader = make_reader(settings, self.llm_client(settings) if llm is not False else None)
        t0 = time.perf_counter()
        rerank = reranked_by(settings) == "search"
        depth = reader.depth(settings, k)
        found, qvecs = self.searcher.search([query], max(depth, settings.rerank_depth)
                                            if rerank else depth, mode, settings,
                                            need_vectors=True)
        if rerank:  # the extractive reader reads the learned reader's order
            found = [self.rerank([query], qvecs, found, settings)[0][:depth]]
        t1 = time.perf_counter()
        ctx = self.context(settings)
        if reader.name == "llm":  # the model reads the resolved question, with the turns
            answer = reader.read(followup.resolved, query, qvecs[0], found[0], ctx, k,
                                 note=note, history=history, on_text=on_text)
        elif not followup.leans:
            answer = reader.read(question, query, qvecs[0], found[0], ctx, k, note=note)
        else:
            answer = self._read_followup(reader, followup, qvecs[0], found[0], ctx, k, note)
        return dataclasses.replace(answer, question=question, query=query,
                                   resolved=followup.resolved if followup.leans else "",
                                   retrieve_ms=(t1 - t0) * 1000,
                                   answer_ms=(time.perf_counter() - t1) * 1000)


def _around(spans, documents) -> list[Hit]:
    """The sentences the answer before cites, as passages: a bare "Why?" or "When?" is most
    often answered in the very sentence it follows up."""
    from ..ingest.chunking import passage_of

    return [Hit(rank=n, score=1.0, passage=passage_of(documents[doc_id], start, end))
            for n, (doc_id, start, end) in enumerate(
                (s for s in spans if s[0] in documents), start=1)]


def _best_reading(reader, followup, qvec, hits, ctx, k: int, note: str) -> Answer:
    """The follow-up read as resolved and as asked (a resolution can miss what a pronoun
    means): the more confident reading, unless it cites a table row of another record than the
    resolved question names."""
    from .readers.gate import context_titles, other_record

    readings = [reader.read(q, followup.query, qvec, hits, ctx, k, note=note)
                for q in dict.fromkeys((followup.resolved, followup.question))]
    # "How many are in stock?" read as asked may be surest of the kettle's row; the toaster's
    # question before it named the record.
    return max(readings, key=lambda a: (not a.abstained, not (
        a.citations and other_record(followup.resolved, a.citations[0], context_titles(a))),
        a.confidence))


def streamed(ask: Callable[[Callable[[str], None]], Answer]):
    """Run ``ask(on_text)`` in a thread: yields the text it reports as it comes (str), then
    its Answer (an error it raises is raised here)."""
    import queue
    import threading

    pieces: queue.Queue = queue.Queue()
    done = object()
    result: list = []

    def run() -> None:
        try:
            result.append(ask(pieces.put))
        except BaseException as e:  # noqa: BLE001 - raised again in the caller's thread
            result.append(e)
        finally:
            pieces.put(done)

    threading.Thread(target=run, daemon=True, name="rag-ask").start()
    while (piece := pieces.get()) is not done:
        yield piece
    if isinstance(result[0], BaseException):
        raise result[0]
    yield result[0]
