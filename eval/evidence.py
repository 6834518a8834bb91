"""Evidence@N on long documents: does a gold answer occur within the first N characters of the
ranked passages? (What a reader's eye or an LLM's context budget gets; fair across chunk sizes.)

    .venv/bin/python -m eval.evidence [--every 10] [--variants] [--answers]

Each of the six held-out SQuAD articles (part A, ../shared/data/squad; eval/train_reader.py never
trains on them) is one document, its paragraphs separated by blank lines, as users' files are;
every ``--every``-th question is asked. Prints evidence@500/1000/3000 for default ``search`` and
with reranking, hit@1/5 (a passage holds the answering span), where passages start (at a
paragraph, or straddling a break) and how deep the answer sits in the first passage holding it.
``--variants`` adds rank fusion (RRF) and the chunking before paragraph alignment.
``--answers`` asks each question instead: how often the answer's first citation, or any, holds
a gold answer, per setting (the default, on reranked passages; the same on the fused order; the
chunking and fusion before; the heuristic reader not led by the learned one; the learned reader).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from eval.squad import held_out, load_squad

from rag import Document, Retriever, Settings, make_embedder

BUDGETS = (500, 1000, 3000)


def articles() -> tuple[list[Document], list[dict]]:
    """The held-out articles as documents, and their questions with the gold spans in document
    offsets: [{question, golds: [text], spans: [(doc_id, start, end)]}]."""
    docs, questions = [], []
    by_article: dict[int, list[dict]] = {}
    for p in load_squad():
        if held_out(p["article"]):
            by_article.setdefault(p["article"], []).append(p)
    for a, paragraphs in sorted(by_article.items()):
        doc_id, parts, at = f"a{a}", [], 0
        for p in paragraphs:
            for qa in p["qas"]:
                questions.append({"question": qa["question"],
                                  "golds": [p["context"][s:e] for s, e in qa["answers"]],
                                  "spans": [(doc_id, at + s, at + e) for s, e in qa["answers"]]})
            parts.append(p["context"])
            at += len(p["context"]) + 2
        docs.append(Document(id=doc_id, text="\n\n".join(parts),
                             title=paragraphs[0]["title"].replace("_", " ")))
    return docs, questions


def evidence(hits, golds: list[str], budget: int) -> bool:
    """A gold answer occurs in the first ``budget`` characters of the ranked passages."""
    text, out = "", []
    for h in hits:
        out.append(h.passage.text)
        text = "\n\n".join(out)
        if len(text) >= budget:
            break
    return any(g in text[:budget] for g in golds)


def holds(hit, spans) -> bool:
    return any(hit.passage.doc_id == d and hit.passage.start <= s and e <= hit.passage.end
               for d, s, e in spans)


def passage_starts(r: Retriever) -> dict:
    """Share of passages that start at a paragraph start, and that hold a paragraph break."""
    docs = r.documents
    passages = [p for d in docs for p in r.passages_of([docs[d].source])]
    at_start = [p.start == 0 or docs[p.doc_id].text[:p.start].endswith("\n\n")
                for p in passages]
    straddle = ["\n\n" in p.text for p in passages]
    return {"passages": len(passages), "start at a paragraph": float(np.mean(at_start)),
            "hold a paragraph break": float(np.mean(straddle))}


def run(r: Retriever, questions: list[dict], rerank: bool) -> dict:
    rows: dict[str, list] = {f"evidence@{b}": [] for b in BUDGETS}
    rows.update({"hit@1": [], "hit@5": []})
    depth, lat = [], []
    for q in questions:
        t = time.perf_counter()
        hits = r.search(q["question"], k=20, rerank=rerank)
        lat.append((time.perf_counter() - t) * 1000)
        for b in BUDGETS:
            rows[f"evidence@{b}"].append(evidence(hits, q["golds"], b))
        found = [holds(h, q["spans"]) for h in hits]
        rows["hit@1"].append(bool(found) and found[0])
        rows["hit@5"].append(any(found[:5]))
        for h, f in zip(hits, found):
            if f:
                depth.append(min(s - h.passage.start for d, s, e in q["spans"]
                                 if d == h.passage.doc_id and h.passage.start <= s))
                break
    out = {k: float(np.mean(v)) for k, v in rows.items()}
    out["answer's median character in its passage"] = statistics.median(depth) if depth else 0
    out["search p50 ms"] = float(np.percentile(lat, 50))
    return out


def answers(r: Retriever, questions: list[dict]) -> dict:
    """Answer-level figures of ``r.ask`` on ``questions`` (all answerable)."""
    first, some, abstained, cites, lat = [], [], [], [], []
    for q in questions:
        t = time.perf_counter()
        a = r.ask(q["question"])
        lat.append((time.perf_counter() - t) * 1000)
        abstained.append(a.abstained)
        holds = [any(g in c.quote for g in q["golds"]) for c in a.citations]
        first.append(bool(holds) and holds[0])
        some.append(any(holds))
        if not a.abstained:
            cites.append(len(a.citations))
    return {"first citation holds the answer": float(np.mean(first)),
            "some citation holds it": float(np.mean(some)),
            "abstained": float(np.mean(abstained)),
            "citations an answer": float(np.mean(cites)) if cites else 0.0,
            "ask p50 ms": float(np.percentile(lat, 50))}


def table(rows: dict[str, dict]) -> None:
    names = list(next(iter(rows.values())))
    print("| long documents | " + " | ".join(rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for n in names:
        cells = [f"{v[n]:.0f}" if n in ("passages",) or "ms" in n or "character" in n
                 else f"{v[n]:.3f}" for v in rows.values()]
        print(f"| {n} | " + " | ".join(cells) + " |")


def main_answers(docs: list[Document], questions: list[dict]) -> None:
    embedder = make_embedder()
    variants = {"default (reranked)": Settings(),
                "fused order (rerank=False)": Settings(rerank=False),
                "sentences, rank fusion (before)": Settings(chunk_align="sentences",
                                                            fusion="rrf", rerank=False),
                "heuristic alone (lead_weight=0, fused order)": Settings(lead_weight=0,
                                                                         rerank=False),
                "learned reader": Settings(reader="learned")}
    built: dict[str, Retriever] = {}
    rows = {}
    for name, settings in variants.items():
        # One index per chunking; the other settings apply at question time.
        r = built.get(settings.chunk_align)
        if r is None:
            r = built[settings.chunk_align] = Retriever.from_documents(
                docs, embedder=embedder, settings=settings)
        rows[name] = answers(r.with_settings(settings), questions)
        print(f"{name}: done", file=sys.stderr)
    print(f"{len(docs)} articles, {len(questions)} questions\n")
    table(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=10, help="ask every N-th question")
    ap.add_argument("--variants", action="store_true",
                    help="also rank fusion and the chunking before paragraph alignment")
    ap.add_argument("--answers", action="store_true",
                    help="answer-level figures of each reader setting instead")
    args = ap.parse_args()
    docs, questions = articles()
    questions = questions[::args.every]
    if args.answers:
        main_answers(docs, questions)
        return
    embedder = make_embedder()
    variants = {"default (paragraphs, score fusion)": Settings()}
    if args.variants:
        variants["paragraphs, rank fusion"] = Settings(fusion="rrf")
        variants["sentences, rank fusion (before)"] = Settings(chunk_align="sentences",
                                                               fusion="rrf")
        variants["sentences, score fusion"] = Settings(chunk_align="sentences")
    rows: dict[str, dict] = {}
    for name, settings in variants.items():
        t0 = time.time()
        r = Retriever.from_documents(docs, embedder=embedder, settings=settings)
        built = time.time() - t0
        stats = passage_starts(r)
        for rerank in (False, True):
            label = f"{name}{' + rerank' if rerank else ''}"
            rows[label] = {**run(r, questions, rerank), **stats, "index s": built}
            print(f"{label}: done", file=sys.stderr)
    print(f"{len(docs)} articles, {len(questions)} questions (every {args.every}th)\n")
    table(rows)


if __name__ == "__main__":
    main()
