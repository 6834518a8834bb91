"""Follow-up questions. A question that leans on the turn before it ("When is it due?", "What is
his extension?", "And in Poland?", "How many are in stock?") is resolved against that turn — its
question's subject and its answer (the short answer, the cited sentence and its document) — into
a question that stands alone: "When is a staff parking permit due?". That is what the reader
reads; the search reads it with the turn before, and the previous answer's documents are
preferred. A question that stands alone ("What is the capital of Australia?") is left as it is.

English question syntax read with closed word classes (rag.answer.lexicon): no parser, no
word of any document."""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from functools import cached_property

from .lexicon import (ATTRIBUTE_NOUNS, AUXILIARIES, CONTINUATIONS, DETERMINERS, DO_AUXILIARIES,
                      DOCUMENT_NOUNS,
                      EXAMPLE_MARKERS, EXAMPLE_REQUESTS, GROUP_PRONOUNS, IRREGULAR_PARTICIPLES,
                      MONTH_WORDS, NOT_NAMES, PARTICLES, PERSON_PRONOUNS, PLACE_ADVERBS,
                      PREPOSITIONS, QUESTION_FRAME_WORDS, REFERRING_WORDS, SPEAKERS, STOP_WORDS,
                      THING_PRONOUNS, TIME_ADJECTIVES, TIME_ADVERBS, TIME_WORDS,
                      WHEN_PREPOSITIONS, WH_MODIFIERS, WH_WORDS, refers_back)
from ..types import Answer, Followup

_WORD = re.compile(r"[\w'’.-]*\w|\S")
MAX_TURNS = 3  # the earlier turns read back, at most


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if re.search(r"\w", w)]


def leans_on_context(question: str) -> bool:
    """True for a question that cannot be understood alone: it refers back with a pronoun or a
    "there/then/instead", continues with "and/what about ...", or has one common word of its
    own at most."""
    words = [w.lower() for w in _words(question)]
    if any(w in REFERRING_WORDS for w in words) or asks_for_examples(question):
        return True
    if CONTINUATIONS.match(question) or _ONE.search(question):
        return True
    if re.search(r"\bnext\W*$", question, re.I):  # "What happened next?" (not "the next step")
        return True
    # The asker ("I", "we", "you") is no subject of their own: "Where can I pay?" has one word.
    content = [w for w in _words(question)
               if w.lower() not in QUESTION_FRAME_WORDS | WH_MODIFIERS | SPEAKERS]
    # "Why?", "How come?": nothing of its own; "Where is Moscow?" names its subject.
    return not content or (len(content) == 1 and not content[0][:1].isupper()
                           and not content[0][:1].isdigit())


# "one(s)" standing for a noun of the turn before ("How do I make one?", "Which one is
# cheaper?", "if I lose one"): not followed by a noun ("one day", "one of the causes").
_ONE = re.compile(r"\bones?\b(?=\s*(?:$|[?.!,;]|(?:%s)\b))" % "|".join(
    sorted((AUXILIARIES | PREPOSITIONS) - {"of"}, key=len, reverse=True)), re.I)


def _is_name(word: str) -> bool:
    if len(word) >= 2 and word.isupper() and word.isalpha():
        return True  # an initialism: "the IT desk" is no "it"
    return (word[:1].isupper() or word[:1].isdigit()) and word.lower() not in NOT_NAMES \
        and word.lower().strip(".") not in MONTH_WORDS


def _strip_det(words: list[str]) -> list[str]:
    return words[1:] if words and words[0].lower() in DETERMINERS else words


