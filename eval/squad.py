"""SQuAD for this project's training and evaluation: the data (part A of the v1.1 development
set, the training articles), the split by article (which articles train, fit heads, or are held
out for reporting), sentences and titles of a paragraph, SQuAD's answer F1, and calibration
(ECE, reliability plots). One module the scripts of eval/ share: none imports another script."""
from __future__ import annotations

import collections
import gzip
import json
import re
import string
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

SQUAD = ROOT.parent / "shared" / "data" / "squad" / "squad-v1.1-dev-part-a.json.gz"
# All 442 SQuAD training articles (none a development article): what the learned reader trains on.
TRAIN_SET = SQUAD.parent / "squad-train.json.gz"


def held_out(index: int) -> bool:
    """Articles at positions 3, 7, 11, ... (6 of 24) are held out."""
    return index % 4 == 3


def head_fit_article(article: int) -> bool:
    """The answer head is fitted on half the held-out articles (positions 3, 11, 19); the other
    half (7, 15, 23) is where every end-to-end figure is reported (eval/squad_eval.py)."""
    return held_out(article) and article % 8 == 3


# SQuAD 2.0 part A (eval/squad2.py): the answer gate is fitted on the real unanswerable questions
# of three of its seven articles; the other four (French_and_Indian_War among them, part A's
# held-out half that nothing fits on) are where its figures are reported.
SQUAD2_FIT = ("Normans", "Huguenot", "Scottish_Parliament")


def squad2_fit_article(title: str) -> bool:
    """Whether the gate is fitted on this SQuAD 2.0 article (else it is held out)."""
    return title in SQUAD2_FIT


def load_squad(path: Path = SQUAD, articles: int = 0) -> list[dict]:
    """[{article, title, context, sentences: [(s, e)], qas: [{id, question, answers: [(s, e)],
    impossible}]}] (``impossible``: a SQuAD 2.0 unanswerable question; its ``answers`` are
    empty). ``articles``: read only the first that many (all when 0)."""
    from rag import split_sentences

    data = json.loads(gzip.open(path, "rt", encoding="utf-8").read())["data"]
    paragraphs = []
    for a, article in enumerate(data[:articles] if articles else data):
        for p in article["paragraphs"]:
            ctx = p["context"]
            qas = [{"id": q["id"], "question": q["question"],
                    "answers": [(x["answer_start"], x["answer_start"] + len(x["text"]))
                                for x in q["answers"]],
                    "impossible": bool(q.get("is_impossible"))} for q in p["qas"]]
            paragraphs.append({"article": a, "title": article["title"], "context": ctx,
                               "sentences": split_sentences(ctx), "qas": qas})
    return paragraphs


def gold_sentences(par: dict, qa: dict) -> set[int]:
    """Indices of the sentences that hold a gold answer's start."""
    return {i for i, (s, e) in enumerate(par["sentences"])
            for a0, _ in qa["answers"] if s <= a0 < e}


_WORDS = re.compile(r"\w+")


def title_of(p: dict) -> str:
    """A SQuAD paragraph's article title as a document title ("Martin_Luther" -> "Martin
    Luther")."""
    return p["title"].replace("_", " ")


def sentences_of(p: dict) -> list[str]:
    """A paragraph's sentences as the cross-encoder reads them: "title | sentence" (CONTEXT)."""
    from rag.dev import reader_text

    return [reader_text(title_of(p), p["context"][s:e]) for s, e in p["sentences"]]


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (probs >= lo) & (probs < hi if hi < 1 else probs <= hi)
        if m.any():
            total += m.mean() * abs(probs[m].mean() - labels[m].mean())
    return float(total)


def reliability_plot(probs, labels, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = np.linspace(0, 1, 11)
    xs, ys = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (probs >= lo) & (probs <= hi)
        if m.sum() >= 5:
            xs.append(probs[m].mean())
            ys.append(labels[m].mean())
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect")
    ax.plot(xs, ys, "o-", label="reader")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("share that answers")
    ax.set_title(title, fontsize=9)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, articles or extra spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def f1(pred: str, gold: str) -> float:
    p, g = normalize(pred).split(), normalize(gold).split()
    common = sum((collections.Counter(p) & collections.Counter(g)).values())
    if not p or not g or common == 0:
        return float(p == g)
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)

