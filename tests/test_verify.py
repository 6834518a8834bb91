"""The sentence verifier's parts (rag/answer/verify.py), without a model."""
import pytest

from rag.answer.verify import (known_names, missing_facts, names, numbers, says_not_found, unmet,
                        split_reply)


def test_replies_split_into_sentences_with_their_markers():
    claims = split_reply("Answer: Khrushchev spoke for four hours [1]. He attacked Stalin. [2][3] "
                         "It shocked listeners [1, 4].")
    assert [c.text for c in claims] == ["Khrushchev spoke for four hours.", "He attacked Stalin.",
                                        "It shocked listeners."]
    assert [c.markers for c in claims] == [(1,), (2, 3), (1, 4)]
    assert claims[1].written == "He attacked Stalin [2][3]."  # its markers in one format
    assert split_reply("Just a sentence with no marker.")[0].markers == ()
    assert split_reply("   ") == []


@pytest.mark.parametrize("text, expected", [
    ("over four hours", {4}), ("4 hours", {4}), ("twenty-two busts", {22}),
    ("the 22nd Congress", {22}), ("in 1956", {1956}), ("the 1950s", {1950}),
    ("1,000 people", {1000}), ("two hundred", {200}), ("three thousand five hundred", {3500}),
    ("the second time", {2}), ("dozens of statues", {12}), ("no number here", set()),
    ("the Twenty-second Congress", {22}), ("1.5 million people", {1_500_000}),
    ("$3bn", {3e9}), ("a 5km walk", {5}), ("20% of them", {20}), ("on 1956-02-25", {25, 1956}),
    # decades and centuries counted in years; an ordinal century is not a count
    ("seven decades after", {70}), ("3 decades", {30}), ("two centuries", {200}),
    ("the 20th century", {20}), ("for decades", set()),
])
def test_numbers_in_digits_and_words(text, expected):
    assert numbers(text) == expected


def test_a_span_of_years_in_decades_is_the_same_fact():
    quote = "The speech continues to matter, seven decades after it was performed."
    assert missing_facts("The speech still matters seventy years later.", quote) == []
    assert missing_facts("The speech still matters sixty years later.", quote) == \
        ["60 is not in its quote"]


def test_names_skip_common_sentence_openers():
    assert names("The speech shocked Khrushchev's listeners in Moscow.") == {"khrushchev",
                                                                            "moscow"}
    assert names("He spoke in February.") == {"february"}
    assert names("He may have added revelations of his own.") == set()  # a verb, no month
    # A first word is a name when the sources know it as one, or it is no common word.
    assert names("Stalin died.", known={"stalin"}) == {"stalin"}
    assert names("Brezhnev spoke.") == {"brezhnev"}
    assert names("Calls to rename Volgograd grew.") == {"volgograd"}


def test_known_names_are_words_never_written_in_lower_case():
    assert known_names(["Lenin’s body lies there. Stalin was moved.", "Calls grew; calls "
                        "rose."]) == {"lenin", "stalin"}


@pytest.mark.parametrize("claim, quote, problem", [
    ("Khrushchev spoke for six hours.", "Khrushchev spoke for over four hours.", "6"),
    ("Khrushchev spoke for four hours in 1961.", "In 1956 Khrushchev spoke for four hours.",
     "1961"),
    ("Brezhnev spoke for four hours.", "Khrushchev spoke for over four hours.", "brezhnev"),
    ("Khrushchev did not attack Stalin.", "Khrushchev attacked Stalin.", "negated"),
    ("Khrushchev never spoke for four hours.", "Khrushchev spoke for over four hours.",
     "negated"),
])
def test_a_changed_fact_is_caught(claim, quote, problem):
    found = missing_facts(claim, quote)
    assert found and any(problem in p.lower() for p in found), found


@pytest.mark.parametrize("claim, quote", [
    ("Khrushchev spoke for 4 hours.", "He took to the podium, Khrushchev spoke for over four "
                                      "hours."),
    ("Stalin's body was taken out of the mausoleum.", "Stalin’s body was removed from the "
                                                      "Mausoleum in 1961."),
    ("Dozens of busts were unveiled.", "Dozens of Stalin busts have been unveiled."),
])
def test_a_restated_fact_passes(claim, quote):
    assert missing_facts(claim, quote) == []