class _Parsed:
    """A question read as wh-phrase ("How many"), asked noun ("which *extinguisher*"),
    auxiliary and the rest; its subject (what "it" refers to) and its object."""

    def __init__(self, question: str) -> None:
        m = CONTINUATIONS.match(question)
        self.text = question[m.end():] if m else question
        w = _words(self.text)
        i = 0
        self.wh = w[0].lower() if w and w[0].lower() in WH_WORDS else ""
        if self.wh:
            i = 1
            if i < len(w) and w[i].lower() in WH_MODIFIERS:
                i += 1
        self.head = w[:i]  # "How many"
        asked: list[str] = []
        if self.wh in ("which", "what", "how", "whose"):
            while (i < len(w) and len(asked) < 3
                   and w[i].lower() not in AUXILIARIES | DETERMINERS | PREPOSITIONS
                   | REFERRING_WORDS):
                asked.append(w[i])
                i += 1
        if asked and i < len(w) and w[i].lower() not in AUXILIARIES:
            i -= len(asked)  # "What happened to...": a verb, not an asked noun
            asked = []
        self.asked = asked
        self.aux = w[i].lower() if i < len(w) and w[i].lower() in AUXILIARIES else ""
        if self.aux:
            i += 1
        self.rest = w[i:]
        self.words = w
        # The wh-phrase is the subject ("Who gave...", "What will replace...") when the
        # auxiliary is not followed by one: its verb comes first.
        self.wh_subject = self.aux not in ("do", "does", "did") and (not self.rest or not (
            self.rest[0].lower() in DETERMINERS | REFERRING_WORDS or _is_name(self.rest[0])))

    def tail(self) -> list[str]:
        """From the auxiliary on ("are in stock"), else after the wh-phrase."""
        return ([self.aux] if self.aux else []) + self.rest

    def subject(self) -> list[str]:
        """The noun phrase the question is about: the subject after an inverted auxiliary
        ("How much is *a staff parking permit*", "When does *the CM500* launch"), else the
        object after the verb ("Who gave *the Secret Speech*")."""
        return self._phrases[0]

    def object(self) -> list[str]:
        """The noun phrase after the subject's verb ("When was Stalin honoured with *a
        bust*"); [] when there is none."""
        return self._phrases[1]

    @cached_property
    def _phrases(self) -> tuple[list[str], list[str]]:
        rest = list(self.rest)
        if self.wh_subject:
            found = _noun_phrase(rest)
            if not found and len(rest) >= 2 and rest[1].lower() not in (
                    PREPOSITIONS | PARTICLES | AUXILIARIES | DETERMINERS | REFERRING_WORDS):
                # "Who lends *laptops* to staff?": a bare noun after the verb
                found = _trimmed(list(itertools.takewhile(
                    lambda w: w.lower() not in PREPOSITIONS | REFERRING_WORDS
                    and not _ends_phrase(w.lower(), w, []), rest[1:])))
            return found, []
        out: list[str] = []
        verb = True  # after "do": the word before the one that ends the subject is its verb
        n = len(rest)
        for i, word in enumerate(rest):
            low = word.lower()
            if out and (low in DETERMINERS or low in REFERRING_WORDS) \
                    and out[-1][:1].islower() and out[-1].lower() not in PREPOSITIONS | {"of"}:
                n = i  # a verb and its object: "Putin treat | the last anniversary"
                break
            if (low in PARTICLES and out) or (self.aux in DO_AUXILIARIES and low in PREPOSITIONS):
                n = i  # "the speech set | off unrest", "the Congress decide | about"
                break
            if self.aux not in DO_AUXILIARIES and out and (
                    _PARTICIPLE.search(word) or low in IRREGULAR_PARTICIPLES
                    or (low.endswith("ing") and len(low) >= 5 and (
                        i + 1 == len(rest) or rest[i + 1].lower() in PREPOSITIONS | DETERMINERS))):
                n = i  # "When was Stalin | honoured with a bust", "the Committee | doing during"
                break
            if low in TIME_ADJECTIVES and i + 1 < len(rest) and rest[i + 1].lower() in TIME_WORDS:
                n = i  # "the party discuss | last year"
                break
            if _ends_phrase(low, word, out):
                verb = low not in AUXILIARIES  # "the 2024 update | do": the verb is the "do"
                n = i
                break
            out.append(word)
        if verb and self.aux in DO_AUXILIARIES and len(out) >= 2 and out[-1][:1].islower():
            out.pop()  # "the CM400 coffee maker | cost"
        return _trimmed(out), _noun_phrase(rest[n:])


