"""rag: local, offline question answering over a folder of documents, with verified citations.

>>> from rag import Retriever
>>> r = Retriever.from_folder("seeds")
>>> r.ask("Who gave the Secret Speech?").citations[0].quote

Importing rag is light: torch, faiss and sentence-transformers load on first use.
"""
from .answer.citations import ABSTAIN_TEXT, DISAGREE_LABEL, HEDGE_LABEL, verify_citation
from .ingest.chunking import chunk_document
from .embedders import Embedder, make_embedder
from .embedders.hashing import HashEmbedder
from .embedders.onnx import OnnxEmbedder
from .embedders.torch import SentenceTransformerEmbedder
from .errors import ConfigError, IndexLoadError, RagError
from .eval.evaluation import (check_questions, evaluate, evaluate_beir, evaluate_conversations,
                         load_beir, load_conversations, load_questions)
from .eval.feedback import eval_set_path, graded_question
from .eval.feedback import load_rows as load_feedback
from .eval.feedback import record as record_feedback
from .eval.feedback import remove as remove_feedback
from .answer.llm import LLMClient, LLMError
from .ingest.pages import page_range, render_page
from .ingest.loading import SUFFIXES, load_documents, load_file, load_folder
from .ingest.extracted import ExtractionCache
from .runtime.fair import FairGate
from .paths import extracted_folder, is_hidden_inside, store_base, uploads_folder
from .index.build import UPLOADS_PREFIX
from .retriever import Retriever
from .ingest.segment import split_blocks, split_sentences
from .ingest.suggest import suggested_questions
from .settings import BACKENDS, DEFAULT_BACKEND, DEFAULT_MODEL, MODES, READERS, Settings
from .index.stores import Store
from .types import (Answer, Citation, Conversation, Document, DocumentInfo, Dropped, EvalResult,
                    ExpectedSpan, Hit, IndexStats, Passage, Question, QuestionResult, to_dict)

__all__ = [
    "ABSTAIN_TEXT", "Answer", "DISAGREE_LABEL", "HEDGE_LABEL", "BACKENDS", "Citation", "ConfigError", "Conversation",
    "DEFAULT_BACKEND", "DEFAULT_MODEL", "Document", "DocumentInfo", "Dropped", "Embedder",
    "EvalResult", "ExpectedSpan", "HashEmbedder", "Hit", "IndexLoadError", "IndexStats",
    "LLMClient", "LLMError", "MODES",
    "OnnxEmbedder", "Passage", "Question", "QuestionResult", "READERS", "RagError", "Retriever",
    "SUFFIXES",
    "SentenceTransformerEmbedder", "Settings", "Store", "UPLOADS_PREFIX", "check_questions",
    "chunk_document", "eval_set_path", "evaluate", "evaluate_beir", "evaluate_conversations",
    "graded_question", "is_hidden_inside", "load_feedback", "record_feedback",
    "remove_feedback",
    "load_beir", "load_conversations", "load_documents", "load_file", "load_folder",
    "load_questions", "make_embedder", "split_blocks", "split_sentences", "to_dict",
    "uploads_folder", "suggested_questions", "page_range", "render_page", "ExtractionCache", "FairGate", "extracted_folder", "store_base",
    "verify_citation",
]
__version__ = "0.1.0"
