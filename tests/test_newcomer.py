"""A newcomer's mixed folder (eval/newcomer.py: a handbook with headings and tables, a CSV price
list, two return policies of which the newer replaces the older, a web page, an e-mail, slides, a
scanned memo): table rows are read with their column names, no heading is cited as an answer,
the current policy comes first when two disagree, and every answer says how sure it is."""
import pytest

from eval.newcomer import QUESTIONS, build
from rag import Retriever, verify_citation
from rag.dev import is_context_line

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory, real_embedder):
    folder = build(tmp_path_factory.mktemp("newcomer"))
    return Retriever.from_folder(folder, embedder=real_embedder)


def test_every_file_is_read_and_a_table_row_answers_with_its_column_names(newcomer):
    sources = {d.source for d in newcomer.documents.values()}
    assert sources == {"safety-handbook.docx", "prices.csv", "returns-2022.txt",
                       "returns-2024.md", "about.html", "car-park.eml", "cm500-launch.pptx",
                       "server-room-memo.png"}
    a = newcomer.ask("How much does the CM400 coffee maker cost?")
    first = a.citations[0]
    assert first.passage.source == "prices.csv" and "price_gbp: 89.99" in first.quote
    a = newcomer.ask("Who is the fire warden for the second floor?")
    assert "Warden: Bo Chan" in a.citations[0].quote


def test_no_heading_is_cited_and_every_answer_says_how_sure(newcomer):
    for question, _ in QUESTIONS:
        a = newcomer.ask(question)
        assert a.outcome in ("answered", "hedged", "abstained") and 0 <= a.confidence <= 1
        for c in a.citations:
            doc = newcomer.documents[c.passage.doc_id]
            assert verify_citation(c, doc)
            assert not is_context_line(doc.text, c.start, c.end, doc), (question, c.quote)


def test_the_current_policy_comes_first_when_two_disagree(newcomer):
    a = newcomer.ask("How many days do customers have to return an item?")
    assert a.disagree and "30 days" in a.citations[0].quote
    assert a.citations[0].passage.source == "returns-2024.md"
    assert a.citations[0].dated.startswith("Effective 1 March 2024")
    assert any("14 days" in c.quote for c in a.citations[1:])


def test_the_third_folder_rows_answer_for_their_own_record(tmp_path, real_embedder):
    from eval.newcomer import THIRD, build_library

    r = Retriever.from_folder(build_library(tmp_path / "library"), embedder=real_embedder)
    assert len(THIRD) == 21 and sum(not facts for _, facts in THIRD) == 7
    a = r.ask("When does the library close on Tuesdays?")
    assert a.outcome == "answered" and "Closes: 20:00" in a.citations[0].quote
    for q in ("Where does the chess club meet?", "How much does it cost to hire the main hall?"):
        assert r.ask(q).outcome != "answered", q