_PARTICIPLE = re.compile(r"[a-z](?:ed|en|wn)$")


def _ends_phrase(low: str, word: str, out: list[str]) -> bool:
    """Whether ``word`` ends a noun phrase: an auxiliary, a question or time word, a time
    adjunct ("after the Congress", "in 1956")."""
    return (low in AUXILIARIES or low in WH_WORDS or low in TIME_WORDS
            or low in WHEN_PREPOSITIONS
            or bool(out and re.fullmatch(r"\d{4}s?", word) and out[-1].lower() == "in"))


def _trimmed(words: list[str]) -> list[str]:
    """``words`` without a trailing preposition, "last"/"next", or a lone determiner."""
    words = list(words)
    while words and words[-1].lower() in PREPOSITIONS | TIME_ADJECTIVES:
        words.pop()
    return [] if all(w.lower() in DETERMINERS for w in words) else words


def _noun_phrase(words: list[str]) -> list[str]:
    """The first noun phrase of ``words``: from a determiner or a name, past a verb, adverbs
    and a preposition, to the end of the phrase."""
    words = list(words)
    while words and not (words[0].lower() in DETERMINERS or _is_name(words[0])):
        words.pop(0)
    out: list[str] = []
    for word in words:
        if _ends_phrase(word.lower(), word, out) or word.lower() in REFERRING_WORDS - DETERMINERS:
            break
        out.append(word)
    return _trimmed(out)


def _named(answer: Answer | None, question: str, person: bool = False) -> str:
    """What ``answer`` gives for who/where/when/which: its short answer, else the name in its
    cited sentence nearest the question's own words that the question does not already give
    (with ``person``, one that takes no article: "Josef Stalin", not "the Secret Speech")."""
    if answer is None or answer.abstained or not answer.citations:
        return ""
    quote = answer.citations[0].quote
    if answer.short and re.search(r"[^\W\d]", answer.short):
        before = _words(quote[:max(quote.find(answer.short), 0)])[-1:]
        article = bool(before) and before[0].lower() in DETERMINERS  # "the Central Committee"
        return "" if person and article else answer.short
    asked = {_bare(w) for w in _words(question)}
    return _name_run(quote, asked, person)


def _bare(word: str) -> str:
    return re.sub(r"['’]s$", "", word).lower()


def _name_runs(text: str, person: bool) -> list[str]:
    """Every run of names in ``text`` (see :func:`_name_run`), in order."""
    out, rest = [], text
    while (found := _name_run(rest, {_bare(w) for w in _words(" ".join(out))}, person)) \
            and found not in out:
        out.append(found)
    return out


def _name_run(text: str, skip: set[str], person: bool) -> str:
    """The run of names in ``text`` (not its first word; not a column label before ":") with a
    word not among ``skip`` (bare lower-cased words) and a letter, nearest a word of ``skip``
    that is no name ("Memorial" for "Who *spearheaded* ...": "NGOs like Memorial that
    spearheaded"), else the first; punctuation ends a run. With ``person``, a run after an
    article ("the Secret Speech") is no person's name."""
    tokens = _WORD.findall(text)
    runs: list[tuple[int, int, str]] = []  # (first token, last token, the word before)
    before, start = "", None
    for n, token in enumerate([*tokens, "."]):
        if n and n < len(tokens) and re.search(r"\w", token) and _is_name(token):
            if start is None:
                start, det = n, before
        elif start is not None:
            if token != ":":
                runs.append((start, n - 1, det))
            start = None
        if re.search(r"\w", token):
            before = token.lower()
    anchors = [n for n, t in enumerate(tokens) if re.search(r"\w", t) and not _is_name(t)
               and _bare(t) in skip and _bare(t) not in STOP_WORDS | WH_WORDS | AUXILIARIES]
    fit = [(first, last) for first, last, det in runs
           if (not person or det not in DETERMINERS)
           and any(_bare(w) not in skip and re.search(r"[^\W\d]", w)
                   for w in tokens[first:last + 1])]
    if not fit:
        return ""
    if anchors:
        fit.sort(key=lambda r: min(min(abs(a - r[0]), abs(a - r[1])) for a in anchors))
    first, last = fit[0]
    return " ".join(re.sub(r"['’]s$", "", w) for w in tokens[first:last + 1]
                    if re.search(r"\w", w))


