import pytest

from rag.answer.shortanswer import asked_for, question_kind, short_span

SENTENCE = ("Seventy years ago today, on Feb. 25 1956, then-Soviet leader Nikita Khrushchev took "
            "to the podium in Moscow’s Palace of Congresses and spoke for over four hours.")


@pytest.mark.parametrize("question, sentence, expected", [
    ("When was the speech given?", SENTENCE, "Feb. 25 1956"),
    ("Who delivered the Secret Speech?", SENTENCE, "Nikita Khrushchev"),
    ("How long did the address last?", "Khrushchev spoke for over four hours.",
     "over four hours"),
    # a table row whose column name gives the unit
    ("How long does a white filling take?",
     "Row 4: treatment: White filling; price_gbp: 120; duration_min: 45.", "45"),
    ("How tall is Bo?", "Row 2: Name: Bo; Height (cm): 180.", "180"),
    ("Where did Khrushchev speak?", SENTENCE, "Moscow’s Palace of Congresses"),
    ("How many people died?", "It killed hundreds of thousands of people in two years.",
     "hundreds of thousands of people"),
    ("Where were Soviet soldiers sent to restore order?", "Over the rest of 1956, it set off "
     "unrest in Georgia and protest in Poland and most famously in Hungary, where Soviet troops "
     "had to be deployed to restore order.", "Hungary"),
    ("What was the title of the speech?", "He spoke on “The Cult of Personality and its "
     "Consequences.”", "The Cult of Personality and its Consequences."),
    ("How tall is the Pemberton lighthouse?", "The Pemberton lighthouse stands 32 metres tall.",
     "32 metres"),
    ("When is the launch?", "The launch is on 3 May.", "3 May"),
    ("Who is the CEO?", "Our CEO is Jane Doe.", "Jane Doe"),
])
def test_short_answer_is_the_part_that_answers(question, sentence, expected):
    span = short_span(question, sentence)
    assert span is not None and sentence[span[0]:span[1]] == expected


@pytest.mark.parametrize("sentence, expected", [
    ("Some 1500 troops went in 1956.", "Some 1500 troops"),  # year-sized, but it counts troops
    ("The 20th Congress had 1,400 delegates in 1956.", "1,400 delegates"),
    ("In 1956 nearly 200 people were arrested.", "200 people"),
])
def test_a_count_is_not_a_year_or_an_ordinal(sentence, expected):
    span = short_span("How many were there?", sentence)
    assert span is not None and sentence[span[0]:span[1]] == expected


def test_the_heuristic_reads_counts_for_how_many_questions():
    from rag.answer.readers.signals import answer_type

    wanted = answer_type("How many people were executed?")
    # A year standing alone, an ordinal or a frequency is no count; a number of people is.
    for no_count in ("It was commissioned at the end of 1955.", "He spoke at the 20th Congress.",
                     "In 2015 and 2016.", "It is sent every Friday."):
        assert not wanted(no_count), no_count
    assert wanted("Some 1500 troops went.")
    assert wanted("Hundreds of thousands of citizens were killed.")
    assert answer_type("When was it?")("It was in 1956.")  # years still answer "when"
    assert answer_type("How often is it sent?")("It is sent every Friday.")


@pytest.mark.parametrize("question, holds, lacks", [
    # A unit of the kind asked for: a bust's height is not its year.
    ("How tall is the bust?", "It stands 3 metres high.", "It was unveiled in 1969 by 12 men."),
    ("How long did the address last?", "He spoke for over four hours.",
     "He blamed Stalin for the deaths of hundreds of thousands of Soviet citizens."),
    ("How much does a subscription cost?", "It costs $40.", "Our weekly newsletter is free."),
    ("Which year do they compare it to?", "They compare it to the terror of 1937.",
     "They compare it to the terror."),
    ("What century was the port developed in?", "It grew in the 16th century.",
     "It grew slowly."),
    # The kind is the one the question opens with, not a "when" later in it.
    ("How old was Katharina when she married Luther?", "Katharina was 26 years old.",
     "They married in 1525."),
])
def test_the_heuristic_reads_the_kind_asked_for(question, holds, lacks):
    from rag.answer.readers.signals import answer_type

    wanted = answer_type(question)
    assert wanted(holds) and not wanted(lacks)


