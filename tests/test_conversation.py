import pytest

from rag.answer.conversation import leans_on_context, resolve
from rag.types import Answer, Citation, Passage


def answered(question: str, quote: str, short: str = "", doc: str = "d1") -> Answer:
    """An answer citing ``quote`` (a whole one-sentence document ``doc``)."""
    p = Passage(id=f"{doc}:0", doc_id=doc, source=f"{doc}.txt", title="", text=quote, start=0,
                end=len(quote))
    return Answer(question=question, text=f"{quote} [1]", abstained=False, short=short,
                  citations=(Citation(n=1, passage=p, start=0, end=len(quote), quote=quote),))


@pytest.mark.parametrize("question, leans", [
    ("When did he give it?", True), ("And in 1961?", True), ("What about Poland?", True),
    ("Why?", True), ("How many are in stock?", True), ("Where should staff park instead?", True),
    ("Who gave the Secret Speech?", False), ("What is the capital of Australia?", False),
    ("How many people does the company employ?", False), ("What happened next?", True),
    ("Which is the next step of the process?", False), ("Who else was there?", True),
    # "one" standing for a noun of the turn before; the asker is no subject
    ("How do I make one?", True), ("Which one is cheaper?", True), ("Where can I pay?", True),
    ("What was one of the causes of the war?", False), ("Is one day enough?", False),
    ("Where can I reset my password?", False),
])
def test_which_questions_lean_on_earlier_turns(question, leans):
    assert leans_on_context(question) is leans


@pytest.mark.parametrize("history, question, resolved", [
    # "it": the subject of the question before; "he": the person its answer names
    ([answered("Who gave the Secret Speech?", "Then-leader Nikita Khrushchev took the podium.",
               short="Nikita Khrushchev")],
     "When did he give it?", "When did Nikita Khrushchev give the Secret Speech?"),
    (["How much is a staff parking permit?"], "When is it due?",
     "When is a staff parking permit due?"),
    # "one": a noun of the question before, a bare plural made one ("a laptop")
    (["Who lends laptops to staff?"], "What should I do if I lose one?",
     "What should I do if I lose a laptop?"),
    (["How much is the CM400?"], "Where can I buy one?", "Where can I buy the CM400?"),
    (["When does the CM500 launch?"], "How much will it cost?", "How much will the CM500 cost?"),
    # a time adjunct ends the subject ("discuss | last year"); "the official title of X": X
    (["What did the Communist Party of the Russian Federation discuss last year?"],
     "Why did it want to do that?",
     "Why did the Communist Party of the Russian Federation want to do that?"),
    (["What was the official title of the Secret Speech?"], "Where was it delivered?",
     "Where was the Secret Speech delivered?"),
    # the person the question names; "it" after a person is the thing they acted on
    (["How did Putin treat the last major anniversary of the speech?"], "Who ignored it?",
     "Who ignored the last major anniversary of the speech?"),
    (["When was Stalin honoured with a bust?"], "Where does it stand?", "Where does a bust stand?"),
    # "his": the one the answer names, not the one the question asks about
    ([answered("Who is the fire warden for the first floor?", "Floor: First; Warden: Kofi Mensah.",
               short="Kofi Mensah")], "What is his extension?",
     "What is Kofi Mensah’s extension?"),
    # an organisation answering "who" ("the Central Committee") is what "it" is
    ([answered("Who commissioned the investigation?", "It was commissioned by the Central "
               "Committee in 1955.", short="Central Committee")],
     "What was it debating?", "What was Central Committee debating?"),
    # fragments completed from the question before
    (["What did the speech set off in Georgia?"], "And in Poland?",
     "What did the speech set off in Poland?"),
    (["How many KT200 kettles are in stock?"], "And how many milk frothers?",
     "how many milk frothers are in stock?"),
    (["How much does the CM400 coffee maker cost?"], "How many are in stock?",
     "How many CM400 coffee maker are in stock?"),
    # an adverb of place or time for one of its kind
    (["What happened to the speech abroad?"], "And at home?",
     "What happened to the speech at home?"),
    (["How many people worked there in 2010?"], "And today?",
     "How many people worked there today?"),
])
def test_a_follow_up_is_resolved_against_the_turn_before(history, question, resolved):
    f = resolve(question, history)
    assert f.resolved == resolved and f.leans
    assert f.query.endswith(resolved) and len(f.query) > len(resolved)


