"""Sources that disagree (rag/answer/disagree.py): both cited, the newest first, each dated."""
import os
from datetime import datetime

import pytest

from rag import DISAGREE_LABEL, Document, Retriever, Settings, load_folder, verify_citation
from rag.answer.disagree import document_date, same_statement

OLD = ("Return policy 2022\n\nItems bought from us may be returned within 14 days of delivery.\n\n"
       "The customer pays for return shipping.\n")
NEW = ("# Return policy\n\nEffective 1 March 2024. This policy replaces all earlier versions.\n\n"
       "Items bought from us may be returned within 30 days of delivery.\n\nReturn shipping "
       "is free.\n")


def test_a_document_is_dated_by_what_it_says_else_its_name_else_its_file():
    when, label, replaces = document_date(Document(id="n", text=NEW, title="Return policy"))
    assert when == datetime(2024, 3, 1) and label == "Effective 1 March 2024" and replaces
    when, label, replaces = document_date(Document(id="o", text=OLD, title="Return policy 2022",
                                                   source="returns.txt"))
    assert when == datetime(2022, 1, 1) and "2022" in label and not replaces
    when, label, _ = document_date(Document(id="m", text="Opening hours are nine to five.",
                                            title="Hours", modified="2025-06-30T08:00:00+00:00"))
    assert when.date().isoformat() == "2025-06-30" and label == "file changed 2025-06-30"
    assert document_date(Document(id="x", text="No date here.", title="Notes")) == \
        (None, "", False)


def test_only_versions_of_one_statement_can_disagree():
    # The same statement with another value: two versions; two facts with numbers: not.
    assert same_statement("Items may be returned within 14 days of delivery.",
                          "Items may be returned within 30 days of delivery.")
    assert same_statement("Refunds are made within ten working days.",
                          "Refunds are made within five working days of receipt.")
    assert not same_statement("The bridge opened in 1932 after four years of work.",
                              "The canal was dug by 300 labourers in 1950.")


@pytest.mark.model
@pytest.mark.parametrize("reader", ["heuristic", "learned"])
def test_when_two_policies_disagree_both_are_cited_the_newest_first(tmp_path, real_embedder,
                                                                     reader):
    (tmp_path / "returns-old.txt").write_text(OLD)
    (tmp_path / "returns-new.md").write_text(NEW)
    # The older file changed last: the date the newer one states is what counts.
    os.utime(tmp_path / "returns-new.md", (1_600_000_000, 1_600_000_000))
    docs, _ = load_folder(tmp_path)
    r = Retriever.from_documents(docs, embedder=real_embedder, settings=Settings(reader=reader))
    a = r.ask("How many days do customers have to return an item?")
    assert a.disagree and a.text.startswith(DISAGREE_LABEL), a.text
    assert [c.passage.source for c in a.citations[:2]] == ["returns-new.md", "returns-old.txt"]
    assert "30 days" in a.citations[0].quote and "14 days" in a.citations[1].quote
    assert a.citations[0].dated == "Effective 1 March 2024" and "2022" in a.citations[1].dated
    assert all(verify_citation(c, r.documents[c.passage.doc_id]) for c in a.citations)
    # A question that names a version's year asks about that one: it comes first.
    named = r.ask("How many days did customers have to return an item under the 2022 policy?")
    assert named.disagree and named.citations[0].passage.source == "returns-old.txt", named.text
    assert "14 days" in named.citations[0].quote
    # Where they agree (only one says it), nothing is said of disagreement.
    one = r.ask("Is return shipping free?")
    assert not one.disagree and all(not c.dated for c in one.citations)
