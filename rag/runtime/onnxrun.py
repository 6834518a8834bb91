"""Running an ONNX model on CPU the one way this package does: inputs tokenized with the model's
own tokenizer (``tokenizers``, no transformers), sorted by length, cut into small batches that
run on one worker thread per core, each run single-threaded (on a few cores this beats one
multi-threaded run: less padding, no thread handoff inside a small matrix product).

An int8 (dynamically quantized) model is run one input at a time: dynamic quantization scales
activations over the whole input tensor, so within a batch an input's output would depend on
its neighbours and their padding."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .fair import FairGate


class OnnxModel:
    """``run(inputs)``: one output row per input (a text, or a (text, text) pair)."""

    def __init__(self, onnx_path: str | Path, tokenizer_json: str | Path, max_length: int,
                 batch_size: int = 1, providers: list[str] | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(tokenizer_json))
        tok.enable_truncation(max_length=max_length, strategy="longest_first")
        tok.no_padding()
        self.tokenizer = tok
        self.batch_size = batch_size
        providers = providers or ["CPUExecutionProvider"]
        # On a GPU one stream of larger batches; on the CPU a worker per core.
        self.threads = (os.cpu_count() or 1) if providers[0] == "CPUExecutionProvider" else 1
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # parallel across batches instead
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=providers)
        self._pool = None
        # As many callers at once as there are workers, first come first served.
        self._turn = FairGate(self.threads)

    def run(self, inputs: list) -> np.ndarray:
        """The model's first output for each input, in order (rows of a float32 array)."""
        encodings = self.tokenizer.encode_batch(list(inputs))
        order = sorted(range(len(inputs)), key=lambda i: len(encodings[i].ids))
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        parts: list = [None] * len(batches)

        def run(b: int) -> None:
            idx = batches[b]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for row, i in enumerate(idx):
                e = encodings[i]
                ids[row, :len(e.ids)] = e.ids
                mask[row, :len(e.ids)] = 1
                types[row, :len(e.ids)] = e.type_ids
            parts[b] = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                               "token_type_ids": types})[0]

        with self._turn:
            if len(batches) <= 1 or self.threads == 1:
                for b in range(len(batches)):
                    run(b)
            else:  # onnxruntime releases the GIL while it runs
                if self._pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="rag-onnx")
                list(self._pool.map(run, range(len(batches))))
        if not parts:
            return np.zeros((0,), dtype=np.float32)
        rows = np.concatenate(parts).astype(np.float32, copy=False)
        out = np.empty_like(rows)
        out[np.array(order)] = rows
        return out