@pytest.mark.parametrize("history, question, resolved", [
    # "it" after a question about an attribute of a thing is the thing
    (["What was the title of the speech?"], "Who gave it?", "Who gave the speech?"),
    # "What colour does X have?": the colour is asked of X, and "it" is X
    (["What label colour does a foam extinguisher have?"], "What can it be used on?",
     "What can a foam extinguisher be used on?"),
    # "And without it?" after "with X": the same question without X
    (["How much is the CM500 with frother?"], "And without it?",
     "How much is the CM500 without frother?"),
    # an initialism is a name, not the pronoun it spells: "their" is the IT desk
    ([answered("Who do I ask for the code?", "Ask the IT desk on extension 214 for the code.")],
     "What is their extension?", "What is IT’s extension?"),
    # "they" after "how many X": the things counted, not the count the answer gives
    ([answered("How many Stalin busts have been unveiled since the 2010s?",
               "Dozens of Stalin busts have been unveiled.", short="Dozens")],
     "Where were they unveiled?", "Where were Stalin busts unveiled?"),
    # a turn with no subject of its own passes on the one before it
    (["What happened to Stalin's body?", "When was that?"], "Is it still there?",
     "Is Stalin's body still there?"),
])
def test_what_a_pronoun_refers_to(history, question, resolved):
    assert resolve(question, history).resolved == resolved


def test_two_people_and_a_role():
    # "him" beside "he" is the other person the question before named
    assert resolve("How often does he speak about him?",
                   ["What does Putin emphasize when he speaks about Stalin?"]).resolved == \
        "How often does Putin speak about Stalin?"
    # "Who was X's predecessor?": the answer names the person; "Who is X?": X is
    before = answered("Who was Khrushchev's predecessor?", "He attacked his predecessor Josef "
                      "Stalin.", short="Josef Stalin")
    assert resolve("What was he blamed for?", [before]).resolved == \
        "What was Josef Stalin blamed for?"
    assert resolve("What did he write?", [answered("Who is Vladimir Medinsky?", "It was "
                   "written by his advisor, Vladimir Medinsky.", short="Vladimir Medinsky")]
                   ).resolved == "What did Vladimir Medinsky write?"


def test_it_agrees_in_number_and_a_subject_ends_before_its_verb():
    # "it" is no plural: the comparison, not the victims
    assert resolve("How does the regime react to it?",
                   ["Where do contemporary victims make that comparison?"]).resolved == \
        "How does the regime react to that comparison?"
    # "doing during" ends the subject; "parking permit" does not
    assert resolve("Was it recorded?", ["What was the committee doing during the congress?"]
                   ).resolved == "Was the committee recorded?"
    assert resolve("When is it due?", ["How much is a staff parking permit?"]).resolved == \
        "When is a staff parking permit due?"


def test_a_bare_question_word_asks_about_the_answer_before():
    before = answered("Why did the party plan to rescind it?", "It claimed the speech was "
                      "distorted.", doc="memo")
    assert resolve("Why?", [before]).near == (("memo", 0, len(before.citations[0].quote)),)
    assert resolve("And when exactly?", [before]).near  # still a bare question word
    assert resolve("Why did it do that?", [before]).near == ()  # a question of its own


def _cited_in(question: str, text: str, quote: str, doc: str = "d1") -> Answer:
    """An answer citing ``quote`` inside a passage holding all of ``text``."""
    p = Passage(id=f"{doc}:0", doc_id=doc, source=f"{doc}.txt", title="", text=text, start=0,
                end=len(text))
    start = text.index(quote)
    return Answer(question=question, text=f"{quote} [1]", abstained=False,
                  citations=(Citation(n=1, passage=p, start=start, end=start + len(quote),
                                      quote=quote),))