def test_a_positive_restatement_of_a_not_x_but_y_quote_passes():
    # "is not with X but with Y" is restated as "Y": a quote's negation alone is not a change.
    assert missing_facts("Victims compare it with the terror of 1937.", "The analogy is not "
                         "with Soviet repression in general, but with the terror of 1937.") == []
    assert missing_facts("He paid no attention to the anniversary in 2016.",
                         "He ignored the anniversary in 2016.") == []


def test_not_found_replies():
    assert says_not_found("NOT IN THE SOURCES")
    assert says_not_found("The passages do not contain that information.")
    assert not says_not_found("Khrushchev spoke for four hours [1].")


@pytest.mark.parametrize("claim, quote", [
    # dates in other spellings
    ("Khrushchev gave the speech on 25 February 1956.", "On Feb. 25 1956 Khrushchev spoke."),
    ("It was delivered on 1956-02-25.", "On Feb. 25 1956 Khrushchev spoke."),
    ("It opened on February 3.", "It opened on 3 Feb."),
    ("It opened in Sept. 2001.", "It opened in September 2001."),
    # numbers in words on either side, compounds, scales
    ("After the 22nd Congress the monuments went.", "After the Twenty-second Party Congress, "
                                                    "all monuments disappeared."),
    ("The address lasted more than 4 hours.", "He spoke for over four hours."),
    ("It cost 1.5 million dollars.", "It cost $1,500,000."),
    # initialisms with and without dots
    ("In the USSR criticism grew.", "In the U.S.S.R., criticisms grew."),
])
def test_facts_written_another_way_are_the_same_facts(claim, quote):
    assert missing_facts(claim, quote) == []


@pytest.mark.parametrize("claim, quote", [
    ("Putin marked the anniversary with a speech.", "Putin ignored the last anniversary."),
    ("Khrushchev praised Stalin's leadership.", "Khrushchev mocked his leadership."),
    ("The law was repealed in 2015.", "The law came into force in 2015."),
    ("The number of prisoners has fallen.", "The number of prisoners has ballooned."),
    ("Putin has spoken often about Stalin.", "Putin has said little about Stalin."),
])
def test_a_claim_saying_the_opposite_of_its_quote_is_caught(claim, quote):
    found = missing_facts(claim, quote)
    assert any("opposite" in p for p in found), found


def test_a_quote_saying_both_sides_is_no_opposite():
    assert missing_facts("The statues were restored.",
                         "The statues were removed, then restored.") == []


def test_words_that_only_begin_like_an_opposite_are_none():
    # "closest" is no "close", "opening" no "open", "endorsement" no "end", "window" no "win"
    assert missing_facts("His closest advisor wrote the endorsement by the window.",
                         "At the opening, his closest advisor wrote the endorsement by the "
                         "window.") == []


def test_a_quote_negated_where_the_claim_is_not_is_a_contradiction():
    found = missing_facts("The state has officially denied the Great Terror.",
                          "There has never been a state-backed denial of the Great Terror.")
    assert found == ["its quote is negated where it is not"]
    # ... unless the claim denies in other words, or the quote is a "not X but Y" contrast
    assert missing_facts("No audio recording of the speech was found.",
                         "No audio recording of the speech has ever been found.") == []
    assert missing_facts("Nothing Stalin did had damaged the system, Khrushchev said.",
                         "Stalin had not damaged the system, Khrushchev insisted.") == []


def test_a_negated_opposite_restates_its_quote():
    # "did not stay" is "ceased": the negation and the opposite word cancel out
    assert missing_facts("The speech did not stay secret for long.",
                         "The speech soon ceased to be a secret.") == []
    assert missing_facts("The speech stayed secret.", "The speech soon ceased to be a secret.")


def test_a_claim_contradicting_its_closest_sentence_is_not_rescued_by_another():
    from rag import Document, HashEmbedder, Hit, Passage
    from rag.answer.verify import check_claims

    text = ("Putin has said little directly about Stalin. Putin has spoken at events about "
            "Stalin's merits.")
    doc = Document(id="d", text=text, source="d.txt")
    hits = [Hit(rank=1, score=1.0, passage=Passage(id="d:0", doc_id="d", source="d.txt",
                                                   title="", text=text, start=0, end=len(text)))]

    def check(reply):
        return check_claims(split_reply(reply), hits, {"d": doc}, HashEmbedder().encode,
                            threshold=0.3)[0]

    # the second sentence holds its names, but the closest one says the opposite
    _, support, why = check("Putin has often spoken directly about Stalin [1].")
    assert support is None and why.startswith("contradicts its closest sentence")
    _, support, _ = check("Putin has said little directly about Stalin [1].")
    assert support is not None and support.quote == "Putin has said little directly about Stalin."


