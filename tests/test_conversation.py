import pytest

from rag.answer.conversation import contextual_query, leans_on_context


@pytest.mark.parametrize("question, leans", [
    ("When did he give it?", True), ("And in 1961?", True), ("What about Poland?", True),
    ("Why?", True), ("Who gave the Secret Speech?", False),
    ("What is the capital of Australia?", False),
])
def test_which_questions_lean_on_earlier_turns(question, leans):
    assert leans_on_context(question) is leans


def test_follow_up_takes_the_turns_it_needs_and_no_more():
    history = ["What is the capital of Australia?", "Who gave the Secret Speech?"]
    assert contextual_query("When did he give it?", history) == \
        "Who gave the Secret Speech? When did he give it?"
    # A chain of follow-ups goes back to the last self-contained question.
    assert contextual_query("And why?", [*history, "When did he give it?"]) == \
        "Who gave the Secret Speech? When did he give it? And why?"
    # A self-contained question is not polluted by old turns.
    assert contextual_query("Where is Moscow?", history) == "Where is Moscow?"
    assert contextual_query("When did he give it?", []) == "When did he give it?"
    # (question, answer) pairs work as history too.
    assert contextual_query("Where?", [("Who spoke?", "Khrushchev [1]")]) == "Who spoke? Where?"
    with pytest.raises(TypeError, match="history turn"):
        contextual_query("Where?", [42])
