import dataclasses
import json

from rag import Answer, Citation, Document, Hit, Passage, to_dict


def test_every_type_of_rag_types_is_a_frozen_dataclass_without_behaviour_beyond_reading():
    """rag/types.py holds values only: every class a frozen dataclass (results can be shared
    between threads and cached without copies)."""
    import inspect

    import rag.types as types

    classes = [c for _, c in inspect.getmembers(types, inspect.isclass)
               if c.__module__ == types.__name__]
    assert len(classes) >= 8
    for cls in classes:
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, cls.__name__


def test_page_at_maps_offsets_to_pages():
    d = Document(id="d", text="a" * 30, page_starts=(0, 10, 20))
    assert [d.page_at(o) for o in (0, 9, 10, 25)] == [1, 1, 2, 3]
    assert Document(id="e", text="x").page_at(0) is None


def test_to_dict_is_json_serialisable():
    p = Passage(id="d:0-3", doc_id="d", source="d", title="t", text="abc", start=0, end=3)
    a = Answer(question="q", text="abc [1]", abstained=False,
               citations=(Citation(n=1, passage=p, start=0, end=3, quote="abc"),),
               hits=(Hit(rank=1, score=0.5, passage=p, dense_score=0.5, bm25_score=1.0),))
    data = json.loads(json.dumps(to_dict(a)))
    assert data["citations"][0]["quote"] == "abc"
    assert data["hits"][0]["passage"]["start"] == 0