@pytest.mark.parametrize("asked", ["Such as?", "Like what?", "And for example?", "Which ones?"])
def test_a_request_for_examples_reads_where_the_examples_are(asked):
    named = "Many museums have been closed down."
    text = f"{named} The Gulag Museum's closure was made permanent. Others were shelved."
    f = resolve(asked, [_cited_in("Which museums have been closed?", text, named)])
    assert f.leans and f.resolved == "Which museums have been closed, for example?"
    # The sentence after the one that named them ...
    nxt = "The Gulag Museum's closure was made permanent."
    assert f.near == (("d1", text.index(nxt), text.index(nxt) + len(nxt)),)
    # ... unless that one gives its examples itself.
    own = "The speech omitted many crimes (e.g. the famines of collectivization)."
    f = resolve(asked, [_cited_in("What did the speech omit?", f"{own} It was long.", own)])
    assert f.near == (("d1", 0, len(own)),)
    assert not leans_on_context("Such as the famines of collectivization?")


def test_turns_are_read_in_order_and_a_new_subject_is_left_alone():
    who = answered("Who founded the company?", "It was founded in 2011 by Priya Natarajan.",
                   short="Priya Natarajan")
    # "they" two turns later is still the founder; "When?" took the question before's verb
    f = resolve("Where did they start it?", [who, "When?"])
    assert f.resolved.startswith("Where did Priya Natarajan start")
    # "When?" after "Who founded...?": the answer is the subject
    assert resolve("When?", [who]).resolved == "When Priya Natarajan founded the company?"
    for question in ("What is the capital of Australia?", "Who won the 2018 World Cup?"):
        f = resolve(question, [who])
        assert f.resolved == f.query == question and not f.leans and f.focus == ()


def test_a_turn_without_its_answer_is_answered_again_when_needed():
    asked = []

    def answer_of(q):
        asked.append(q)
        return answered(q, "Then-leader Nikita Khrushchev took the podium.", doc="speech",
                        short="Nikita Khrushchev")

    f = resolve("When did he give it?", ["Who gave the Secret Speech?"], answer_of)
    assert asked == ["Who gave the Secret Speech?"]
    assert f.resolved == "When did Nikita Khrushchev give the Secret Speech?"
    assert f.focus == ("speech",)  # the documents the answer before cites
    asked.clear()
    resolve("Who won the 2018 World Cup?", ["Who gave the Secret Speech?"], answer_of)
    assert asked == []  # a question that stands alone needs no earlier answer


def test_a_definite_noun_the_turn_before_named_leans_on_it():
    f = resolve("What does the frother cost?", ["And how many milk frothers?"])
    assert f.leans and f.query == "And how many milk frothers? What does the frother cost?"
    # the head of a compound the turn before named: "the book" after "the textbook"
    assert resolve("What does the book lament?", ["Who wrote the history textbook?"]).leans
    assert not resolve("What does the teacher lament?", ["Who wrote the textbook?"]).leans
    # an attribute without its possessor is the attribute of what was asked before
    f = resolve("What is the address to write to?", [answered(
        "What should I do if I lose a laptop?", "Report it by e-mail to it@example.org.")])
    assert f.leans and f.focus == ("d1",)
    assert not resolve("What is the capital of Australia?", ["Who wrote the textbook?"]).leans


def test_history_forms_and_the_query_searched():
    for turn in ("Who gave the Secret Speech?", ("Who gave the Secret Speech?", "Khrushchev [1]"),
                 {"question": "Who gave the Secret Speech?", "answer": "Khrushchev [1]"}):
        assert resolve("Where was it given?", [turn]).query == \
            "Who gave the Secret Speech? Where was the Secret Speech given?"
    assert resolve("When did he give it?", []).query == "When did he give it?"
    with pytest.raises(TypeError, match="history turn"):
        resolve("Where?", [42])


def test_any_turns_resolve_to_a_question_without_error():
    import random

    rng = random.Random(3)  # seeded: the same odd conversations every run
    vocab = ("it he she they there then that this what who when where why how many much is are "
             "was did does the a of in on and also instead Stalin CM400 2019 ? , ' ’s : - 5km "
             "U.S.S.R. (x) [1] 日本").split()

    def words(n):
        return " ".join(rng.choice(vocab) for _ in range(rng.randint(0, n)))

    for _ in range(500):
        history = [words(10) if rng.random() < 0.5 else answered(words(8), words(12) or "x",
                                                                  short=rng.choice(["", "1969"]))
                   for _ in range(rng.randint(1, 4))]
        question = words(10) or "why"
        f = resolve(question, history, lambda q: answered(q, words(12) or "x"))
        assert f.question == question and f.resolved.strip() and f.query.endswith(f.resolved)
