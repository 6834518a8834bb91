"""SQuAD 2.0 on long documents: answerable questions and the unanswerable ones people wrote to look
answerable (part A, ../shared/data/squad: 7 articles, 1,286 answerable and 1,332 unanswerable
questions). Each article is one document, its paragraphs separated by blank lines, as users'
files are (``--paragraphs``: each paragraph a document); the learned reader never trains on
these articles.

    .venv/bin/python -m eval.squad2 [--every N] [--paragraphs] [--reader NAME] [--records FILE]

Prints, for answerable questions: how often the first citation holds a gold answer, how often
some citation does, how often it abstains, the short answers shown and their precision (token
F1 >= 0.5); for unanswerable ones: how often it abstains, and how often the first citation
holds the "plausible" answer the question was written around (a confident wrong answer); each
for the articles the gate is not fitted on (eval.squad.squad2_fit_article) and for all seven.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time

import numpy as np

from eval.squad import SQUAD, f1, squad2_fit_article

from rag import Document, Retriever, Settings, make_embedder

SQUAD2 = SQUAD.parent / "squad-v2.0-dev-part-a.json.gz"


def articles(paragraphs: bool = False) -> tuple[list[Document], list[dict]]:
    """The 7 articles as documents (``paragraphs``: each paragraph a document instead), and
    their questions: [{question, impossible, golds: [text], article}] (``golds``: the
    plausible answers of an unanswerable question)."""
    data = json.loads(gzip.open(SQUAD2, "rt", encoding="utf-8").read())["data"]
    docs, questions = [], []
    for article in data:
        title = article["title"]
        if paragraphs:
            docs += [Document(id=f"{title}#{i}", title=title.replace("_", " "),
                              text=p["context"]) for i, p in enumerate(article["paragraphs"])]
        else:
            docs.append(Document(id=title, title=title.replace("_", " "),
                                 text="\n\n".join(p["context"] for p in article["paragraphs"])))
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                impossible = bool(qa.get("is_impossible"))
                golds = [x["text"] for x in qa["plausible_answers" if impossible else "answers"]]
                questions.append({"question": qa["question"], "impossible": impossible,
                                  "golds": golds, "article": title})
    return docs, questions


def ask_all(r: Retriever, questions: list[dict]) -> list[dict]:
    """One record per question: what the answer said and whether its citations hold a gold."""
    out = []
    for q in questions:
        t = time.perf_counter()
        a = r.ask(q["question"])
        ms = (time.perf_counter() - t) * 1000
        holds = [any(g in c.quote for g in q["golds"]) for c in a.citations]
        out.append({**q, "abstained": a.abstained, "hedged": bool(getattr(a, "hedged", False)),
                    "confidence": a.confidence, "short": a.short,
                    "short_f1": max((f1(a.short, g) for g in q["golds"]), default=0.0),
                    "first_holds": bool(holds) and holds[0], "some_holds": any(holds),
                    "ms": ms})
    return out


def summary(records: list[dict]) -> dict:
    ok = [r for r in records if not r["impossible"]]
    no = [r for r in records if r["impossible"]]
    shown = [r for r in ok if r["short"]]
    mean = (lambda xs: float(np.mean(xs)) if xs else 0.0)
    return {
        "answerable": len(ok),
        "first citation holds the answer": mean([r["first_holds"] for r in ok]),
        "some citation holds it": mean([r["some_holds"] for r in ok]),
        "abstained (answerable)": mean([r["abstained"] for r in ok]),
        "short answer shown": mean([bool(r["short"]) for r in ok]),
        "short answer precision": mean([r["short_f1"] >= 0.5 for r in shown]),
        "hedged (answerable)": mean([r["hedged"] for r in ok]),
        "unanswerable": len(no),
        "abstained (unanswerable)": mean([r["abstained"] for r in no]),
        "hedged (unanswerable)": mean([r["hedged"] for r in no]),
        "answered as if known (unanswerable)": mean([not (r["abstained"] or r["hedged"])
                                                     for r in no]),
        "answered citing the distractor": mean([not r["abstained"] and r["first_holds"]
                                               for r in no]),
        "ask p50 ms": float(np.percentile([r["ms"] for r in records], 50)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=1, help="ask every N-th question")
    ap.add_argument("--reader", default=None, help="a registered reader (default: Settings')")
    ap.add_argument("--paragraphs", action="store_true",
                    help="each paragraph a document (default: each article one long document)")
    ap.add_argument("--records", default=None, metavar="FILE",
                    help="write one JSON line per question")
    args = ap.parse_args()
    docs, questions = articles(args.paragraphs)
    questions = questions[::args.every]
    settings = Settings() if args.reader is None else Settings(reader=args.reader)
    t0 = time.time()
    r = Retriever.from_documents(docs, embedder=make_embedder(), settings=settings)
    print(f"{len(docs)} articles indexed in {time.time() - t0:.0f} s; {len(questions)} "
          "questions", file=sys.stderr)
    records = ask_all(r, questions)
    if args.records:
        with open(args.records, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(x) + "\n" for x in records)
    rows = {"held out from the gate": summary([x for x in records
                                               if not squad2_fit_article(x["article"])]),
            "all 7 articles": summary(records)}
    shape = "paragraphs" if args.paragraphs else "long documents"
    print(f"| SQuAD 2.0 part A, {shape} ({settings.reader}) | " + " | ".join(rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for name in next(iter(rows.values())):
        cells = [f"{v[name]:.0f}" if name in ("answerable", "unanswerable") or "ms" in name
                 else f"{v[name]:.3f}" for v in rows.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