@pytest.mark.parametrize("question, quote, what", [
    ("Which region did not invent the machine gun?",
     "By the 1880s, the machine gun had become an effective battlefield weapon.", "negated"),
    ("What is usually taken as the best case complexity?",
     "The complexity of an algorithm is usually taken to be its worst-case complexity.",
     "opposite"),
    ("Who wrote later papers on bounded resources?",
     "Earlier papers on bounded resources include Myhill's.", "opposite"),
    ("What was the Six Years War?", "The conflict is known as the Seven Years' War.", "numbers"),
    ("What did Kublai build in 1270?", "Kublai moved the capital in 1264.", "numbers"),
    ("What did Tolstoy write about the war?", "Pushkin wrote about the war.", "names"),
    ("How many parking spaces are in front of the clinic?",
     "There are four spaces behind the clinic.", "opposite"),
    # a weekday is a date: "on Saturday" is not answered by Wednesday's row
    ("Which dentist works on Saturday?", "Row 4: Day: Wednesday; Dentist: Dr Patel.", "numbers"),
    ("When is the clinic open on Sundays?", "It is open on weekdays and on Saturdays.", "numbers"),
])
def test_unmet_names_what_a_question_asks_that_its_quote_cannot_answer(question, quote, what):
    found = unmet(question, quote)
    assert found[what] > 0, found
    assert all(v == 0 for k, v in found.items() if k != what), found


@pytest.mark.parametrize("question, quote", [
    ("When did Washington reach Fort Le Boeuf?",
     "On December 12, Washington and his men reached Fort Le Boeuf."),
    ("Which countries did not sign the treaty?", "Two countries did not sign the treaty."),
    ("What is the worst-case complexity?", "It is usually taken to be its worst-case complexity."),
    ("How long did Khrushchev speak in 1956?", "In 1956 Khrushchev spoke for over four hours."),
    # the weekdays a quote covers: a range, "weekdays", "daily"
    ("Is the showroom open on Wednesdays?", "It is open from 10 am to 6 pm, Tuesday to Saturday."),
    ("Who answers calls on Friday?", "Customer service answers calls on weekdays."),
    ("Is the gym open on Sunday?", "The gym is open daily from 6 am."),
])
def test_unmet_finds_nothing_when_the_quote_can_answer(question, quote):
    assert not any(unmet(question, quote).values())


def test_a_negation_governs_its_own_clause():
    quote = ("Sales in the north rose sharply over the year, and the southern office became "
             "anything but profitable.")
    assert missing_facts("Sales in the north rose sharply.", quote) == []
    assert missing_facts("The southern office became more profitable.", quote) == \
        ["its quote is negated where it is not"]
    # "not X, but Y": Y is what the quote says; X affirmed is a contradiction
    quote = "The comparison is not with the war in general, but specifically with the siege."
    assert missing_facts("The comparison is specifically with the siege.", quote) == []
    assert missing_facts("The comparison is with the war in general, rather than the siege.",
                         quote) == ["its quote is negated where it is not"]


def test_impossible_and_rather_than_deny_what_they_govern():
    quote = "It is impossible to imagine the council approving the plan so quickly."
    assert missing_facts("The council readily approves the plan.", quote) == \
        ["its quote is negated where it is not"]
    assert missing_facts("The council would not approve the plan so quickly.", quote) == []
    quote = "The board prefers to delay the vote, rather than cancelling it outright."
    assert missing_facts("Rather than cancel the vote, the board prefers to delay it.",
                         quote) == []


def test_a_word_negated_by_its_prefix_is_the_opposite_of_its_base():
    quote = "The company was officially established in 1599."
    assert unmet("When was the company unestablished?", quote)["opposite"] == 1.0
    assert unmet("When was the company established?", quote)["opposite"] == 0.0
    assert unmet("What is the official name?", "Its unofficial name is the Blue Line.")[
        "opposite"] == 1.0
    assert missing_facts("The protest was non-violent.", "The protest was violent.") == \
        ["'non-violent': its quote says the opposite"]
    # a prefix that is no negation ("unless", "union"), or the same word on both sides
    assert missing_facts("The union was formed in 1920.", "The union formed in 1920.") == []
    assert unmet("What is the unofficial name?", "Its unofficial name is the Blue Line.")[
        "opposite"] == 0.0