def _plural(phrase: str) -> bool:
    """Whether a noun phrase reads as plural: its last word ends in a plural -s."""
    last = phrase.split()[-1].lower() if phrase.split() else ""
    return bool(re.search(r"[^su']s$", last)) and not last[:1].isupper()


def _referents(question: str, answer: Answer | None,
               earlier: dict[str, str] | None = None) -> dict[str, str]:
    """What a follow-up's pronouns may refer to after ``question`` answered by ``answer``
    (``earlier``: what they referred to a turn before, for a person no longer named)."""
    p = _Parsed(question)
    earlier = earlier or {}
    named = _named(answer, question)
    subject, obj = " ".join(p.subject()), " ".join(p.object())
    name = _name_run(p.text, set(), person=True)
    # "Who gave...?", "Who is the CEO?": the answer names the person; "Who is Medinsky?": not
    asks_who = p.wh in ("who", "whom", "whose") and (p.wh_subject or subject != name)
    counted = bool(p.head) and p.head[-1].lower() in ("many", "much")
    if (p.asked and not counted and not p.wh_subject and subject
            and p.asked[-1].lower() in ATTRIBUTE_NOUNS):
        thing = subject  # "What label colour does a foam extinguisher have?": the extinguisher
    elif p.asked and (counted or not p.wh_subject):  # "How many Stalin busts ...": the busts
        thing = " ".join(p.asked)
    elif p.asked:  # "Which museum's closure...": the one the answer names
        asked = " ".join(p.asked)
        thing = (named if named and (len(p.asked) > 1 or any(
            w.lower() in named.lower() for w in p.asked)) else f"{named} {asked}" if named
            else f"the {asked}")
    elif name and subject == name:  # "How did Putin treat *the anniversary*": no person
        thing = obj
    elif subject.lower() in SPEAKERS:
        thing = obj
    else:
        thing = subject
    if obj and _plural(thing) and not _plural(obj):
        thing = obj  # "Where do victims make that comparison?": "it" is the comparison
    # "the (official) title of the speech": "it" is the speech, not its title
    of = re.match(r"(?i)(?:the|a|an|its|his|her|their)\s+(?:\w+\s+)?(\w+)\s+of\s+(.+)$", thing)
    if of and of.group(1).lower() in ATTRIBUTE_NOUNS:
        thing = of.group(2)
    who = _named(answer, question, person=True) if asks_who else ""
    # "Who commissioned it?" answered by "the Central Committee": "it" is then the answer
    body = _named(answer, question) if asks_who and not who else ""
    person = who or (name if name and name != thing else "") or earlier.get("person") \
        or _named(answer, question, person=True)
    # "How often does he speak about him?": "him" beside "he" is another person named before
    others = [n for n in _name_runs(p.text, person=True) if n != person]
    return {"person": person, "other": others[0] if others else "",
            "group": who or body or earlier.get("group") or thing,
            "thing": body or thing or earlier.get("thing") or (
                answer.short if answer and re.search(r"[^\W\d]", answer.short) else ""),
            "place": named if p.wh == "where" else "",
            "time": named if p.wh == "when" else ""}


