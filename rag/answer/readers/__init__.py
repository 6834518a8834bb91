"""Readers: from the retrieved passages to an answer with verified citations, or an abstention.
Each is one module behind one protocol (:class:`Reader`); the Retriever searches, then hands the
hits and a :class:`ReadContext` to the reader, which never calls back into it.

- ``heuristic`` (default, ``rag/answer/readers/heuristic.py``): cosine + lexical coverage + answer
  type (the cheap signals of ``rag/answer/readers/signals.py``).
- ``learned`` (``rag/answer/readers/learned.py``): a cross-encoder trained in this repository
  (eval/train_reader.py) reranks the fused passages and picks the answering sentences; its
  calibrated probability is the confidence.
- ``llm`` (``rag/answer/readers/llm.py``, with ``Settings(llm_url=...)``): an OpenAI-compatible server
  writes the answer; each sentence is checked against its quote (``rag/answer/verify.py``); the
  extractive reader's answer is its fallback.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from ...settings import Settings
from ...types import Answer, Hit
from .signals import ReadContext

__all__ = ["REGISTRY", "ReadContext", "Reader", "make_reader", "register", "reranked_by"]


class Reader(Protocol):
    """``depth``: how many fused hits it reads for ``k``; ``read``: the answer to ``question``
    from ``hits`` (found for ``query``, embedded as ``qvec``). ``history``: earlier turns;
    ``on_text``: pieces of a written answer as they come."""

    name: str

    def depth(self, settings: Settings, k: int) -> int: ...

    def read(self, question: str, query: str, qvec: np.ndarray, hits: Sequence[Hit],
             ctx: ReadContext, k: int, note: str = "", history: Sequence | None = None,
             on_text: Callable[[str], None] | None = None) -> Answer: ...


# reader name (Settings(reader=...)) -> "module:Class" of this package, or of a module elsewhere
REGISTRY: dict[str, str] = {"heuristic": "heuristic:HeuristicReader",
                            "learned": "learned:CrossEncoderReader"}


def register(name: str, target: str) -> None:
    """Make ``name`` a reader (``Settings(reader=name)``): ``target`` is "module:Class" of this
    package, or "package.module:Class"; the class has ``name``, ``depth`` and ``read``."""
    REGISTRY[name] = target


def reranked_by(settings: Settings) -> str:
    """Where the learned reader reorders the fused passages, decided here only: "reader" (the
    learned reader reranks as it reads), "search" (``Settings(rerank=True)``: the pipeline
    reranks before any reader reads), "llm" (``Settings(llm_rerank=True)``: the LLM reader's
    context only, its extractive fallback reading the fused order), or "" (nowhere)."""
    if settings.reader == "learned":
        return "reader"
    if settings.rerank:
        return "search"
    return "llm" if settings.llm_rerank else ""


def make_reader(settings: Settings, llm_client=None) -> Reader:
    """The reader of ``settings.reader``, behind the answer gate (``settings.gate``,
    rag/answer/readers/gate.py), wrapped by the LLM reader when a client is given."""
    from ...runtime.targets import resolve

    reader: Reader = resolve(REGISTRY[settings.reader], __package__)()
    if settings.gate:
        from .gate import GatedReader

        reader = GatedReader(reader)
    if llm_client is not None:
        from .llm import LLMReader

        reader = LLMReader(reader, llm_client)
    return reader
