"""A LlamaIndex retriever over a :class:`rag.Retriever` (``pip install 'rag[llamaindex]'``).

>>> from rag.integrations.llamaindex import RagRetriever
>>> nodes = RagRetriever(retriever=r, k=5, mode="hybrid").retrieve("Who gave the Secret Speech?")
>>> nodes[0].node.text, nodes[0].node.start_char_idx, nodes[0].score
"""
from __future__ import annotations

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from ..settings import check_k, check_mode
from . import hit_metadata


def _node(hit) -> NodeWithScore:
    p = hit.passage
    node = TextNode(id_=p.id, text=p.text, start_char_idx=p.start, end_char_idx=p.end,
                    metadata=hit_metadata(hit))
    return NodeWithScore(node=node, score=hit.score)


class RagRetriever(BaseRetriever):
    """``retrieve(query)`` -> ``NodeWithScore``s whose nodes hold the passage text, with
    ``start_char_idx``/``end_char_idx`` its offsets in the document, and the hit's score."""

    def __init__(self, retriever, k: int = 5, mode: str = "hybrid", **kwargs) -> None:
        self.retriever = retriever
        self.k = check_k(k)
        self.mode = check_mode(mode)
        super().__init__(**kwargs)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [_node(h) for h in self.retriever.search(query_bundle.query_str, k=self.k,
                                                         mode=self.mode)]
