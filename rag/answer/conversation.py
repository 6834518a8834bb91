"""Follow-up questions: a question that leans on an earlier turn ("When did he give it?", "And in
1961?") is searched and read together with the turn it leans on; a self-contained one alone."""
from __future__ import annotations

import re
from collections.abc import Sequence

_REFERRING = frozenset("he she it they him her his hers its their theirs them this that these "
                       "those there then latter former".split())
_CONTINUATIONS = re.compile(r"\s*(and|but|also|so|or|what about|how about|and what about|"
                            r"what else|why not|same for)\b", re.I)
_WORD = re.compile(r"[\w'’-]+")
_QUESTION_WORDS = frozenset("what who whom whose when where why how which did does do is are was "
                            "were can could would will should a an the of in on at to for by with "
                            "from and or about".split())


def leans_on_context(question: str) -> bool:
    """True for a question that cannot be understood alone: it refers back with a pronoun or a
    "there/then", continues with "and/what about ...", or has one common word of its own at
    most."""
    words = [w.lower() for w in _WORD.findall(question)]
    if any(w in _REFERRING for w in words):
        return True
    if _CONTINUATIONS.match(question):
        return True
    content = [w for w in _WORD.findall(question) if w.lower() not in _QUESTION_WORDS]
    # "Why?", "How come?": nothing of its own; "Where is Moscow?" names its subject.
    return not content or (len(content) == 1 and not content[0][:1].isupper()
                           and not content[0][:1].isdigit())


def _question_of(turn) -> str:
    if isinstance(turn, str):
        return turn
    if isinstance(turn, (tuple, list)) and turn:
        return str(turn[0])
    q = getattr(turn, "question", None)
    if isinstance(q, str):
        return q
    raise TypeError(f"history turn {turn!r}: give questions (str), (question, answer) pairs or "
                    "Answer objects")


def contextual_query(question: str, history: Sequence | None) -> str:
    """The text to search and read for ``question`` after the earlier turns ``history`` (oldest
    first; questions, (question, answer) pairs or Answers): the question itself when it stands
    alone, else the earlier questions back to the last self-contained one, then the question."""
    if not history or not leans_on_context(question):
        return question
    context: list[str] = []
    for turn in reversed(list(history)[-3:]):
        q = _question_of(turn).strip()
        if not q:
            continue
        context.insert(0, q)
        if not leans_on_context(q):
            break
    return " ".join([*context, question]) if context else question
