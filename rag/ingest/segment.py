"""Blocks and sentences of a document, as (start, end) spans of its text: nothing is rewritten.

A *block* is a paragraph, a heading, a list item or a table row. Inside a block a line break is
white space: hard-wrapped text (most .txt files, every PDF's extracted text) keeps its sentences
whole. A blank line, a heading, a list item or a table row ends a block; so does every line break
of a text that is not hard-wrapped (one paragraph a line, as web captures and the seed article).
"""
from __future__ import annotations

import re
from functools import lru_cache

# Words after which a period does not end a sentence ("v": a court case, "Brown v. Board";
# "c": circa, "in c. 350 BC").
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st v vs c etc e.g i.e cf al fig figs no nos vol vols approx ca est "
    "dept jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp gen col lt sgt rev ed "
    "eds pp op p para sec ch art gov sen rep pres capt cmdr adm maj messrs mt ft ave blvd "
    "rd".split())

# A sentence ends at . ! ? or … (plus closing quotes/brackets) followed by white space.
_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_LINE = re.compile(r"[^\n]*(?:\n|$)")
# Lines that start a block of their own: Markdown headings, list items, table rows, quotes.
_BLOCK_START = re.compile(r"\s*(#{1,6}\s|[-*+•▪◦‣]\s|\d{1,3}[.)]\s|\(?[a-z]\)\s|\||>\s|"
                          r"[-=_*]{3,}\s*$)")
_TABLE_ROW = re.compile(r"\s*\|")
# A text is hard-wrapped when most of its lines stop near one width, and that width is what
# people and PDF extractors wrap at (up to ~160 columns; a one-paragraph-a-line text has much
# longer lines).
MAX_WRAP_WIDTH = 160
# A line is a wrapped one when the next line's first word would not have fit on it: its length
# plus that word reaches this share of the wrap width (proportional fonts in PDFs vary a little).
_FILL = 0.8


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each line of text[start:end], without its line break."""
    out = []
    pos = start
    while pos <= end:
        nl = text.find("\n", pos, end)
        if nl < 0:
            out.append((pos, end))
            break
        out.append((pos, nl))
        pos = nl + 1
    return out


@lru_cache(maxsize=64)  # str hashes are cached, so a hit costs nothing
def wrap_width(text: str) -> int | None:
    """The column a hard-wrapped text is wrapped at, or None when it is not hard-wrapped."""
    lengths = sorted(len(ln.rstrip()) for ln in text.split("\n") if ln.strip())
    if len(lengths) < 4:
        return None
    width = lengths[int(0.9 * (len(lengths) - 1))]
    if width > MAX_WRAP_WIDTH or width < 20:
        return None
    # Most lines of a wrapped paragraph fill the width; short lines are paragraph ends.
    full = sum(1 for n in lengths if n >= 0.6 * width)
    return width if full >= 0.5 * len(lengths) else None


def _soft_break(text: str, line: tuple[int, int], nxt: tuple[int, int], width: int | None) -> bool:
    """True when the line break between ``line`` and ``nxt`` is only wrapping (white space)."""
    # Whole lines, even when the range being split starts or ends inside one.
    cur = text[text.rfind("\n", 0, line[1]) + 1:line[1]].rstrip()
    nl = text.find("\n", nxt[0])
    following = text[nxt[0]:nl if nl >= 0 else len(text)]
    if not cur.strip() or not following.strip():
        return False  # a blank line ends a block
    if _BLOCK_START.match(following) or _BLOCK_START.match(cur) and cur.lstrip()[:1] in "#|":
        return False
    if _TABLE_ROW.match(cur) or re.fullmatch(r"\s*[-=_*]{3,}\s*", cur):
        return False
    if width is None:
        return False
    first_word = following.split()[0]
    if len(cur) >= 0.5 * width and (cur.endswith(("-", ",")) or first_word[:1].islower()):
        return True  # a sentence goes on; short lines ("Continue") are blocks of their own
    return len(cur) + 1 + len(first_word) >= _FILL * width


def split_blocks(text: str, start: int = 0, end: int | None = None,
                 width: int | None | bool = False) -> list[tuple[int, int]]:
    """Block spans of ``text[start:end]``, trimmed of white space. ``width`` is the wrap width
    (None: not wrapped); by default it is measured on the whole text."""
    end = len(text) if end is None else end
    if width is False:
        width = wrap_width(text)
    lines = _lines(text, start, end)
    blocks: list[tuple[int, int]] = []
    b_start = lines[0][0] if lines else start
    for line, nxt in zip(lines, lines[1:]):
        if not _soft_break(text, line, nxt, width):
            blocks.append((b_start, line[1]))
            b_start = nxt[0]
    if lines:
        blocks.append((b_start, lines[-1][1]))
    out = []
    for s, e in blocks:
        s, e = _trim(text, s, e)
        if e > s:
            out.append((s, e))
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at ``dot`` closes an abbreviation, an initial ("J. Smith") or a
    dotted acronym ("U.S.")."""
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    raw = text[word_start:dot].lstrip("(\"'“‘[")
    word = raw.lower()
    if word in ABBREVIATIONS:
        return True
    if len(raw) == 1 and raw.isupper():  # an initial: "J. Smith"
        return True
    return bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))  # u.s, e.g, a.m


def _sentences_in_block(text: str, b_start: int, b_end: int) -> list[tuple[int, int]]:
    spans = []
    s = b_start
    depth = 0  # open brackets: a sentence does not end inside "(... e.g. four hours)"
    last = b_start
    for m in _END.finditer(text, b_start, b_end):
        seg = text[last:m.start()]
        depth = max(0, depth + seg.count("(") - seg.count(")"))
        last = m.start()
        dot = m.start()
        nxt = m.end()
        while nxt < b_end and text[nxt].isspace():
            nxt += 1
        if nxt >= b_end:
            break
        if text[dot] == "." and _is_abbreviation(text, dot):
            continue
        if text[nxt].islower() or text[nxt] in ",;:)":
            continue  # "e.g. the famines" - a lowercase continuation is not a new sentence
        if depth > 0 and ")" not in m.group():
            continue
        spans.append((s, m.end()))
        s = m.end()
    spans.append((s, b_end))
    return spans


def split_sentences(text: str, start: int = 0, end: int | None = None,
                    width: int | None | bool = False) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of ``text[start:end]``, trimmed of white space. A sentence
    never crosses a block (paragraph, heading, list item, table row), and a line break inside a
    hard-wrapped paragraph does not end one. Abbreviations, initials, decimals and closing
    quotes or brackets are kept inside their sentence."""
    out = []
    for b_start, b_end in split_blocks(text, start, end, width):
        for s, e in _sentences_in_block(text, b_start, b_end):
            s, e = _trim(text, s, e)
            if e > s:
                out.append((s, e))
    return out