def _substitute(question: str, ref: dict[str, str]) -> str:
    """``question`` with its pronouns replaced by what they refer to ("" when none was)."""
    changed = False
    subject_pronoun = bool(re.search(r"\b(?:he|she)\b", question, re.I))

    def swap(m: re.Match) -> str:
        nonlocal changed
        word, low = m.group(), m.group().lower()
        kind = ("other" if low in ("him", "her") and subject_pronoun and ref.get("other")
                else "person" if low in PERSON_PRONOUNS else "group" if low in GROUP_PRONOUNS
                else "thing" if low in THING_PRONOUNS else "place" if low == "there"
                else "time" if low == "then" else "")
        target = ref.get(kind, "")
        existential = low == "there" and bool(  # "Is there a fee?", "There are...": no place
            re.search(r"\b(?:is|are|was|were)\s+$", question[:m.start()], re.I)
            or re.match(r"\s+(?:is|are|was|were)\b", question[m.end():], re.I))
        if not target or existential:
            return word
        changed = True
        if low in ("his", "her", "its", "their", "theirs", "hers"):
            return f"{target}’s"
        if low == "there":
            return f"at {target}" if not re.match(r"(?i)(at|in|on|to) ", target) else target
        if low == "then":
            return f"at {target}" if target[:1].isdigit() else target
        return target

    out = re.sub(r"\b(?:he|she|him|his|her|hers|they|them|their|theirs|it|its|there|then)\b",
                 swap, question, flags=re.I)
    one = _ONE.search(out)
    if one and ref.get("thing"):  # "if I lose one" after "Who lends laptops?": a laptop
        out = out[:one.start()] + _one_of(ref["thing"], one.group()) + out[one.end():]
        changed = True
    return out if changed else ""


def _one_of(thing: str, one: str) -> str:
    """What "one" ("ones") stands for when it refers to ``thing``: "a laptop" for "laptops",
    "the CM400" as it is."""
    words = thing.split()
    if one.lower() == "ones" or words[0].lower() in DETERMINERS or not _plural(thing):
        return thing
    last = words[-1]
    # a regular plural only ("laptops", "requests"); "boxes", "policies" stay as they are
    if re.search(r"(?:[sxz]|ch|sh)es$|ies$", last, re.I):
        return thing
    return " ".join(["a", *words[:-1], last[:-1]])


def _elliptical(question: str, previous: str, ref: dict[str, str]) -> str:
    """A fragment ("And in Poland?", "When?", "And how many milk frothers?", "How many are in
    stock?") completed from the question before it (``ref``: what its answer named); "" when
    it is not one."""
    p, before = _Parsed(question), _Parsed(previous)
    if p.wh and not p.aux and not p.rest:  # "When?", "How many milk frothers?"
        # "Who founded it?" + "When?": "When Priya Natarajan founded it?" (the answer is the
        # subject); else the question before's frame after its question word
        named = (ref.get("person") if before.wh in ("who", "whom") else ref.get("thing")) \
            if before.wh_subject and not p.asked else ""
        named = named if len((named or "").split()) <= 5 else ""  # a name, not a clause
        words = p.head + p.asked + ([named] if named else []) + (
            before.tail() if before.aux else before.rest if not before.asked else before.tail())
        return " ".join(words) + "?"
    if p.wh and p.aux and not p.asked and p.wh_subject and before.subject() \
            and p.head and p.head[-1].lower() in ("many", "much"):
        # "How many are in stock?": the thing counted is the one asked about before
        return " ".join(p.head + _strip_det(before.subject()) + p.tail()) + "?"
    if not p.wh and not p.aux and p.rest:  # "And in Poland?", "And since the 2010s?"
        fragment = p.rest
        words = before.words
        first = fragment[0].lower()
        for n, word in enumerate(words):
            low = word.lower()
            same = low == first or (first in WHEN_PREPOSITIONS and low in WHEN_PREPOSITIONS)
            if n and same and first in PREPOSITIONS:
                end = n + 1
                while end < len(words) and words[end].lower() not in PREPOSITIONS | AUXILIARIES:
                    end += 1
                return " ".join(words[:n] + fragment + words[end:]) + "?"
        # "And at home?" after "... abroad?", "And today?" after "... in 2010?": one adverb
        # of place or time for one of its kind (a year in a time phrase)
        for kind in (PLACE_ADVERBS, TIME_ADVERBS):
            if not any(w.lower() in kind for w in fragment):
                continue
            for n, word in enumerate(words):
                if n and word.lower() in kind:
                    return " ".join(words[:n] + fragment + words[n + 1:]) + "?"
                if (n + 1 < len(words) and kind is TIME_ADVERBS and word.lower() in PREPOSITIONS
                        and re.fullmatch(r"\d{4}s?", words[n + 1])):
                    return " ".join(words[:n] + fragment + words[n + 2:]) + "?"
        return f"{previous.rstrip('?')} {' '.join(fragment)}?"
    return ""


