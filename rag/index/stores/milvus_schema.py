"""The two Milvus collections of a rag index (rag/index/stores/milvus.py): passages, with the
BM25 function over rag's own terms and HNSW over the vectors, and documents in text parts."""
from __future__ import annotations

from .milvus import BM25_PARAMS, CONSISTENCY, HNSW, MAX_VARCHAR


def create_collections(client, passages: str, documents: str, dimension: int) -> None:
    """(Re)create the empty collections ``passages`` and ``documents``."""
    from pymilvus import DataType, Function, FunctionType

    c = client
    for name in (passages, documents):
        if c.has_collection(name):
            c.drop_collection(name)
    s = c.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
    s.add_field("doc_id", DataType.VARCHAR, max_length=256)
    s.add_field("source", DataType.VARCHAR, max_length=4096)
    s.add_field("title", DataType.VARCHAR, max_length=4096)
    s.add_field("start", DataType.INT64)
    s.add_field("end", DataType.INT64)
    s.add_field("page", DataType.INT64)  # -1: no page
    s.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    s.add_field("terms", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                analyzer_params={"tokenizer": "standard"})
    # The text's terms alone (no title): what the readers' IDF counts, as the local store.
    s.add_field("text_terms", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                enable_match=True, analyzer_params={"tokenizer": "standard"})
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    s.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                            input_field_names=["terms"], output_field_names=["sparse"]))
    ip = c.prepare_index_params()
    ip.add_index("vector", index_type="HNSW", metric_type="IP", params=HNSW)
    ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                 params=BM25_PARAMS)
    _create(c, passages, s, ip)

    d = c.create_schema(auto_id=False, enable_dynamic_field=False)
    d.add_field("key", DataType.VARCHAR, is_primary=True, max_length=300)
    d.add_field("doc_id", DataType.VARCHAR, max_length=256)
    d.add_field("part", DataType.INT64)
    d.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    d.add_field("info", DataType.JSON)  # source, title, sha256, added, page_starts...
    d.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus needs a vector field
    ip = c.prepare_index_params()
    ip.add_index("unused", index_type="FLAT", metric_type="L2")
    _create(c, documents, d, ip)


def _create(c, name: str, schema, index_params) -> None:
    """Create and load a collection. Its indexes are created without waiting on them (they are
    built before the first search): waiting asks the server for a timestamp, which milvus-lite
    does not implement (its gRPC server would log a stack trace)."""
    c.create_collection(name, schema=schema, consistency_level=CONSISTENCY)
    c.create_index(name, index_params, sync=False)
    c.load_collection(name)
