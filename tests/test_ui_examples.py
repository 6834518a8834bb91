"""The chat's example questions, asked as a person clicking them would: each answer cites the
sentence that holds its answer (the off-topic one abstains)."""
import pytest

from conftest import SEED_FILE

from rag import metrics
from ui.service import EXAMPLES

pytestmark = pytest.mark.model

# Expected evidence of each example: a quote of the seed article.
EVIDENCE = {
    "When did Khrushchev deliver the Secret Speech?": "Seventy years ago today, on Feb. 25 1956",
    "What did Khrushchev attack Stalin for?":
        "attacked his predecessor Josef Stalin for orchestrating state terror",
    "What happened to Stalin's body after the 22nd Party Congress?":
        "remove Stalin’s body from the Red Square mausoleum",
    "How many Stalin busts and statues have been unveiled since the 2010s?":
        "dozens of Stalin busts and statues have been unveiled around Russia",
    "What is the capital of Australia?": None,
}


def test_every_example_is_labelled():
    assert list(EVIDENCE) == EXAMPLES


@pytest.mark.parametrize("question", EXAMPLES)
def test_example_cites_its_evidence(seed_retriever, question):
    answer = seed_retriever.ask(question)
    quote = EVIDENCE[question]
    if quote is None:
        assert answer.abstained
        return
    text = SEED_FILE.read_text(encoding="utf-8")
    start = text.index(quote)
    assert not answer.abstained
    assert any(metrics.covers(c.start, c.end, start, start + len(quote))
               for c in answer.citations), answer.text
    for c in answer.citations:
        assert text[c.start:c.end] == c.quote


def test_chat_follow_up_uses_the_conversation(seed_retriever, tmp_path, monkeypatch):
    from conftest import SEEDS
    from ui.service import ChatService

    service = ChatService(SEEDS, tmp_path / "idx", retriever=seed_retriever)
    seen = []
    real_ask = seed_retriever.ask

    def spy(question, **kwargs):
        answer = real_ask(question, **kwargs)
        seen.append((kwargs.get("history"), answer))
        return answer

    monkeypatch.setattr(seed_retriever, "ask", spy)
    first = service.respond("Who gave the Secret Speech?", [], 5, "hybrid")
    service.respond("When did he give it?", first.turns, 5, "hybrid")
    assert seen[1][0] == ["Who gave the Secret Speech?"]
    assert seen[1][1].query == "Who gave the Secret Speech? When did he give it?"
    # A "when" follow-up's short answer, when the answer gate shows one, is a date.
    short = seen[1][1].short
    assert not short or any(ch.isdigit() for ch in short)
