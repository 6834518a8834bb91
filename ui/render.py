"""HTML for the chat, built only from escaped text: document content can never become markup.
Highlights are placed by character offsets on the raw text, and each piece is escaped on its own."""
from __future__ import annotations

import html
import re

from rag import DISAGREE_LABEL, HEDGE_LABEL, Answer, Citation, DocumentInfo, Hit, Passage



def esc(text: str) -> str:
    return html.escape(text, quote=True)


def location(p: Passage, pages: list[int] | None = None) -> str:
    """Where a passage is: its page(s) (``pages``: those of the sentences cited in it, else the
    passage's first) and its character range."""
    where = f"characters {p.start}–{p.end}"
    pages = sorted(set(pages or ([p.page] if p.page else [])))
    if not pages:
        return where
    label = f"page {pages[0]}" if len(pages) == 1 else f"pages {', '.join(map(str, pages))}"
    return f"{label}, {where}"


def highlighted_passage(p: Passage, spans: list[tuple[int, int, str]]) -> str:
    """The passage with each (start, end, anchor id) span - document offsets inside the passage,
    not overlapping - wrapped in <mark id=anchor>. Every piece of text is escaped on its own."""
    out, pos = [], 0
    for start, end, anchor in sorted(spans):
        a, b = start - p.start, end - p.start
        out.append(f'{esc(p.text[pos:a])}<mark id="{esc(anchor)}">{esc(p.text[a:b])}</mark>')
        pos = b
    out.append(esc(p.text[pos:]))
    return "".join(out)


def cite_data(c: Citation) -> str:
    """The attributes that let the viewer open a citation's document at its quote."""
    page = f' data-page="{c.page}"' if c.page else ""
    return (f'data-doc="{esc(c.passage.doc_id)}" data-start="{c.start}" data-end="{c.end}"'
            f'{page}')


def quote_html(c: Citation) -> str:
    """The quoted sentence, escaped, its short answer (if any) in bold."""
    if c.answer_start is None or c.answer_end is None:
        return esc(c.quote)
    a, b = c.answer_start - c.start, c.answer_end - c.start
    return f"{esc(c.quote[:a])}<b>{esc(c.quote[a:b])}</b>{esc(c.quote[b:])}"


def source_cards(turn: int, citations: tuple[Citation, ...]) -> str:
    """One card per cited passage, its cited sentences highlighted; marker [n] jumps to its mark."""
    by_passage: dict[str, list[Citation]] = {}
    for c in citations:
        by_passage.setdefault(c.passage.id, []).append(c)
    cards = []
    for cites in by_passage.values():
        p = cites[0].passage
        marks = [(c.start, c.end, f"src-{turn}-{c.n}") for c in cites]
        numbers = " ".join(f"[{c.n}]" for c in cites)
        opener = f' <a class="open-doc" href="#" {cite_data(cites[0])}>open</a>'
        cards.append(card("src", f"<b>{numbers}</b> {esc(p.title or p.source)}{opener}", p,
                          highlighted_passage(p, marks), [c.page for c in cites if c.page]))
    return "".join(cards)


def card(css_class: str, head_html: str, p: Passage, body_html: str,
         pages: list[int] | None = None) -> str:
    """A passage box: a heading, its file and location (``pages``: of the cited sentences),
    then the (already escaped) body."""
    return (f'<div class="{css_class}"><div class="src-head">{head_html} '
            f'<span class="src-file">{esc(p.source)} · {esc(location(p, pages))}</span></div>'
            f'<div class="src-text">{body_html}</div></div>')


def closest_card(h: Hit) -> str:
    p = h.passage
    return card("src closest", esc(p.title or p.source), h.passage, esc(p.text))


_MARKER = re.compile(r"\[(\d+)\]")


def written_html(turn: int, a: Answer) -> str:
    """A written answer's text, escaped, each marker [n] a link to its cited sentence."""
    known = {c.n: c for c in a.citations}
    out, pos = [], 0
    for m in _MARKER.finditer(a.text):
        n = int(m.group(1))
        if n not in known:
            continue
        out.append(esc(a.text[pos:m.start()]))
        out.append(f'<a class="cite" href="#src-{turn}-{n}" data-n="{n}" '
                   f'{cite_data(known[n])}>[{n}]</a>')
        pos = m.end()
    out.append(esc(a.text[pos:]))
    return "".join(out)


def dropped_html(a: Answer) -> str:
    """The sentences the LLM wrote that were removed, folded, each with why."""
    if not a.dropped:
        return ""
    items = "".join(f"<li>{esc(d.text)} <small>({esc(d.reason)})</small></li>" for d in a.dropped)
    return (f'<details class="dropped"><summary>removed: not supported by the sources '
            f'({len(a.dropped)})</summary><ul>{items}</ul></details>')


def writing_html(text: str) -> str:
    """An answer as the LLM writes it: escaped, marked as not yet checked."""
    return (f'<div class="msg bot writing"><div class="writing-label">Writing… (checked against '
            f'the sources when done)</div><p>{esc(text)}</p></div>')


