"""Web pages (.html, .htm): the main content (trafilatura: navigation, sidebars, footers and
boilerplate dropped) or every visible text, inline elements kept inline, blocks a line each,
table rows read with their column names; in every visible text, headings marked as such ("##
Opening hours"). (trafilatura's Markdown would mark them in the main content too, but it also
writes emphasis and keeps the page's line wraps inside sentences.)"""
from __future__ import annotations

import re
from pathlib import Path

from . import heading, table_blocks
from .text import read_text


# Elements that make a block of their own; every other element (a, em, span, b, code...) stays
# inside the sentence around it.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html legend li main menu nav ol p "
    "pre section summary table tbody td tfoot th thead tr ul".split())
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg",
              "head", "button", "select", "input", "textarea")


def _html_all_text(soup) -> str:
    """Every visible text of the page: inline elements inline, block elements (and <br>) as line
    breaks, white space collapsed as a browser does (except in <pre>)."""
    from bs4 import NavigableString, Tag
    from bs4.element import Comment, Doctype, ProcessingInstruction

    out: list[str] = []

    def walk(node, pre: bool) -> None:
        for child in node.children:
            if isinstance(child, (Comment, Doctype, ProcessingInstruction)):
                continue
            if isinstance(child, NavigableString):
                text = str(child)
                out.append(text if pre else re.sub(r"\s+", " ", text))
            elif isinstance(child, Tag):
                name = child.name.lower()
                if name == "br":
                    out.append("\n")
                elif name == "table" and not pre:
                    rows = [[" ".join(c.get_text(" ").split()) for c in tr.find_all(("td", "th"))]
                            for tr in child.find_all("tr")]
                    out.append("\n\n" + "\n\n".join(table_blocks(rows)) + "\n\n")
                elif re.fullmatch(r"h[1-6]", name) and not pre:
                    text = " ".join(child.get_text(" ").split())
                    if text:
                        out.append("\n\n" + heading(text, int(name[1])) + "\n\n")
                elif name in ("td", "th"):
                    out.append(" | ")
                    walk(child, pre)
                elif name in _BLOCK_TAGS:
                    out.append("\n\n")
                    walk(child, pre or name == "pre")
                    out.append("\n\n")
                else:
                    walk(child, pre)

    walk(soup, False)
    blocks = re.split(r"\n\s*\n", "".join(out))
    lines = []
    for block in blocks:
        block = "\n".join(re.sub(r"[ \t]+", " ", ln).strip(" |") for ln in block.split("\n"))
        block = block.strip()
        if block:
            lines.append(block)
    return "\n\n".join(lines)


def _html_main_text(raw: str) -> str | None:
    """The main content of a web page (trafilatura: navigation, sidebars, footers and
    boilerplate dropped), one block a line; None when it finds none."""
    import trafilatura

    text = trafilatura.extract(raw, include_comments=False, include_tables=True,
                               include_images=False, favor_recall=True, deduplicate=False)
    return pipe_tables(text).strip() if text and text.strip() else None


def pipe_tables(text: str) -> str:
    """``text`` (trafilatura's) with each pipe table's rows read with their column names
    (rag.ingest.loaders.table_blocks), the separator row dropped; other lines unchanged."""
    out: list[str] = []
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            out.append("\n\n".join(table_blocks(rows)))
            rows.clear()

    for line in text.split("\n"):
        if line.strip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells if c):
                rows.append(cells)
            continue
        flush()
        out.append(line)
    flush()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out))


def _collapse_white_space(soup) -> None:
    """Each run of white space in the page's texts made one space, as a browser shows it
    (not inside <pre> or <textarea>)."""
    from bs4 import NavigableString

    for node in list(soup.find_all(string=True)):
        if type(node) is NavigableString and "\n" in node and not any(
                p.name in ("pre", "textarea") for p in node.parents):
            node.replace_with(re.sub(r"\s+", " ", str(node)))


def page_text(raw: str, html: str = "main") -> tuple[str, str]:
    """(text, title) of a page. ``html="main"``: the main content when one is found (and holds a
    fair share of the page), else everything; ``html="all"``: every visible text."""
    from bs4 import BeautifulSoup  # heavy-ish, loaded on demand

    soup = BeautifulSoup(raw, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if html == "main":
        # A line wrap inside a paragraph is a space in HTML; trafilatura keeps it as a line
        # break, which would end the sentence there.
        _collapse_white_space(soup)
        raw = str(soup)
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    text = _html_all_text(soup)
    if html == "main":
        main = _html_main_text(raw)
        # A short page is its own main content; a main part of a few words is a misreading.
        if main and len(main) >= min(200, 0.5 * len(text)):
            text = main
    return text, title


def html_file(path: Path, options) -> tuple[str, str, tuple[int, ...]]:
    return (*page_text(read_text(path), options.html), ())