def test_no_kind_for_what_how_and_why_questions():
    from rag.answer.readers.signals import answer_type

    for question in ("How did Vaudreuil react when Johnson was seen as a threat?",
                     "Which building was it?", "Why did it fail?"):
        assert answer_type(question) is None, question


def test_question_kinds():
    assert [question_kind(q) for q in ("In what year did it end?", "How much did it cost?",
                                       "Whose idea was it?", "Which building was it?")] == \
        ["date", "quantity", "name", "phrase"]


def test_a_question_is_of_the_kind_its_first_question_words_give():
    assert [question_kind(q) for q in (
        "How old was Katharina when she married Luther?", "Who ruled when the war began?",
        "How did Vaudreuil react when Johnson was seen as a threat?",
        "Where did he go when it ended?", "When did it end?",
        "As a result, about how many schools converted?", "What is the bridge called?")] == \
        ["quantity", "name", "phrase", "name", "date", "quantity", "title"]
    assert short_span("How old was Katharina when she married Luther?",
                      "Katharina was 26 years old and Luther was 41.") == (14, 22)  # 26 years


def test_nothing_new_means_no_short_answer():
    assert short_span("Did the speech shock listeners?", "The speech shocked listeners.") is None


@pytest.mark.parametrize("question, sentence", [
    # Not the kind asked for: no short answer rather than a wrong one.
    ("What is Memorial?", "Memorial is a human rights group founded in 1989."),
    ("How long did Khrushchev's address last?", "He held Stalin responsible for the deaths of "
     "hundreds of thousands of Soviet citizens."),
    ("Which city might get its old name Stalingrad back?", "From the 2010s onward, dozens of "
     "Stalin busts have been unveiled, and appeals to change the name of Volgograd grow."),
    ("How tall is the lighthouse?", "It was built in 1874 by 12 masons."),
    ("Where did he speak?", "Khrushchev attacked Stalin and mocked Georgia's leadership."),
    # A year standing alone or an ordinal counts nothing.
    ("How many people were executed during the Great Terror?", "An investigation into the "
     "Great Terror was commissioned by the Central Committee at the end of 1955."),
    ("How many delegates attended?", "Khrushchev spoke at the 20th Congress in 1956, then left."),
])
def test_no_short_answer_when_none_is_of_the_kind_asked(question, sentence):
    assert short_span(question, sentence) is None


def test_a_span_from_elsewhere_is_shown_only_when_it_fits_the_question():
    from rag.answer.shortanswer import fits_kind

    assert fits_kind("When did he speak?", "Feb. 25 1956")
    assert not fits_kind("When did he speak?", "the Palace of Congresses")
    assert not fits_kind("How long did he speak?", "hundreds of thousands of Soviet")
    assert fits_kind("Who gave the speech?", "Nikita Khrushchev")
    assert fits_kind("Why did he speak?", "to reform the Soviet system")  # no test for phrases


def test_a_time_counted_from_an_event_is_when_not_how_long():
    from rag.answer.shortanswer import fits_kind

    # "seven decades after it was performed" dates the speech; it is not how long it lasted
    assert short_span("How long did the concert last?",
                      "It still matters, seven decades after it was performed.") is None
    assert not fits_kind("How long did the concert last?", "seven decades",
                         "It still matters, ", " after it was performed.")
    assert short_span("How long did the concert last?",
                      "The band played for over four hours on the pier.") == (20, 35)
    # "since" counts how long: "closed for two years since the fire"
    assert short_span("How long has the shop been closed?",
                      "The shop has been closed for two years since the fire.") == (29, 38)
    # ... unless the question asks for that very offset
    sentence = "The bridge opened two years after the war."
    assert short_span("How long after the war did the bridge open?", sentence) == (18, 27)
    assert short_span("How long ago was the tower built?", "It was built 300 years ago.") \
        == (13, 22)


def test_what_a_question_asks_for_names_the_fact_an_abstention_lacks():
    assert [asked_for(q) for q in (
        "How many delegates attended the Twentieth Party Congress?", "In which year did he die?",
        "Whom did he meet?", "Where was the museum?", "How tall is the bust?",
        "What was the city called before?", "Why did it fail?")] == \
        ["how many", "when", "who", "where", "how tall", "what it is called", ""]
