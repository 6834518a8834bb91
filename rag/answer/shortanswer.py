"""The short answer inside a cited sentence, shown only when it is the kind of thing asked for:
the date for "when", the number with its unit for "how many/long/tall", the name for
"who/where", the title for "what is it called"; for other questions none (the sentence is the
answer). A rule on the question's kind and on what the sentence says beyond the question;
offsets are the sentence's, so the span is always exact."""
from __future__ import annotations

import re

from .lexicon import (AMOUNT_WORDS, KIND_WORDS, MONTH, MONTH_WORDS, STOP_WORDS, TITLE_WORDS,
                      WORD, YEAR, light_stem)

_MONTH = MONTH + r"\.?"
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{3,4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+"
    rf"(?:of\s+)?{_MONTH}\s*,?\s+\d{{3,4}}|{_MONTH}\s+\d{{3,4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|"
    rf"th)?|\d{{1,2}}\s+{_MONTH}|(?:the\s+)?\d{{3,4}}s|\d{{3,4}}(?:\s*(?:BC|AD|BCE|CE))?|"
    rf"(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)\s+century)\b")
_NUMBER_WORDS = " ".join(AMOUNT_WORDS)
_QUANTITY = re.compile(
    r"(?:(?:about|around|over|nearly|almost|more than|less than|at least|up to|some)\s+)?"
    rf"(?:[$€£]\s?)?(?:\d[\d,.]*|(?:{_NUMBER_WORDS.replace(' ', '|')})"
    rf"(?:[\s-]+(?:of\s+)?(?:{_NUMBER_WORDS.replace(' ', '|')}))*)\b"
    r"(?:\s*(?:%|percent|per cent))?(?:\s+(?:of\s+)?[A-Za-z]+)?", re.I)
_NAME = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:(?:of|the|de|von|van|du|la|le|del)\s+)*"
                   r"[A-Z][\w'’-]*)*")


def _asking(question: str) -> tuple[str, str]:
    """(kind, the words that ask it): see :func:`question_kind`."""
    q = question.lower()
    if (m := TITLE_WORDS.search(q)) is not None:
        return "title", m.group()
    found = [(m.start(), i, kind, m.group()) for i, (kind, pattern) in enumerate(KIND_WORDS)
             if (m := pattern.search(q)) is not None]
    return min(found)[2:] if found else ("phrase", "")


def question_kind(question: str) -> str:
    """date, quantity, name, title or phrase (see ``KIND_WORDS``)."""
    return _asking(question)[0]


def asked_for(question: str) -> str:
    """What the question asks, as the end of "the sources do not say ...": "when", "how many",
    "how tall", "who", "where", "what it is called"; "" for other questions."""
    kind, words = _asking(question)
    if kind == "date":
        return "when"
    if kind == "title":
        return "what it is called"
    if kind == "name":
        return "where" if words == "where" else "who"
    return words if kind == "quantity" else ""




def _new(span_text: str, asked: set[str]) -> bool:
    """True when the span says something the question does not."""
    words = [light_stem(w) for w in WORD.findall(span_text)]
    return any(w not in asked and w not in STOP_WORDS for w in words)


def _trimmed_names(sentence: str, asked: set[str]):
    """Runs of capitalised words, trimmed of words the question gives and of stop words
    ("Our CEO" -> nothing when the question asks about the CEO): (start, end, words)."""
    for m in _NAME.finditer(sentence):
        words = [(w.start() + m.start(), w.end() + m.start(), w.group())
                 for w in re.finditer(r"\S+", m.group())]
        while words and (light_stem(words[0][2]) in asked or light_stem(words[0][2]) in STOP_WORDS):
            words.pop(0)
        while words and (light_stem(words[-1][2]) in asked or light_stem(words[-1][2]) in STOP_WORDS):
            words.pop()
        if words and not all(w[2].lower().strip(".") in MONTH_WORDS for w in words):
            yield words[0][0], words[-1][1], words


_PLACE_BEFORE = re.compile(r"\b(in|at|on|near|from|to|into|inside|outside)\s+$", re.I)


