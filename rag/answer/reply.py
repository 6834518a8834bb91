"""A written reply read as claims: its sentences (and list items), each with the passages it
cites, in the formats models write them.

Markers: ``[1]``, ``[1][2]``, ``[1, 2]``, ``[1-3]``, ``[Source 1]``, ``(Source [1])``,
``(see [1])``, ``【1】``, ``[^1]``, ``^1``; before or after the full stop. A marker that closes a
paragraph or a list whose other sentences cite nothing covers them all. Bullets, numbers of
numbered lists, headings' hashes, bold and italics are layout, not text; a short line ending
with a colon ("Key points:") introduces what follows and claims nothing. Framing words
("According to the article, ...", "..., as passage 2 notes") say where a fact is, so they are
left out of what the claim states (``Claim.stated``), which the verifier checks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..ingest.segment import split_sentences


@dataclass(frozen=True)
class Claim:
    """One sentence of a reply: its text without markers or layout, the passages it cites,
    and what it states (its text without framing words; the text itself when it has none)."""

    text: str
    markers: tuple[int, ...]
    written: str  # as the model wrote it, its markers in one format ("[1, 2]") before the stop
    stated: str = ""

    @property
    def facts(self) -> str:
        """What the verifier checks: the claim without words that say where it is written."""
        return self.stated or self.text


_RANGE = r"\d{1,3}(?:\s*[-–—]\s*\d{1,3})?"  # "2" or "1-3"
_NUMS = rf"{_RANGE}(?:\s*(?:[,;、]|and)\s*{_RANGE})*"
# What a model calls a passage inside a marker: "[Source 1]", "[Passage 2]", "[Doc 3]".
_WHAT = r"(?:sources?|passages?|refs?\.?|references?|docs?\.?|documents?|citations?|context)"
_MARKER = re.compile(rf"\[\s*(?:{_WHAT}\s*:?\s*#?\s*)?({_NUMS})\s*\]", re.I)
_ONE = r"\[\d{1,3}(?:, \d{1,3})*\]"  # a marker as canonical_markers writes it
_CANONICAL = re.compile(r"\[(\d{1,3}(?:, \d{1,3})*)\]")
_LEADING = re.compile(rf"^\s*(?:{_ONE}\s*)+")
_CJK = re.compile(rf"【\s*(?:{_WHAT}\s*:?\s*)?({_NUMS})\s*】", re.I)
_FOOTNOTE = re.compile(r"\[\^\s*(\d{1,3})\s*\]|(?<![\d^])\^(\d{1,3})\b")
# "(Source [1])", "(see [1], [2])", "(Sources: [1] and [3])", "([1])": the markers alone.
_WRAPPED = re.compile(rf"[ \t]*\(\s*(?:(?:{_WHAT}|see|cf\.?)\s*:?\s*)?"
                      rf"((?:{_ONE}\s*(?:[,;]|and)?\s*)+)\)", re.I)
# Markers written after the sentence's full stop, "... hours.[1] It was": moved before it.
_AFTER_STOP = re.compile(rf"([.!?…]+)([\"”’)]*)[ \t]*((?:{_ONE}[ \t]*)+)(?=\s|$)")
_ITEM = re.compile(r"^\s*(?:[-*•+–]|\d{1,2}[.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1|(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])|"
                       r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_LABEL = re.compile(r"^\s*(?:answer|response|reply|final answer)\s*:\s*", re.I)
_LEAD_IN = re.compile(r"^[^.!?\[]{0,80}:$")

# Framing: where the reply says a fact is written, not the fact ("According to the article,",
# "The sources say that", "As passage 2 notes,", "..., according to the text").
_SOURCE = (r"(?:(?:the\s+)?(?:provided\s+|given\s+|above\s+|cited\s+)?(?:article|text|sources?|"
           r"passages?|context|documents?|excerpts?|information|report|material)(?:\s+\d{1,3})?"
           r"(?:\s+(?:provided|given|above))?|(?:source|passage|document)\s+\d{1,3})")
_VERB = (r"(?:says?|states?|notes?|mentions?|explains?|reports?|shows?|indicates?|describes?|"
         r"writes?)")
_FRAME_HEAD = re.compile(
    rf"^(?:(?:according\s+to|based\s+on|as\s+(?:stated|noted|mentioned|described|reported|"
    rf"explained|written)\s+in|per|from|in)\s+{_SOURCE}\s*[,:]\s*|as\s+{_SOURCE}\s+{_VERB}\s*"
    rf"[,:]\s*|(?:in\s+)?(?:summary|short|brief|conclusion|sum)\s*[,:]\s*|{_SOURCE}\s+{_VERB}"
    rf"\s+(?:that\s+)?)", re.I)
_FRAME_TAIL = re.compile(
    rf"\s*[,;(]?\s*(?:according\s+to|as\s+(?:stated|noted|mentioned|described|reported)\s+"
    rf"(?:in|by)|per|as)\s+{_SOURCE}(?:\s+{_VERB})?\s*\)?(?=\s*[.!?]?\s*$)", re.I)


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for piece in re.split(r"\s*(?:[,;、]|and)\s*", group.strip()):
        bounds = [int(x) for x in re.split(r"\s*[-–—]\s*", piece) if x]
        if not bounds:
            continue
        low, high = bounds[0], bounds[-1]
        for n in range(low, high + 1) if 0 <= high - low <= 20 else (low, high):
            if n not in out:
                out.append(n)
    return out


def canonical_markers(text: str) -> str:
    """``text`` with every marker written as ``[1, 2]``, placed before the full stop that
    ends its sentence."""
    def canon(m: re.Match) -> str:
        ns = _numbers(next(g for g in m.groups() if g))
        return "[" + ", ".join(map(str, ns)) + "]" if ns else m.group(0)

    text = _CJK.sub(canon, text)
    text = _FOOTNOTE.sub(canon, text)
    text = _MARKER.sub(canon, text)
    text = _WRAPPED.sub(lambda m: " " + "".join(f"[{g}]" for g in
                                                _CANONICAL.findall(m.group(1))), text)
    return _AFTER_STOP.sub(lambda m: f" {m.group(3).strip()}{m.group(1)}{m.group(2)}", text)


def _plain(line: str) -> str:
    line = _HEADING.sub("", _ITEM.sub("", line))
    return _EMPHASIS.sub(lambda m: next(g for g in m.groups()[1:] if g is not None), line)


def stated(text: str) -> str:
    """What a claim states: ``text`` without the framing words that say where it is written."""
    out = _FRAME_TAIL.sub("", _FRAME_HEAD.sub("", text, count=1)).strip()
    if not out or not any(c.isalnum() for c in out):
        return text
    return out[0].upper() + out[1:]


def _claim(written: str) -> Claim | None:
    markers: list[int] = []
    for group in _CANONICAL.findall(written):
        for n in _numbers(group):
            if n not in markers:
                markers.append(n)
    text = _LABEL.sub("", _CANONICAL.sub(" ", written))
    text = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", text)).strip()
    if not text or not any(c.isalnum() for c in text):
        return None
    facts = stated(text)
    return Claim(text=text, markers=tuple(markers), written=written,
                 stated=facts if facts != text else "")


def _blocks(reply: str) -> list[list[str]]:
    """The reply's paragraphs and lists, each a list of its lines' text (a list's items
    apart, a paragraph's lines joined); a line of markers alone joins the block before it."""
    blocks: list[list[str]] = []
    kind = ""
    for raw in reply.splitlines():
        if not raw.strip():
            kind = ""
            continue
        item = bool(_ITEM.match(raw))
        line = _plain(raw).strip()
        only_markers = not _CANONICAL.sub("", line).strip(" .,;")
        if blocks and (only_markers or (kind == "para" and not item)):
            blocks[-1][-1] = f"{blocks[-1][-1]} {line}"
            continue
        if item and kind == "list":
            blocks[-1].append(line)
        else:
            blocks.append([line])
        kind = "list" if item else "para"
    return blocks


def split_reply(reply: str) -> list[Claim]:
    """The reply's sentences (a list's items too), each with the passages it cites (markers
    written after the full stop, "... hours. [1]", belong to the sentence before them; a
    marker closing a paragraph or list whose other sentences cite nothing covers them)."""
    claims: list[Claim] = []
    for block in _blocks(canonical_markers(reply.strip())):
        pieces: list[str] = []
        for line in block:
            if _LEAD_IN.match(line) and not _CANONICAL.search(line):
                continue
            spans = split_sentences(line, 0, len(line))
            pieces.extend(line[s:e] for s, e in spans)
        # Markers that open a piece belong to the piece before it.
        for i in range(1, len(pieces)):
            m = _LEADING.match(pieces[i])
            if m:
                pieces[i - 1] = f"{pieces[i - 1]} {m.group(0).strip()}"
                pieces[i] = pieces[i][m.end():]
        found = [c for c in map(_claim, (p.strip() for p in pieces)) if c is not None]
        if len(found) > 1 and found[-1].markers and not any(c.markers for c in found[:-1]):
            found = [Claim(c.text, found[-1].markers, c.written, c.stated) for c in found[:-1]] \
                + found[-1:]
        claims.extend(found)
    return claims