def turn_of(turn) -> tuple[str, str, Answer | None]:
    """A history turn as (question, answer text, Answer or None): a question (str), a
    (question, answer) pair, a {"question", "answer"} object or an Answer."""
    if isinstance(turn, str):
        return turn, "", None
    if isinstance(turn, Answer):
        return turn.question, turn.text, turn
    if isinstance(turn, dict) and isinstance(turn.get("question"), str):
        question, answer = turn["question"], turn.get("answer")
    elif isinstance(turn, (tuple, list)) and turn:
        question, answer = str(turn[0]), turn[1] if len(turn) > 1 else None
    else:
        raise TypeError(f"history turn {turn!r}: give questions (str), (question, answer) "
                        "pairs, {'question': ...} objects or Answers")
    if isinstance(answer, Answer):
        return question, answer.text, answer
    return question, str(answer or ""), None


def resolve(question: str, history: Sequence | None,
            answer_of: Callable[[str], Answer] | None = None) -> Followup:
    """``question`` read after the earlier turns ``history`` (oldest first; questions,
    (question, answer) pairs or Answers). A question that stands alone is its own ``resolved``
    and ``query``. One that leans on the turn before (a pronoun, a fragment, "the frother"
    after "milk frothers") is resolved against it: pronouns replaced by what they refer to, a
    fragment completed from the question before; ``query`` (what is searched) is the turn
    before's resolved question and this one; ``focus`` the documents the answer before cites.
    ``answer_of(resolved question)`` answers a turn given without its answer, when a follow-up
    needs it."""
    turns = [(q, a) for q, _, a in map(turn_of, list(history or [])[-MAX_TURNS:])]
    if not turns or not (leans_on_context(question) or _names_again(question, *turns[-1])):
        return _alone(question)
    # The turns before are resolved in order: "How long did he speak?" after "When did he
    # give it?" reads the first turn's answer through the second.
    state: tuple[Followup, Answer | None, dict[str, str]] | None = None
    for q, a in [*turns, (question, None)]:
        if state is None:
            state = (_alone(q), a, {})
            continue
        before, answer, earlier = state
        if not (leans_on_context(q) or _names_again(q, before.resolved, answer)):
            state = (_alone(q), a, {})
            continue
        if answer is None and answer_of is not None:
            answer = answer_of(before.resolved)
        ref = _referents(before.resolved, answer, earlier)
        resolved = (_for_example(q, before.resolved) or _contrast(q, before.resolved)
                    or _substitute(q, ref)
                    or _elliptical(q, before.resolved, ref) or q)
        cited = answer.citations if answer and not answer.abstained else ()
        focus = tuple(dict.fromkeys(c.passage.doc_id for c in cited))
        spans = tuple((c.passage.doc_id, c.start, c.end) for c in cited)
        if asks_for_examples(q):
            spans = tuple(_examples_of(c) for c in cited)
        state = (Followup(question=q, resolved=resolved, query=f"{before.resolved} {resolved}",
                          focus=focus, near=spans if _bare_question(q) else ()), a, ref)
    assert state is not None
    return state[0]


