"""The one lexicon (rag/answer/lexicon.py): word lists and the small rules built on them."""
import re

import pytest

from rag.answer import lexicon


@pytest.mark.parametrize("sentence, before, expected", [
    ("He ignored it.", "The president spoke.", True),               # a pronoun
    ("The policy was replaced in 2024.", "Our returns policy covers kettles.", True),
    ("This warranty lasts two years.", "Each warranty is registered online.", True),
    ("The kettle broke on Monday.", "Prices rose in March.", False),  # nothing named before
    ("Refunds take fourteen days.", "The refund desk is upstairs.", False),
])
def test_a_sentence_refers_back_by_a_pronoun_or_a_noun_named_before(sentence, before, expected):
    assert lexicon.refers_back(sentence, before) is expected


def test_the_light_stem_strips_common_endings_only_from_long_enough_words():
    assert [lexicon.light_stem(w) for w in ("Speeches", "ruled", "ruling", "bus", "gas", "is")] \
        == ["speech", "rul", "rul", "bus", "gas", "is"]


def test_months_match_names_and_abbreviations_with_their_case():
    month = re.compile(rf"\b{lexicon.MONTH}\b")
    assert month.search("on Feb. 25 1956") and month.search("in September")
    assert not month.search("it may rain")  # the verb is no month


def test_number_words_have_their_values_and_every_amount_word_is_a_count():
    assert lexicon.CARDINALS["forty"] == 40 and lexicon.SCALES["dozens"] == 12
    count = re.compile(lexicon.COUNT_WORDS, re.I)
    for word in lexicon.AMOUNT_WORDS:
        if word != "several":
            assert count.fullmatch(word), word


@pytest.mark.parametrize("question, kinds", [
    ("Who gave the speech, and when?", ["date", "name"]),
    ("How far is the harbour from the station?", ["quantity"]),
    ("Which company built the bridge?", ["name"]),
    ("In which year did it open?", ["date"]),
    ("Why did the tower lean?", []),
])
def test_every_kind_a_question_asks_for_and_the_first_is_its_kind(question, kinds):
    from rag.answer.lexicon import asked_kinds
    from rag.answer.shortanswer import question_kind

    assert asked_kinds(question) == kinds
    # One classifier: a question's kind is the first of what it asks ("which <noun>" asks
    # for a name of some kind, but the short answer rule marks none: a phrase).
    first = question_kind(question)
    assert first in kinds if first != "phrase" else (not kinds or question.startswith("Which"))