def _name(question: str, sentence: str, asked: set[str]) -> tuple[int, int] | None:
    """For "where": the first name after "in/at/near..."; otherwise the first name of two words
    or more that the question does not give, else the first single capitalised word that is not
    the sentence's first word."""
    names = list(_trimmed_names(sentence, asked))
    if re.search(r"\bwhere\b", question, re.I):
        places = [(start, end) for start, end, _ in names
                  if _PLACE_BEFORE.search(sentence[max(0, start - 12):start])]
        if not places:
            return None  # a name not after "in/at/near..." is seldom the place asked for
        # Of several places, the one nearest the words the question shares with the sentence
        # ("...in Georgia... and in Hungary, where Soviet troops...": Hungary for the troops).
        shared = [m.start() for m in WORD.finditer(sentence)
                  if light_stem(m.group()) in asked and light_stem(m.group()) not in STOP_WORDS
                  and m.group().lower() != "where"]
        if not shared:
            return places[0]
        return min(places, key=lambda p: min(abs(p[0] - at) for at in shared))
    single = None
    for start, end, words in names:
        if len(words) >= 2:
            return start, end
        if single is None and start > 0:
            single = (start, end)
    return single


# "How long/tall/far/old...": the number must come with a unit of the kind asked for.
_TIME_UNIT = r"(?:second|minute|hour|day|week|month|year|decade|centur(?:y|ie))s?"
_LENGTH_UNIT = (r"(?:millimet(?:er|re)|centimet(?:er|re)|met(?:er|re)|kilomet(?:er|re)|mm|cm|m|"
                r"km|inch(?:es)?|foot|feet|ft|yards?|miles?)s?")
_UNITS = {"long": rf"(?:{_TIME_UNIT}|{_LENGTH_UNIT})", "old": r"years?(?:[\s-]old)?",
          "tall": _LENGTH_UNIT, "high": _LENGTH_UNIT, "far": _LENGTH_UNIT,
          "deep": _LENGTH_UNIT, "wide": _LENGTH_UNIT}
_QUOTED = re.compile(r"[“\"‘]([^”\"’]{2,120})[”\"’]")
# A table column whose name gives the unit of its values: "duration_min: 45", "Height (cm): 180",
# "weight in kg: 3" (a row read with its column names, rag.ingest.loaders.table_blocks).
_ABBREVIATED = {"long": r"mins?|hrs?|secs?|wks?|yrs?|mm|cm|km|ft|m|h|s|d",
                "old": r"yrs?", "tall": r"mm|cm|m|ft", "high": r"mm|cm|m|ft", "far": r"km|m|mi",
                "deep": r"mm|cm|m|ft", "wide": r"mm|cm|m|ft"}


# A year standing alone ("in 1956,", "the end of 1955.") counts nothing; a number of that size
# followed by what it counts ("1500 troops") does. Ordinals ("20th") are no counts either.
_YEAR_LIKE = re.compile(YEAR)
NUMBER = re.compile(r"\d[\d,.]*\d|\d")  # a number written in digits ("1,400", "3.5", "7")
_NOT_COUNTED = frozenset("the a an and or but nor it its he she they we was were is are be been "
                         "to in on at by of for from with as when while after before until "
                         "which that this these those there then".split())


def is_count(sentence: str, start: int, end: int) -> bool:
    """Whether the number ``sentence[start:end]`` can count something: not a year standing
    alone (a year-sized number counts when a word it counts follows) and not an ordinal."""
    if re.match(r"(?:st|nd|rd|th)\b", sentence[end:end + 3]):
        return False
    if not _YEAR_LIKE.fullmatch(sentence[start:end]):
        return True
    after = re.match(r"\s+(?:of\s+)?([a-z][a-z-]*)", sentence[end:])
    return (bool(after) and after.group(1) not in _NOT_COUNTED
            and not after.group(1).endswith("ly"))  # "in 1956 nearly 200...": an adverb


def _counts(sentence: str, start: int, end: int) -> bool:
    """A quantity span whose number (its first) can count (:func:`is_count`)."""
    m = NUMBER.search(sentence, start, end)
    return m is None or is_count(sentence, m.start(), m.end())


def _dimension(question: str) -> str | None:
    """What a "how long/old/tall..." question measures ("long"), else None."""
    m = re.search(r"\bhow (long|old|tall|high|far|deep|wide)\b", question.lower())
    return m.group(1) if m else None


def quantity_unit(question: str) -> str | None:
    """The unit pattern a "how long/old/tall..." question needs (None: any quantity)."""
    dimension = _dimension(question)
    return _UNITS[dimension] if dimension else None


def _column_label(dimension: str) -> re.Pattern:
    """The end of a column name that gives the unit of ``dimension`` ("duration_min: " for
    "long"), searched in a sentence up to a number."""
    unit = rf"(?:{_UNITS[dimension]}|{_ABBREVIATED[dimension]})"
    return re.compile(rf"(?:_|\(|\bin\s){unit}\)?\s*:\s*$", re.I)


