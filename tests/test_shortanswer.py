import pytest

from rag.shortanswer import question_kind, short_span

SENTENCE = ("Seventy years ago today, on Feb. 25 1956, then-Soviet leader Nikita Khrushchev took "
            "to the podium in Moscow’s Palace of Congresses and spoke for over four hours.")


@pytest.mark.parametrize("question, sentence, expected", [
    ("When was the speech given?", SENTENCE, "Feb. 25 1956"),
    ("Who delivered the Secret Speech?", SENTENCE, "Nikita Khrushchev"),
    ("How long did the address last?", "Khrushchev spoke for over four hours.",
     "over four hours"),
    ("Where did Khrushchev speak?", SENTENCE, "Moscow’s Palace of Congresses"),
    ("How many people died?", "It killed hundreds of thousands of people in two years.",
     "hundreds of thousands of people"),
    ("What is Memorial?", "Memorial is a human rights group founded in 1989.",
     "human rights group founded in 1989"),
    ("When is the launch?", "The launch is on 3 May.", "3 May"),
    ("Who is the CEO?", "Our CEO is Jane Doe.", "Jane Doe"),
])
def test_short_answer_is_the_part_that_answers(question, sentence, expected):
    span = short_span(question, sentence)
    assert span is not None and sentence[span[0]:span[1]] == expected


def test_question_kinds():
    assert [question_kind(q) for q in ("In what year did it end?", "How much did it cost?",
                                       "Whose idea was it?", "Which building was it?")] == \
        ["date", "quantity", "name", "phrase"]


def test_nothing_new_means_no_short_answer():
    assert short_span("Did the speech shock listeners?", "The speech shocked listeners.") is None
