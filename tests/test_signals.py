"""The reader's cheap signals (rag/answer/readers/signals.py): the answer-type bonus."""
from rag.answer.readers.signals import TYPE_BONUS, _type_bonus, answer_type


def test_a_who_question_is_answered_by_a_name_or_initialism_not_a_weekday():
    q = "Who do I ask for the server room code?"
    # "Monday" is a date: it does not make the sentence name whom to ask.
    assert _type_bonus(q, "The code changes on the first Monday of every quarter.") == 0.0
    assert _type_bonus(q, "The code changes every January.") == 0.0
    # An initialism names an organisation as well as a capitalised word does.
    assert _type_bonus(q, "Ask the IT desk on extension 214.") == TYPE_BONUS
    assert _type_bonus(q, "Ask Priya on extension 214.") == TYPE_BONUS


def test_a_when_question_is_answered_by_a_weekday():
    assert _type_bonus("When does the code change?",
                       "The code changes on the first Monday of every quarter.") == TYPE_BONUS


def test_a_when_question_is_answered_by_a_time_of_day_or_how_often():
    wanted = answer_type("When is the autoclave tested?")
    assert wanted("The autoclave is tested every morning before the first patient.")
    assert wanted("Fire drills are held twice a year.") and wanted("The logs are read nightly.")
    assert not wanted("Gloves are changed between patients.")
    assert not wanted("The knight sterilised every instrument.")