def grade_html(a: Answer) -> str:
    """Grade the answer: right (its first citation answers, or, for an abstention, the sources
    do not), wrong (then mark the sentence that answers in the viewer), or not in the sources.
    The chat adds each grade to the eval set kept beside the index (POST /api/v1/feedback)."""
    first = a.citations[0] if a.citations else None
    where = f" {cite_data(first)}" if first is not None else ""
    right = "right" if first is not None else "unanswerable"
    # An abstention marked wrong needs the sentence: the closest passage opens in the viewer.
    hit = a.hits[0].passage if a.hits else None
    near = (f' data-near-doc="{esc(hit.doc_id)}" data-near-start="{hit.start}" '
            f'data-near-end="{hit.end}"') if hit is not None else ""
    return (f'<div class="grade" data-question="{esc(a.question)}"{where}{near}>'
            f'<button class="grade-btn" data-grade="{right}">right</button>'
            f'<button class="grade-btn" data-grade="wrong">wrong: mark the answer</button>'
            f'<button class="grade-btn" data-grade="unanswerable">not in the sources</button>'
            f'<span class="grade-status"></span></div>')


def sureness_html(a: Answer) -> str:
    """How sure the answer is: its outcome and confidence, on every answer."""
    label = {"answered": "Answered", "hedged": "May not answer",
             "abstained": "Not in the sources"}[a.outcome]
    return (f'<div class="sureness {a.outcome}" title="how likely the answer holds what was '
            f'asked">{label} · confidence {a.confidence:.2f}</div>')


def answer_html(turn: int, a: Answer) -> str:
    """One assistant turn: the answer with [n] links to its sources, and the sources below it;
    how sure it is above (a hedged answer is drawn as the closest passages, that may not
    answer)."""
    dropped = dropped_html(a)
    sure = sureness_html(a) + (f'<p class="resolved">Read as: {esc(a.resolved)}</p>'
                               if a.resolved else "")
    if a.abstained:
        closest = "".join(closest_card(h) for h in a.hits[:3])
        return (f'<div class="msg bot abstain">{sure}<p>{esc(a.text)}</p>{dropped}'
                f'<details class="sources" open><summary>Closest passages, for you to judge'
                f'</summary>{closest}</details>{grade_html(a)}</div>')
    if a.generated:
        body = written_html(turn, a)
        by = (f'<div class="by">Written by {esc(a.model)}; every sentence checked against its '
              f'quote</div>')
    else:
        body = " ".join(f'{quote_html(c)} <a class="cite" href="#src-{turn}-{c.n}" '
                        f'data-n="{c.n}" {cite_data(c)}>[{c.n}]</a>'
                        + (f' <span class="dated">({esc(c.dated)})</span>' if c.dated else "")
                        for c in a.citations)
        by = ""
    short = f'<p class="short"><b>{esc(a.short)}</b></p>' if a.short else ""
    hedge = f'<p class="hedge-note">{esc(HEDGE_LABEL)}</p>' if a.hedged else ""
    if a.disagree:
        hedge += f'<p class="disagree-note">{esc(DISAGREE_LABEL)}</p>'

    cards = source_cards(turn, a.citations)
    kind = " hedge" if a.hedged else ""
    return (f'<div class="msg bot{kind}">{sure}{hedge}{short}<p>{body}</p>{by}{dropped}'
            f'<details class="sources" open><summary>Sources ({len(a.citations)})</summary>'
            f'{cards}</details>{grade_html(a)}</div>')


_OPEN = '<details class="sources" open>'
_CLOSED = '<details class="sources">'


def collapse_sources(turns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The conversation with every earlier answer's sources folded: only the newest stays open.
    (Document text is escaped, so the markup searched for can only be ours.)"""
    return [(q, a.replace(_OPEN, _CLOSED)) for q, a in turns]


def documents_html(infos: list[DocumentInfo]) -> str:
    """The indexed documents as a table: title, source, pages, passages, date added."""
    if not infos:
        return "<p>No documents indexed.</p>"
    rows = "".join(
        f"<tr><td>{esc(d.title or '–')}</td><td>{esc(d.source)}</td>"
        f"<td>{d.pages or '–'}</td><td>{d.passages}</td><td>{esc(d.added[:16].replace('T', ' '))}"
        f"</td></tr>" if not d.error else
        f'<tr class="unreadable"><td>(could not be read)</td><td>{esc(d.source)}</td>'
        f'<td colspan="3">{esc(d.error)}</td></tr>' for d in infos)
    return ('<table class="docs"><thead><tr><th>Title</th><th>Source</th><th>Pages</th>'
            f'<th>Passages</th><th>Added (UTC)</th></tr></thead><tbody>{rows}</tbody></table>')


def conversation_html(turns: list[tuple[str, str]]) -> str:
    """The whole chat; ``turns`` holds (question, rendered answer html)."""
    if not turns:
        return ('<div class="chat empty"><p>Ask a question about the documents. Every answer '
                'quotes its sources, and says so when they do not contain the answer.</p></div>')
    body = "".join(f'<div class="msg user"><p>{esc(q)}</p></div>{a}' for q, a in turns)
    return f'<div class="chat">{body}</div>'


def error_html(message: str) -> str:
    return f'<div class="msg bot error"><p>{esc(message)}</p></div>'


def hits_html(hits: tuple[Hit, ...] | list[Hit]) -> str:
    """The full retrieved list with rank and scores."""
    if not hits:
        return "<p>No passages retrieved yet.</p>"
    rows = []
    for h in hits:
        p = h.passage
        dense = "–" if h.dense_score is None else f"{h.dense_score:.3f}"
        bm25 = "–" if h.bm25_score is None else f"{h.bm25_score:.2f}"
        rows.append(card("hit", f"#{h.rank} · score {h.score:.4f} · dense {dense} · "
                         f"BM25 {bm25}<br>", p, esc(p.text)))
    return "".join(rows)


def timings_text(a: Answer) -> str:
    return f"retrieve {a.retrieve_ms:.0f} ms · answer {a.answer_ms:.0f} ms"

