"""The LangChain and LlamaIndex adapters, against the real packages."""
import re

import pytest

from conftest import ROOT
from rag import ConfigError, HashEmbedder, Retriever, Settings
from test_retriever import DOCS


@pytest.fixture
def r():
    return Retriever.from_documents(DOCS, embedder=HashEmbedder(),
                                    settings=Settings(max_tokens=16, overlap_sentences=0))


def test_langchain_retriever_returns_documents_with_their_offsets(r):
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    from rag.integrations.langchain import RagRetriever

    lc = RagRetriever(retriever=r, k=3, mode="hybrid")
    assert isinstance(lc, BaseRetriever)
    docs = lc.invoke("Which planet is the largest?")
    hits = r.search("Which planet is the largest?", k=3)
    assert all(isinstance(d, Document) for d in docs) and len(docs) == len(hits)
    for d, h in zip(docs, hits):
        source = r.documents[d.metadata["doc_id"]].text
        assert d.page_content == source[d.metadata["start"]:d.metadata["end"]]
        assert d.metadata["passage_id"] == h.passage.id and d.metadata["score"] == h.score
    assert docs[0].metadata["source"] == "space"
    # pydantic reports the library's message (its ValidationError is a ValueError).
    with pytest.raises(ValueError, match="k=0: k must be an integer >= 1"):
        RagRetriever(retriever=r, k=0)
    with pytest.raises(ValueError, match="mode='magic'"):
        RagRetriever(retriever=r, mode="magic")


def test_llamaindex_retriever_returns_nodes_with_char_offsets(r):
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore

    from rag.integrations.llamaindex import RagRetriever

    li = RagRetriever(retriever=r, k=3, mode="bm25")
    assert isinstance(li, BaseRetriever)
    nodes = li.retrieve("largest planet Jupiter")
    hits = r.search("largest planet Jupiter", k=3, mode="bm25")
    assert all(isinstance(n, NodeWithScore) for n in nodes) and len(nodes) == len(hits)
    for n, h in zip(nodes, hits):
        text = r.documents[h.passage.doc_id].text
        assert n.node.text == text[n.node.start_char_idx:n.node.end_char_idx]
        assert n.node.node_id == h.passage.id and n.score == h.score
    with pytest.raises(ConfigError, match="k=0"):
        RagRetriever(retriever=r, k=0)


def _readme_block(marker: str) -> str:
    """The README's python block that contains ``marker``."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return next(b for b in blocks if marker in b)


@pytest.mark.model
@pytest.mark.parametrize("marker", ["rag.integrations.langchain", "rag.integrations.llamaindex"])
def test_readme_adapter_examples_run_as_written(marker, monkeypatch):
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(_readme_block(marker), "README.md", "exec"), scope)  # noqa: S102
    found = scope.get("docs") or scope.get("nodes")
    assert found and "Khrushchev" in " ".join(
        getattr(x, "page_content", None) or x.node.text for x in found)
