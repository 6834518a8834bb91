"""End-to-end reader figures on the held-out SQuAD articles (those eval/train_reader.py never
trains on): every held-out paragraph indexed as a document; the questions of the half of them
that the answer head was not fitted on (``head_fit_article``) asked.

    .venv/bin/python -m eval.squad_eval [--limit N] [--reader learned|heuristic|all]
        [--split eval|fit] [--lead-weight W] [--answer-join SHARE] [--records FILE]

Prints, per reader: the share of questions where some citation holds a gold answer string, and
where the first citation does; short-answer exact match and token F1 (SQuAD's normalisation),
how often a short answer is shown and, of those, how many match a gold answer (F1 >= 0.5);
citations an answer and the share that hold a gold answer (citation precision); hedges and
abstentions on answerable questions; and, for the same questions asked of an index of the
head's articles (unanswerable there), the share not answered as if known; warm ask p50/p95.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from eval.squad import f1, head_fit_article, held_out, load_squad, normalize, title_of

from rag import READERS, Document, Retriever, Settings, make_embedder  # noqa: E402






def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=0, help="ask at most this many questions")
    ap.add_argument("--reader", choices=(*READERS, "all"), default="all")
    ap.add_argument("--unanswerable", type=int, default=300,
                    help="questions asked of the other articles' index")
    ap.add_argument("--answer-join", type=float, default=None, metavar="SHARE",
                    help="Settings(answer_join): the share of the lead's probability a further "
                    "sentence needs to join the answer (default: the Settings')")
    ap.add_argument("--lead-weight", type=float, default=None, metavar="W",
                    help="Settings(lead_weight): how much the learned reader's probability "
                    "weighs in choosing the heuristic's first citation (default: the Settings')")
    ap.add_argument("--abstain-threshold", type=float, default=None,
                    help="override the readers' own threshold (0: never abstain)")
    ap.add_argument("--split", choices=("eval", "fit"), default="eval",
                    help="ask the questions of the held-out articles the answer head was not "
                    "fitted on (eval, the reported figures) or of those it was (fit: for "
                    "choosing thresholds)")
    ap.add_argument("--records", default=None, metavar="FILE",
                    help="write one JSON line per question and reader (confidence, short "
                    "answer, its F1, whether a citation holds the answer)")
    args = ap.parse_args()

    paragraphs = [p for p in load_squad() if held_out(p["article"])]
    articles = sorted({p["article"] for p in paragraphs})
    docs = [Document(id=f"p{i}", text=p["context"], title=title_of(p))
            for i, p in enumerate(paragraphs)]
    qas = [(qa, p) for p in paragraphs for qa in p["qas"]
           if head_fit_article(p["article"]) == (args.split == "fit")]
    if args.limit:
        qas = qas[:: max(1, len(qas) // args.limit)][: args.limit]
    embedder = make_embedder()
    t0 = time.time()
    full = Retriever.from_documents(docs, embedder=embedder)
    # Unanswerable: the same questions asked of an index of the other half of the articles.
    other = Retriever.from_documents([d for d, p in zip(docs, paragraphs)
                                      if head_fit_article(p["article"]) != (args.split == "fit")],
                                     embedder=embedder)
    foreign = qas[:: max(1, len(qas) // max(1, args.unanswerable))][: args.unanswerable]
    print(f"{len(docs)} held-out paragraphs of {len(articles)} articles "
          f"({', '.join(sorted({p['title'] for p in paragraphs}))}); {len(qas)} questions of "
          f"{', '.join(sorted({p['title'] for _, p in qas}))}; "
          f"indexed in {time.time() - t0:.0f} s", file=sys.stderr)
    readers = list(READERS) if args.reader == "all" else [args.reader]
    overrides = {name: value for name, value in (("answer_join", args.answer_join),
                                                 ("lead_weight", args.lead_weight))
                 if value is not None}
    rows = {}
    records: list[dict] = []
    built = (full, other)
    for reader in readers:
        settings = Settings(reader=reader, abstain_threshold=args.abstain_threshold,
                            **overrides)
        full, other = (r.with_settings(settings) for r in built)
        any_hit, first_hit, abstained, em, f1s, lat, shown = [], [], [], [], [], [], []
        cited, hedged = [], []
        for qa, p in qas:
            golds = [p["context"][s:e] for s, e in qa["answers"]]
            t = time.perf_counter()
            a = full.ask(qa["question"], k=5)
            lat.append((time.perf_counter() - t) * 1000)
            holds = [any(g in c.quote for g in golds) for c in a.citations]
            any_hit.append(any(holds))
            cited += holds
            hedged.append(a.hedged)
            first_hit.append(bool(holds) and holds[0])
            abstained.append(a.abstained)
            em.append(max(float(normalize(a.short) == normalize(g)) for g in golds))
            f1s.append(max(f1(a.short, g) for g in golds))
            shown.append(bool(a.short))
            records.append({"reader": reader, "question": qa["question"],
                            "confidence": a.confidence, "abstained": a.abstained,
                            "short": a.short, "short_f1": f1s[-1], "holds": any_hit[-1],
                            "first_holds": first_hit[-1]})
        # Not answered as if known: abstained or hedged.
        refused = [other.ask(qa["question"], k=5).outcome != "answered" for qa, _ in foreign]
        rows[reader] = {
            "questions": len(qas), "some citation holds the answer": np.mean(any_hit),
            "first citation holds the answer": np.mean(first_hit),
            "short answer EM": np.mean(em), "short answer F1": np.mean(f1s),
            "short answer shown": np.mean(shown),
            # Of the short answers shown, those that match a gold answer (token F1 >= 0.5).
            "short answer precision": (np.mean([f >= 0.5 for f, sh in zip(f1s, shown) if sh])
                                       if any(shown) else 0.0),
            "citations an answer": len(cited) / max(1, sum(not x for x in abstained)),
            "citation precision": np.mean(cited) if cited else 0.0,
            "hedged (answerable)": np.mean(hedged),
            "abstained (answerable)": np.mean(abstained),
            "abstained or hedged (other articles' index)": np.mean(refused) if refused else 0.0,
            "ask p50 ms": np.percentile(lat, 50), "ask p95 ms": np.percentile(lat, 95),
        }
        print(f"{reader}: done", file=sys.stderr)
    if args.records:
        import json

        Path(args.records).write_text("".join(json.dumps(r) + "\n" for r in records))
    names = list(next(iter(rows.values())))
    print("| held-out SQuAD | " + " | ".join(rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for n in names:
        cells = [f"{rows[r][n]:.0f}" if n == "questions" or n.endswith("ms") else
                 f"{rows[r][n]:.3f}" for r in rows]
        print(f"| {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
