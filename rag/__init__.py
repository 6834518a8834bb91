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
from .loading import load_folder
from .retriever import Retriever
from .settings import DEFAULT_MODEL, MODES, Settings
from .types import Answer, Citation, Document, Hit, IndexStats, Passage, to_dict

__all__ = [
    "ABSTAIN_TEXT", "Answer", "Citation", "ConfigError", "DEFAULT_MODEL", "Document", "Embedder",
    "HashEmbedder", "Hit", "IndexLoadError", "IndexStats", "MODES", "Passage", "RagError",
    "Retriever", "SentenceTransformerEmbedder", "Settings", "chunk_document", "load_folder",
    "split_sentences", "to_dict", "verify_citation",
]
__version__ = "0.1.0"
