"""The chat's example questions come from the index served (its graded eval set, else its own
documents' titles and headings), never from a list in the code; asked as a person clicking them
would, each is answered from the sources with exact citations."""
import pytest

from conftest import SEED_FILE, SEEDS

from rag import HashEmbedder, Retriever, record_feedback
from ui.chat import Chat

HANDBOOK = """Staff handbook

Fire wardens

Each floor has two fire wardens, named on the notice board beside the lifts. They sweep their
floor when the alarm sounds and report to the assembly point in the car park.

Parking

A staff parking permit costs 40 pounds a year and is due by 31 January. Permits are issued by
the facilities desk on the ground floor.
"""


def service_for(folder, tmp_path, embedder=None):
    from ui.service import ChatService

    r = Retriever.from_folder(folder, tmp_path / "idx", embedder=embedder or HashEmbedder())
    return ChatService(folder, tmp_path / "idx", retriever=r, warm=False)


def test_a_folder_is_offered_questions_about_its_own_documents(tmp_path):
    folder = tmp_path / "hr"
    folder.mkdir()
    (folder / "handbook.md").write_text(HANDBOOK)
    (folder / "prices.csv").write_text("product,price\nKettle,30\nToaster,25\n")
    examples = service_for(folder, tmp_path).examples()
    assert examples == ["What do the sources say about “Staff handbook”?",
                        "What do the sources say about “prices”?",
                        "What do the sources say about “Fire wardens”?",
                        "What do the sources say about “Parking”?"]
    seed_words = {"khrushchev", "stalin", "secret", "speech"}
    assert not any(w in q.lower() for q in examples for w in seed_words)


def test_a_graded_eval_set_beside_the_index_gives_the_examples(tmp_path):
    folder = tmp_path / "hr"
    folder.mkdir()
    (folder / "handbook.md").write_text(HANDBOOK)
    service = service_for(folder, tmp_path)
    record_feedback(service.eval_path, {"id": "g1", "question": "How much is a parking permit?",
                                        "answerable": False, "expected": []})
    assert service.examples() == ["How much is a parking permit?"]


@pytest.mark.model
def test_the_seed_examples_are_answered_with_exact_citations(real_embedder, tmp_path):
    service = service_for(SEEDS, tmp_path, real_embedder)
    examples = service.examples()
    assert examples and all("Reckoning With Stalin" in q for q in examples)
    text = SEED_FILE.read_text(encoding="utf-8")
    for question in examples:
        answer = service.retriever.ask(question)
        assert not answer.abstained and answer.citations, question
        for c in answer.citations:
            assert text[c.start:c.end] == c.quote


@pytest.mark.model
def test_chat_follow_up_uses_the_conversation(seed_retriever, tmp_path, monkeypatch):
    from ui.service import ChatService

    service = ChatService(SEEDS, tmp_path / "idx", retriever=seed_retriever)
    seen = []
    real_ask = seed_retriever.ask

    def spy(question, **kwargs):
        answer = real_ask(question, **kwargs)
        seen.append((kwargs.get("history"), answer))
        return answer

    monkeypatch.setattr(seed_retriever, "ask", spy)
    first = Chat(service).respond("Who gave the Secret Speech?", [], 5, "hybrid")
    Chat(service).respond("When did he give it?", first.turns, 5, "hybrid")
    assert seen[1][0] == ["Who gave the Secret Speech?"]
    assert seen[1][1].query.startswith("Who gave the Secret Speech? When did ")
    assert seen[1][1].resolved.endswith("give the Secret Speech?")
    # One chat (as the page has): the follow-up is read against the Answer it showed.
    view = Chat(service)
    first = view.respond("Who gave the Secret Speech?", [], 5, "hybrid")
    view.respond("When did he give it?", first.turns, 5, "hybrid")
    assert seen[-1][0] == [seen[-2][1]]  # the Answer object shown, not asked again
    # A "when" follow-up's short answer, when the answer gate shows one, is a date.
    short = seen[1][1].short
    assert not short or any(ch.isdigit() for ch in short)


def test_a_title_that_is_a_sentence_is_not_offered(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "keeper.txt").write_text("The keeper lit the lamp at dusk every evening.\n\n"
                                       "He kept a log of every ship that passed the point.")
    assert service_for(folder, tmp_path).examples() == []
