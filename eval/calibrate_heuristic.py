"""Calibrate the heuristic reader's confidence (its best sentence's score) into the probability
that its answer holds the fact, on held-out SQuAD: fitted (Platt: a logistic regression on the
score) on the answer head's half of the held-out articles, measured on the other half.

    .venv/bin/python -m eval.calibrate_heuristic [--out rag/models] [--limit N] [--plot PNG]

Positives and negatives: each question asked of an index of every held-out paragraph, labelled
by whether a citation holds a gold answer; and the same questions asked of an index of the
other half's articles, where nothing answers them (label 0). Writes heuristic.json (a, b, the
figures) and eval/report/heuristic_reliability.png; prints the expected calibration error of
the raw score (clipped to [0, 1]) and of the probability on the unseen half.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
from eval.squad import ece, head_fit_article, held_out, load_squad, reliability_plot, title_of

from rag import Document, Retriever, Settings, make_embedder


def scored(answering: Retriever, foreign: Retriever, qas) -> tuple[np.ndarray, np.ndarray]:
    """(raw scores, labels): each question asked where it is answerable, then where it is not;
    the heuristic never abstaining, so every question gets its best sentence's score."""
    scores, labels = [], []
    for qa, p in qas:
        golds = [p["context"][s:e] for s, e in qa["answers"]]
        a = answering.ask(qa["question"], k=5)
        scores.append(a.confidence)
        labels.append(float(any(g in c.quote for c in a.citations for g in golds)))
        scores.append(foreign.ask(qa["question"], k=5).confidence)
        labels.append(0.0)
    return np.array(scores, dtype=np.float64), np.array(labels)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "rag" / "models"))
    ap.add_argument("--limit", type=int, default=0, help="questions per half (0: all)")
    ap.add_argument("--plot", default=str(ROOT / "eval" / "report" / "heuristic_reliability.png"))
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression

    t0 = time.time()
    paragraphs = [p for p in load_squad() if held_out(p["article"])]
    docs = [Document(id=f"p{i}", text=p["context"], title=title_of(p))
            for i, p in enumerate(paragraphs)]
    embedder = make_embedder()
    raw = Settings(reader="heuristic", abstain_threshold=-1.0)  # never abstain: every score
    full = Retriever.from_documents(docs, embedder=embedder, settings=raw)
    halves = {}
    for fit in (True, False):
        mine = [(qa, p) for p in paragraphs for qa in p["qas"]
                if head_fit_article(p["article"]) == fit]
        if args.limit:
            mine = mine[:: max(1, len(mine) // args.limit)][: args.limit]
        others = Retriever.from_documents(
            [d for d, p in zip(docs, paragraphs) if head_fit_article(p["article"]) != fit],
            embedder=embedder, settings=raw)
        halves[fit] = scored(full, others, mine)
    x_fit, y_fit = halves[True]
    x_test, y_test = halves[False]
    model = LogisticRegression(C=1e4).fit(x_fit.reshape(-1, 1), y_fit)
    a, b = float(model.coef_[0][0]), float(model.intercept_[0])

    def platt(x):
        return 1.0 / (1.0 + np.exp(-(a * x + b)))

    figures = {
        "fitted_on": f"{len(y_fit)} answers (half unanswerable) of the head-fit held-out articles",
        "measured_on": f"{len(y_test)} answers (half unanswerable) of the other held-out articles",
        "ece_raw_clipped": round(ece(np.clip(x_test, 0, 1), y_test), 4),
        "ece_calibrated": round(ece(platt(x_test), y_test), 4),
        "positive_rate_test": round(float(y_test.mean()), 4),
    }
    out = Path(args.out)
    (out / "heuristic.json").write_text(json.dumps({"platt": {"a": a, "b": b},
                                                    "figures": figures}, indent=1) + "\n")
    plot = Path(args.plot)
    plot.parent.mkdir(parents=True, exist_ok=True)
    reliability_plot(platt(x_test), y_test, plot, "heuristic reader, held-out SQuAD, ECE "
                     f"{figures['ece_calibrated']:.3f}")
    print(json.dumps({"a": a, "b": b, **figures}, indent=1))
    print(f"wrote {out / 'heuristic.json'} and {plot} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
