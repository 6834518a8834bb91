"""Evaluation: span-labelled question sets and BEIR-format benchmarks."""
from __future__ import annotations

import gzip
import json
import time
from collections.abc import Sequence
from pathlib import Path

from . import metrics as m
from ..answer.citations import verify_citation
from ..errors import ConfigError
from ..retriever import Retriever
from ..types import (Citation, Conversation, Document, EvalResult, ExpectedSpan, Passage,
                    Question, QuestionResult)


def _question(row: dict, qid: str) -> Question:
    return Question(id=qid, question=row["question"], answerable=bool(row["answerable"]),
                    expected=tuple(ExpectedSpan(e["source"], e["quote"], int(e["start"]),
                                                int(e["end"])) for e in row.get("expected", [])),
                    topic=str(row.get("topic", "")))


def _records(path: str | Path, what: str, make):
    """``make(row)`` for each JSON line of ``path``; errors name the file, the line and the fix."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ConfigError(f"{what} set {str(path)!r} cannot be read ({e}): give a JSONL "
                          "file") from e
    out = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(make(json.loads(line)))
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{path}:{n}: not a valid {what} record ({e})") from e
    return out


def load_conversations(path: str | Path) -> list[Conversation]:
    """Read a JSONL set of conversations: {"id", "turns": [question records]}."""
    return _records(path, "conversation", lambda row: Conversation(id=str(row["id"]), turns=tuple(
        _question(t, f"{row['id']}.{i}") for i, t in enumerate(row["turns"], start=1))))


def is_conversation_set(path: str | Path) -> bool:
    """True when the JSONL file holds conversations (records with "turns")."""
    try:
        first = next(line for line in Path(path).read_text(encoding="utf-8").splitlines()
                     if line.strip())
        return "turns" in json.loads(first)
    except (OSError, ValueError, StopIteration):
        return False


def evaluate_conversations(retriever: Retriever, conversations: Sequence[Conversation],
                           k: int = 10, mode: str = "hybrid",
                           history: bool = True) -> EvalResult:
    """Ask each conversation's turns in order, passing the earlier questions as history (or not,
    with ``history=False``); per-turn metrics as :func:`evaluate`, plus the same figures over the
    follow-up turns alone (``followup_*``: every turn after the first)."""
    results = []
    followups = []
    for conv in conversations:
        asked: list[str] = []
        for i, q in enumerate(conv.turns):
            res = evaluate(retriever, [q], k=k, mode=mode,
                           history=list(asked) if history else None)
            results.extend(res.questions)
            if i > 0:
                followups.extend(res.questions)
            asked.append(q.question)
    metrics = _metrics(retriever, results)
    follow = _metrics(retriever, followups)
    metrics.update({f"followup_{name}": follow[name] for name in
                    ("hit@5", "mrr@10", "answer_supported", "citation_precision")})
    return EvalResult(mode=f"{mode}{'' if history else ' (no history)'}", metrics=metrics,
                      questions=tuple(results))


def load_questions(path: str | Path) -> list[Question]:
    """Read a JSONL question set: {"id", "question", "answerable", "expected": [spans]}."""
    return _records(path, "question", lambda row: _question(row, str(row["id"])))


def check_questions(questions: Sequence[Question], documents: Sequence[Document]) -> list[str]:
    """Problems with the labels: each quote must sit at its offsets in its source."""
    by_source = {d.source: d for d in documents}
    problems = []
    for q in questions:
        if q.answerable and not q.expected:
            problems.append(f"{q.id}: answerable but no expected span")
        for e in q.expected:
            doc = by_source.get(e.source)
            if doc is None:
                problems.append(f"{q.id}: source {e.source!r} is not in the documents")
            elif doc.text[e.start:e.end] != e.quote:
                problems.append(f"{q.id}: quote is not at [{e.start}:{e.end}] of {e.source}")
    return problems


def _covers(source: str, start: int, end: int, e: ExpectedSpan) -> bool:
    """A passage or citation is relevant to a label when it covers half of the labelled span."""
    return source == e.source and m.covers(start, end, e.start, e.end)


def _passage_covers(p: Passage, e: ExpectedSpan) -> bool:
    return _covers(p.source, p.start, p.end, e)


def _citation_covers(c: Citation, e: ExpectedSpan) -> bool:
    return _covers(c.passage.source, c.start, c.end, e)


EVIDENCE_BUDGETS = (500, 1000, 3000)


def evidence_depth(retrieved: Sequence[Passage], expected: Sequence[ExpectedSpan]) -> float:
    """How many characters of the ranked passages (joined by a blank line, as a reader or an
    LLM's context gets them) must be read to reach the end of an expected span, in the first
    passage that covers one; infinity when none does."""
    at = 0
    for p in retrieved:
        ends = [min(e.end, p.end) - p.start for e in expected if _passage_covers(p, e)]
        if ends:
            return float(at + min(ends))
        at += len(p.text) + 2
    return float("inf")


def evaluate(retriever: Retriever, questions: Sequence[Question], k: int = 10,
             mode: str = "hybrid", progress: bool = False,
             history: Sequence[str] | None = None) -> EvalResult:
    """Ask every question; score retrieval (hit@1/5/10, recall@10, MRR@10, nDCG@10 over passages
    that cover an expected span; evidence@500/1000/3000: the expected span is read within that
    many characters of the ranked passages), answers and abstention. Latency is that of ``ask``.
    ``history``: earlier questions passed to every ``ask`` (a conversation's turns)."""
    from tqdm import tqdm

    # The passages that can be relevant: those of the documents the expected spans are in.
    all_passages = retriever.passages_of(sorted({e.source for q in questions
                                                 for e in q.expected}))
    records = []
    for q in tqdm(questions, desc=f"eval {mode}", disable=None if progress else True, leave=False):
        t0 = time.perf_counter()
        answer = retriever.ask(q.question, k=max(k, 10), mode=mode, history=history)
        latency = (time.perf_counter() - t0) * 1000
        retrieved = tuple(h.passage for h in answer.hits)
        ranked = [p.id for p in retrieved]
        qrels = {p.id: 1.0 for p in all_passages
                 if any(_passage_covers(p, e) for e in q.expected)}
        first = next((i for i, p in enumerate(retrieved, 1) if p.id in qrels), None)
        supported = any(_citation_covers(c, e) for c in answer.citations for e in q.expected)
        scores: dict[str, float] = {}
        if q.answerable:
            scores = {f"hit@{cut}": m.hit_at_k(ranked, qrels, cut) for cut in (1, 5, 10)}
            covered = [any(_passage_covers(p, e) for p in retrieved[:10]) for e in q.expected]
            scores["recall@10"] = sum(covered) / len(covered)
            scores["mrr@10"] = m.mrr_at_k(ranked, qrels, 10)
            scores["ndcg@10"] = m.ndcg_at_k(ranked, qrels, 10)
            depth = evidence_depth(retrieved, q.expected)
            scores.update({f"evidence@{n}": float(depth <= n) for n in EVIDENCE_BUDGETS})
        records.append(QuestionResult(
            id=q.id, question=q.question, answerable=q.answerable, expected=q.expected,
            retrieved=retrieved[:k],
            first_relevant_rank=first, answer=answer.text, abstained=answer.abstained,
            confidence=answer.confidence, citations=answer.citations, supported=supported,
            latency_ms=latency, retrieval=scores, short=answer.short, topic=q.topic,
            generated=answer.generated,
            fell_back=bool(retriever.settings.llm_url) and not answer.generated,
            kept=answer.text.count(" [") if answer.generated and not answer.abstained else 0,
            dropped=len(answer.dropped), first_token_ms=answer.first_token_ms,
            hedged=answer.hedged))
    return EvalResult(mode=mode, metrics=_metrics(retriever, records),
                      questions=tuple(records))


def _metrics(retriever: Retriever, records: Sequence[QuestionResult]) -> dict[str, float]:
    """Retrieval, answer and abstention metrics over per-question records."""
    names = ("hit@1", "hit@5", "hit@10", "recall@10", "mrr@10", "ndcg@10",
             *(f"evidence@{n}" for n in EVIDENCE_BUDGETS))
    metrics = {name: m.mean([r.retrieval[name] for r in records if r.answerable])
               for name in names}
    answerable = [r for r in records if r.answerable]
    abstained = [r for r in records if r.abstained]
    unanswerable = [r for r in records if not r.answerable]
    latencies = [r.latency_ms for r in records]
    cited = [any(_citation_covers(c, e) for e in r.expected)
             for r in answerable for c in r.citations]
    citations = [(c, retriever.documents[c.passage.doc_id]) for r in records for c in r.citations]
    metrics.update({
        "citations": float(len(citations)),
        "citations_verified": m.mean([float(verify_citation(c, d)) for c, d in citations]),
        "answer_supported": m.mean([float(r.supported) for r in answerable]),
        "citation_precision": m.mean([float(x) for x in cited]),
        "abstain_precision": m.mean([float(not r.answerable) for r in abstained]),
        "abstain_recall": m.mean([float(r.abstained) for r in unanswerable]),
        **{f"abstain_recall_{topic}_topic": m.mean([float(r.abstained) for r in unanswerable
                                                      if r.topic == topic])
           for topic in ("off", "near") if any(r.topic == topic for r in unanswerable)},
        # The three outcomes (answered, hedged, abstained) of each kind of question.
        **{f"{outcome}_{kind}": m.mean([float(r.outcome == outcome) for r in group])
           for kind, group in (("answerable", answerable), ("unanswerable", unanswerable))
           if group for outcome in ("answered", "hedged", "abstained")},
        "latency_p50_ms": m.percentile(latencies, 50),
        "latency_p95_ms": m.percentile(latencies, 95),
        "questions": float(len(records)), "answerable": float(len(answerable)),
    })
    # Short answers: how often one is shown, and how often it lies in the expected evidence
    # (at least half of its characters inside an expected span).
    shorts = [(r, r.citations[0]) for r in answerable if r.short and r.citations
              and r.citations[0].answer_start is not None]
    metrics["short_shown"] = len(shorts) / len(answerable) if answerable else 0.0
    metrics["short_in_evidence"] = m.mean([float(any(
        e.source == c.passage.source and min(c.answer_end, e.end) - max(c.answer_start, e.start)
        >= 0.5 * (c.answer_end - c.answer_start) for e in r.expected)) for r, c in shorts])
    if retriever.settings.llm_url:  # written answers: how many, what was kept, how fast
        first = [r.first_token_ms for r in records if r.first_token_ms is not None]
        metrics.update({
            "llm_generated": m.mean([float(r.generated) for r in records]),
            "llm_fell_back": m.mean([float(r.fell_back) for r in records]),
            "llm_sentences_kept": float(sum(r.kept for r in records)),
            "llm_sentences_dropped": float(sum(r.dropped for r in records)),
            "llm_first_token_p50_ms": m.percentile(first, 50) if first else 0.0,
        })
    return metrics


# ---- BEIR ---------------------------------------------------------------------------------

def load_beir(folder: str | Path, split: str = "test") -> tuple[list[Document], dict[str, str],
                                                                 dict[str, dict[str, float]]]:
    """(documents, queries of the split, qrels) of a BEIR folder: corpus.jsonl(.gz),
    queries.jsonl, qrels/SPLIT.tsv. A document's text is its title and text."""
    root = Path(folder)
    corpus = root / "corpus.jsonl"
    if not corpus.exists():
        corpus = root / "corpus.jsonl.gz"
    qrels_path = root / "qrels" / f"{split}.tsv"
    for p in (corpus, root / "queries.jsonl", qrels_path):
        if not p.exists():
            raise ConfigError(f"BEIR folder {str(folder)!r} lacks {p.name}: it needs "
                              "corpus.jsonl[.gz], queries.jsonl and qrels/SPLIT.tsv")
    opener = gzip.open if corpus.suffix == ".gz" else open
    docs = []
    with opener(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            title = (row.get("title") or "").strip()
            body = (row.get("text") or "").strip()
            text = f"{title}\n\n{body}" if title else body
            docs.append(Document(id=str(row["_id"]), text=text, title=title,
                                 source=str(row["_id"])))
    qrels: dict[str, dict[str, float]] = {}
    for n, line in enumerate(qrels_path.read_text(encoding="utf-8").splitlines()):
        parts = line.split("\t")
        if n == 0 and not parts[-1].strip().lstrip("-").isdigit():
            continue  # header
        qid, did, score = parts[0], parts[1], float(parts[2])
        qrels.setdefault(qid, {})[did] = score
    queries = {}
    for line in (root / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if str(row["_id"]) in qrels:
            queries[str(row["_id"])] = row["text"]
    return docs, queries, qrels


def rank_documents(retriever: Retriever, queries: Sequence[str], mode: str, depth: int = 100,
                   batch: int = 32, rerank: bool = False) -> list[list[str]]:
    """Document ids per query, best first, each document scored by its best passage."""
    out = []
    for i in range(0, len(queries), batch):
        for hits in retriever.search_batch(queries[i:i + batch], k=depth * 3, mode=mode,
                                           rerank=rerank):
            seen: dict[str, None] = {}
            for h in hits:
                seen.setdefault(h.passage.doc_id, None)
            out.append(list(seen)[:depth])
    return out


def evaluate_beir(retriever: Retriever, queries: dict[str, str], qrels: dict[str, dict[str, float]],
                  mode: str = "hybrid", rerank: bool = False) -> EvalResult:
    """nDCG@10, recall@100, MRR@10 over whole documents, and per-query latency of the search."""
    ids = list(queries)
    latencies = []
    rankings = []
    for qid in ids:  # one at a time, so latency is that of a single search
        t0 = time.perf_counter()
        rankings.extend(rank_documents(retriever, [queries[qid]], mode, rerank=rerank))
        latencies.append((time.perf_counter() - t0) * 1000)
    metrics = {
        "ndcg@10": m.mean([m.ndcg_at_k(r, qrels[q], 10) for q, r in zip(ids, rankings)]),
        "recall@100": m.mean([m.recall_at_k(r, qrels[q], 100) for q, r in zip(ids, rankings)]),
        "mrr@10": m.mean([m.mrr_at_k(r, qrels[q], 10) for q, r in zip(ids, rankings)]),
        "latency_p50_ms": m.percentile(latencies, 50),
        "latency_p95_ms": m.percentile(latencies, 95),
        "queries": float(len(ids)),
    }
    return EvalResult(mode=f"{mode} reranked" if rerank else mode, metrics=metrics)
