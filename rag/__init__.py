"""rag: local, offline question answering over a folder of documents, with verified citations.

>>> from rag import Retriever
>>> r = Retriever.from_folder("seeds")
>>> r.ask("Who gave the Secret Speech?").citations[0].quote

Importing rag is light: torch, faiss and sentence-transformers load on first use.
"""
from .answer import ABSTAIN_TEXT, verify_citation
from .chunking import chunk_document, split_sentences
from .embedding import Embedder, HashEmbedder, SentenceTransformerEmbedder
from .errors import ConfigError, IndexLoadError, RagError
from .evaluation import check_questions, evaluate, evaluate_beir, load_beir, load_questions
from .loading import load_folder
from .retriever import Retriever
from .settings import DEFAULT_MODEL, MODES, Settings
from .types import (Answer, Citation, Document, EvalResult, ExpectedSpan, Hit, IndexStats,
                    Passage, Question, QuestionResult, to_dict)

__all__ = [
    "ABSTAIN_TEXT", "Answer", "Citation", "ConfigError", "DEFAULT_MODEL", "Document", "Embedder",
    "EvalResult", "ExpectedSpan", "HashEmbedder", "Hit", "IndexLoadError", "IndexStats", "MODES",
    "Passage", "Question", "QuestionResult", "RagError", "Retriever",
    "SentenceTransformerEmbedder", "Settings", "check_questions", "chunk_document", "evaluate",
    "evaluate_beir", "load_beir", "load_folder", "load_questions", "split_sentences", "to_dict",
    "verify_citation",
]
__version__ = "0.1.0"