# A time measured from an event ("seven decades after it was performed", "two years ago") says
# when, not how long something lasted, unless the question asks that ("how long after...").
# Not "since": "closed for two years since the fire" is how long.
_OFFSET = re.compile(r"\s*(ago|after|afterwards|later|earlier|before)\b", re.I)


def _offset(question: str, rest: str) -> bool:
    """Whether the words after a time quantity (``rest``) make it an offset the question does
    not ask for."""
    m = _OFFSET.match(rest)
    return bool(m) and not re.search(rf"\b{m.group(1)}\b", question, re.I)


def short_span(question: str, sentence: str) -> tuple[int, int] | None:
    """(start, end) in ``sentence`` of the part that answers ``question``, or None. Only a
    span of the kind asked for: a date for "when", a number (with a unit of the kind asked
    for: hours for "how long", metres for "how tall") for "how many/much/long...", a name for
    "who" (for "where": a name after "in/at/near..."), a quoted title or a name for "what is
    it called/what was the title"; nothing for other questions (the sentence is the answer)."""
    asked = {light_stem(w) for w in WORD.findall(question)}
    kind = question_kind(question)
    if kind == "name":
        return _name(question, sentence, asked)
    if kind == "title":
        for m in _QUOTED.finditer(sentence):
            if _new(m.group(1), asked):
                return m.start(1), m.end(1)
        found = _name(question, sentence, asked)
        return found if found is not None and " " in sentence[found[0]:found[1]] else None
    pattern = {"date": _DATE, "quantity": _QUANTITY}.get(kind)
    if pattern is None:
        return None  # a "what/why/how" phrase: no short answer is precise enough
    dimension = _dimension(question) if kind == "quantity" else None
    unit = _UNITS[dimension] if dimension else None
    label = _column_label(dimension) if dimension else None
    for m in pattern.finditer(sentence):
        text = m.group().strip()
        if not text or not _new(text, asked):
            continue
        start = m.start() + (len(m.group()) - len(m.group().lstrip()))
        if kind == "quantity" and not _counts(sentence, start, start + len(text)):
            continue  # "How many people were executed?" is not answered by "1955"
        if unit is None:
            return start, start + len(text)
        after = re.match(rf"[\s-]*(?:of\s+)?{unit}\b", sentence[m.end():], re.I)
        end = m.end() + after.end() if after else start + len(text)
        if dimension == "long" and _offset(question, sentence[end:]):
            continue  # "seven decades after it was performed" is when, not how long
        if re.search(rf"\b{unit}$", text, re.I) or label.search(sentence[:start]):
            return start, start + len(text)
        if after:
            return start, end
    return None


def fits_kind(question: str, text: str, before: str = "", after: str = "") -> bool:
    """Whether ``text`` (a span another reader found, e.g. the learned span head) is of the
    kind ``question`` asks for: the same test :func:`short_span` applies for a date, quantity,
    name or title; a "what/why/how" phrase the rule has no test for passes. ``before``: the
    sentence's text before the span ("...is in " before "Leeds" makes it a place); ``after``:
    the text after it ("seven decades" then " after it was performed" is no "how long")."""
    if _dimension(question) == "long" and _offset(question, after):
        return False
    if question_kind(question) == "phrase":
        return bool(text.strip())
    span = short_span(question, before + text)
    if span is None or span[0] < len(before):
        return False
    # The span must be mostly what the rule would mark in it: not a clause around it.
    return (span[1] - span[0]) >= 0.5 * len(text.strip())


def with_short_answer(answer):
    """``answer`` with the short answer of its first citation marked (``Answer.short``,
    ``Citation.answer_start/answer_end``, document offsets inside the quote), unless it has
    one (the learned reader's span head)."""
    if answer.abstained or not answer.citations or answer.short:
        return answer  # nothing to mark, or the reader's span head marked it
    return mark_short(answer, short_span(answer.question, answer.citations[0].quote))


def mark_short(answer, span: tuple[int, int] | None):
    """``answer`` with ``span`` ((start, end) in its first citation's quote) as its short
    answer; unchanged when there is no span or it is empty."""
    import dataclasses

    if span is None or span[1] <= span[0]:
        return answer
    first = answer.citations[0]
    marked = dataclasses.replace(first, answer_start=first.start + span[0],
                                 answer_end=first.start + span[1])
    return dataclasses.replace(answer, short=first.quote[span[0]:span[1]],
                               citations=(marked, *answer.citations[1:]))
