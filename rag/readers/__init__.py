"""Readers: from the retrieved passages to an answer with verified citations, or an abstention.

- ``learned`` (default, ``rag/readers/learned.py``): a cross-encoder trained in this repository
  (eval/train_reader.py) reranks the fused passages and picks the answering sentences; its
  calibrated probability is the confidence.
- ``heuristic`` (``rag/readers/heuristic.py``): cosine + lexical coverage + answer type.
"""