_CONTRAST = re.compile(r"(?i)\s*(?:and|but|what about|how about)?\s*(with|without)"
                       r"(?:\s+(?:it|them|that|one))?\s*[?.!]*\s*")


def _contrast(question: str, before: str) -> str:
    """"And without it?" after "How much is the CM500 with frother?": "How much is the CM500
    without frother?" (and "with" for "without"); "" for any other question."""
    m = _CONTRAST.fullmatch(question)
    if not m:
        return ""
    asked = m.group(1).lower()
    other = re.search(r"\b%s\b" % ("without" if asked == "with" else "with"), before, re.I)
    return f"{before[:other.start()]}{asked}{before[other.end():]}" if other else ""


# "the address", "the price" without "of ...": the attribute of what was asked before.
_BARE_ATTRIBUTE = re.compile(r"\bthe\s+(%s)\b(?!\s+of\b)" % "|".join(ATTRIBUTE_NOUNS), re.I)


def _names_again(question: str, before: str, answer: Answer | None = None) -> bool:
    """Whether ``question`` names again, with "the/this/that", what the turn before (its
    question, and its answer's quote when given) named: the same noun ("the frother" after
    "milk frothers") or the head of a compound ("the book" after "the textbook")."""
    said = before + (f" {answer.citations[0].quote}" if answer and answer.citations else "")
    if refers_back(question, said):
        return True
    nouns = re.findall(r"\b(?:the|this|that|these|those)\s+([a-z][\w-]{3,})", question.lower())
    if answer is not None and answer.citations and any(n in DOCUMENT_NOUNS for n in nouns):
        return True  # "Who sent the notice?": the document the answer before quotes
    if _BARE_ATTRIBUTE.search(question):
        return True  # "What is the address to write to?": the address of what was asked before
    words = {w.lower() for w in _words(said)}
    return any(w != noun and w.endswith(noun) for noun in nouns for w in words)


def asks_for_examples(question: str) -> bool:
    """"Such as?", "Like what?", "For example?": examples of what the answer before named."""
    return bool(EXAMPLE_REQUESTS.match(question))


def _for_example(question: str, before: str) -> str:
    """"Such as?" after "What did the speech leave out?": "What did the speech leave out, for
    example?" ("" for any other question)."""
    if not asks_for_examples(question):
        return ""
    return f"{before.rstrip(' ?.!')}, for example?"


def _examples_of(citation) -> tuple[str, int, int]:
    """Where "Such as?" is answered after ``citation``: in its own quote when that gives
    examples ("crimes (e.g. the famines...)"), else in the sentence after it in its passage
    ("museums ... have been closed down" -> "the State Gulag Museum's closure...")."""
    from ..ingest.segment import split_sentences

    p = citation.passage
    if EXAMPLE_MARKERS.search(citation.quote):
        return p.doc_id, citation.start, citation.end
    after = [(p.start + s, p.start + e) for s, e in split_sentences(p.text)
             if p.start + s >= citation.end]
    return (p.doc_id, *after[0]) if after else (p.doc_id, citation.start, citation.end)


def _bare_question(question: str) -> bool:
    """"Why?", "And when?", "How so?": a question word alone asks about the answer before; so
    does "Such as?" (its examples are most often in the sentence that named them)."""
    if asks_for_examples(question):
        return True
    p = _Parsed(question)
    return bool(p.wh) and not p.asked and not p.aux and all(
        w.lower() in WH_WORDS | WH_MODIFIERS | {"so", "exactly", "else"} for w in p.words)


def _alone(question: str) -> Followup:
    return Followup(question=question, resolved=question, query=question)
