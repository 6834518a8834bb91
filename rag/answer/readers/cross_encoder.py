"""The learned reader's model run: (question, text) pairs through the int8 ONNX cross-encoder,
one logit each, and its span head's answer span (rag/runtime/onnxrun.py runs it)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

# The longest short answer, in word pieces.
MAX_SPAN_PIECES = 30


class OnnxCrossEncoder:
    """(question, text) pairs -> logits, with the model's own word-piece tokenizer; int8, so
    each pair runs alone (rag/runtime/onnxrun.py): a pair's logit never depends on the others read
    with it."""

    def __init__(self, onnx_path: str | Path, tokenizer_dir: str | Path, max_length: int) -> None:
        from ...runtime.onnxrun import OnnxModel

        self.model = OnnxModel(onnx_path, Path(tokenizer_dir) / "tokenizer.json", max_length)

    def logits(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """One logit per pair."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        return self.model.run(list(pairs)).reshape(-1)

    def span(self, question: str, text: str, offset: int = 0,
             max_pieces: int = MAX_SPAN_PIECES) -> tuple[int, int, float] | None:
        """The answer span the span head finds in ``text`` at or after character ``offset``:
        (start, end, probability): characters of ``text``, the best start + end logits over
        spans of at most ``max_pieces`` word pieces, and the head's probability of that start
        times that of that end (softmax over the text's pieces); None when no word piece of
        the text lies there."""
        enc = self.model.tokenizer.encode(question, text)
        feeds = {"input_ids": np.array([enc.ids], dtype=np.int64),
                 "attention_mask": np.ones((1, len(enc.ids)), dtype=np.int64),
                 "token_type_ids": np.array([enc.type_ids], dtype=np.int64)}
        start, end = (o[0] for o in self.model.session.run(["start", "end"], feeds))
        pieces = [t for t, (seq, (a, b)) in enumerate(zip(enc.sequence_ids, enc.offsets))
                  if seq == 1 and a >= offset and b > a]
        if not pieces:
            return None
        best, found = -np.inf, None
        for n, i in enumerate(pieces):
            for j in pieces[n:n + max_pieces]:
                if start[i] + end[j] > best:
                    best, found = start[i] + end[j], (i, j)
        s, e = (np.asarray(x, dtype=np.float64)[pieces] for x in (start, end))
        # log P(start) + log P(end), each a softmax over the text's pieces.
        log_p = best - (s.max() + np.log(np.exp(s - s.max()).sum())) \
            - (e.max() + np.log(np.exp(e - e.max()).sum()))
        i, j = found
        return enc.offsets[i][0], enc.offsets[j][1], float(np.exp(log_p))
