"""The reader's cheap signals (rag/answer/readers/signals.py): the answer-type bonus, the kind
of answer asked for, names the index holds (accents aside) and lexical coverage."""
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


def test_how_many_times_is_answered_by_how_often():
    wanted = answer_type("How many times can items be renewed?")
    assert wanted("Items can be renewed twice online.") and wanted("It can be renewed once.")
    assert wanted("They may be renewed 3 times.")
    assert not wanted("Items are renewed online.")
    assert not answer_type("How many items can an adult borrow?")("Items can be renewed once.")


def test_a_year_before_1500_answers_when():
    wanted = answer_type("When did Zhenjin die?")
    assert wanted("Kublai named Zhenjin as the Crown Prince, but he died before Kublai in 1285.")
    assert wanted("He died in 1066 without a successor.") and wanted("It was built in the 1190s.")
    assert not wanted("He died without a successor.") and not wanted("It holds 128 books.")


def test_a_name_typed_without_its_accents_is_known_and_matches():
    import numpy as np

    from rag import Passage
    from rag.answer.readers.signals import sentence_signals, unknown_names
    from rag.index.passages import PassageIndex

    texts = ["Tugh Temür founded the Academy of the Pavilion of the Star of Literature.",
             "The Great Wall was repaired."]
    index = PassageIndex([Passage(id=str(i), doc_id="d", source="d", title="", text=t, start=0,
                                  end=len(t)) for i, t in enumerate(texts)],
                         np.zeros((2, 4), np.float32))
    q = "When did Tugh Temur found the academy?"
    assert unknown_names(q, index) == [] and unknown_names("Who is Tugh Timur?", index) == ["Timur"]
    assert index.doc_freq("temur") == index.doc_freq("temür") == 1
    signals = sentence_signals(q, np.zeros(4, np.float32), texts, index,
                               lambda ts: np.zeros((len(ts), 4), np.float32))
    # Every term of the question is in the first sentence, accents aside; none in the second.
    assert signals["lexical"][0] == 1.0 and signals["lexical"][1] == 0.0
