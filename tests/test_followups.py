"""Follow-ups over a mixed folder (eval/followups.py): "When is it due?" after the permit's
price, "How many are in stock?" after a product's, "What is his extension?" after a warden, each
read as the question it stands for, and a change of subject left alone."""
import pytest

from eval.followups import CONVERSATIONS, build, is_right
from rag import Retriever, verify_citation

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def folder_retriever(tmp_path_factory, real_embedder):
    return Retriever.from_folder(build(tmp_path_factory.mktemp("followups")),
                                 embedder=real_embedder)


def ask_in_turn(r, turns, history=True):
    earlier, out = [], []
    for question, facts in turns:
        a = r.ask(question, history=earlier if history else None)
        for c in a.citations:
            assert verify_citation(c, r.documents[c.passage.doc_id])
        out.append((a, is_right(a, facts)))
        earlier.append(a)
    return out


@pytest.mark.parametrize("turns", [
    [("How much is a staff parking permit?", ("40 pounds",)), ("When is it due?", ("31 January",))],
    [("How much does the CM400 coffee maker cost?", ("89.99",)),
     ("How many are in stock?", ("42",))],
    [("Who is the fire warden for the first floor?", ("Kofi Mensah",)),
     ("What is his extension?", ("202",))],
    [("Who founded Fernhill Appliances?", ("Priya Natarajan",)), ("When?", ("2011",))],
])
def test_the_follow_up_is_read_as_the_question_it_stands_for(folder_retriever, turns):
    (first, ok1), (follow, ok2) = ask_in_turn(folder_retriever, turns)
    assert ok1 and ok2, (follow.resolved, follow.citations[0].quote if follow.citations else "")
    assert follow.resolved and follow.resolved != follow.question
    assert follow.question == turns[1][0]  # the answer keeps the question as asked


def test_a_bare_follow_up_is_not_answered_by_another_record(folder_retriever):
    # "How many are in stock?" read as asked is surest of some row; the toaster's is the answer
    (_, _), (a, right) = ask_in_turn(folder_retriever, [
        ("What does the toaster cost?", ("29.00",)), ("How many are in stock?", ("stock: 0.",))])
    assert right and a.resolved == "How many toaster are in stock?", a.citations[0].quote


def test_history_given_as_questions_alone_resolves_the_same(folder_retriever):
    a = folder_retriever.ask("When is it due?", history=["How much is a staff parking permit?"])
    assert a.resolved == "When is a staff parking permit due?" and "31 January" in a.citations[0].quote


def test_a_change_of_subject_is_not_bent_to_the_old_one(folder_retriever):
    (_, _), (a, right) = ask_in_turn(folder_retriever, [
        ("Where is the assembly point?", ("car park B",)),
        ("What is the capital of Australia?", ())])
    assert right and a.resolved == "" and a.outcome != "answered"


def test_the_folder_set_is_as_documented():
    assert len(CONVERSATIONS) >= 14 and all(2 <= len(c) <= 3 for c in CONVERSATIONS)


def test_such_as_is_answered_where_the_examples_are(seed_retriever):
    """"Such as?" after an answer whose sentence gives its examples: that sentence, its
    examples the short answer; "Like what?" after one that does not: the sentence after it,
    hedged when the reader is unsure of it."""
    crimes = seed_retriever.ask("Which Stalinist crimes did the speech omit?")
    such = seed_retriever.ask("Such as?", history=[crimes])
    assert such.resolved == "Which Stalinist crimes did the speech omit, for example?"
    assert "famines" in such.citations[0].quote and "famines" in such.short
    museums = seed_retriever.ask("Which museums have been closed in the 2020s?")
    assert "museums" in museums.citations[0].quote
    like = seed_retriever.ask("Like what?", history=[museums])
    assert not like.abstained and "Gulag Museum" in like.citations[0].quote
