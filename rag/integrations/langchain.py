"""A LangChain retriever over a :class:`rag.Retriever` (``pip install 'rag[langchain]'``).

>>> from rag.integrations.langchain import RagRetriever
>>> docs = RagRetriever(retriever=r, k=5, mode="hybrid").invoke("Who gave the Secret Speech?")
>>> docs[0].page_content, docs[0].metadata["start"], docs[0].metadata["source"]
"""
from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, field_validator

from ..settings import check_k, check_mode
from . import hit_metadata


class RagRetriever(BaseRetriever):
    """``invoke(query)`` -> LangChain ``Document``s: ``page_content`` is the passage text
    (``document.text[start:end]``), ``metadata`` its source, title, start, end, page, score and
    passage id."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    k: int = 5
    mode: str = "hybrid"

    @field_validator("k")
    @classmethod
    def _k(cls, k: int) -> int:
        return check_k(k)

    @field_validator("mode")
    @classmethod
    def _mode(cls, mode: str) -> str:
        return check_mode(mode)

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [Document(page_content=h.passage.text, metadata=hit_metadata(h))
                for h in self.retriever.search(query, k=self.k, mode=self.mode)]
