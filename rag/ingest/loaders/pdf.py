"""PDF (pypdf; pages without a text layer through OCR): lines kept, justified spaces squeezed,
running headers, footers and page numbers dropped, words hyphenated at a line end joined; all in
the document's text, so every offset holds."""
from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)


# PDF repairs, made in Document.text itself, so every offset still holds.
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_HYPHEN_BREAK = re.compile(r"(\w+)-\n(\w+)")


def _line_key(line: str) -> str:
    """A line with its digits masked: "Page 3" and "Page 4" are the same footer."""
    return re.sub(r"\d+", "#", line.strip().lower())


def _furniture(pages: list[list[str]]) -> set[str]:
    """Running headers and footers: a first or last line that repeats (digits aside) on most
    pages, or a bare page number."""
    from collections import Counter

    edges = Counter()
    for lines in pages:
        for line in {_line_key(ln) for ln in lines[:2] + lines[-2:]}:
            edges[line] += 1
    repeated = {k for k, n in edges.items() if len(pages) >= 2 and n >= max(2, 0.6 * len(pages))}
    return repeated | {"#", "- # -", "page #", "# of #", "page # of #"}


def _pdf_page_lines(reader, path: Path | None = None,
                    ocr: bool = True) -> list[list[str]]:
    pages = []
    for page in reader.pages:
        lines = [_SPACES.sub(" ", ln).strip() for ln in (page.extract_text() or "").split("\n")]
        pages.append([ln for ln in lines if ln])
    scanned = [i for i, lines in enumerate(pages) if not lines]
    if scanned and ocr and path is not None:
        for i, lines in _ocr_pages(path, scanned):
            pages[i] = lines
    furniture = _furniture(pages)
    out = []
    for lines in pages:
        # Headers and footers go only where they stand: at the top or bottom of a page.
        while lines and _line_key(lines[0]) in furniture:
            lines = lines[1:]
        while lines and _line_key(lines[-1]) in furniture:
            lines = lines[:-1]
        out.append(lines)
    return out


def _ocr_pages(path: Path, pages: list[int]):
    """(page, lines) of the PDF's pages without a text layer, read by OCR (blank lines kept:
    they end paragraphs), with a progress bar and the throughput logged."""
    import time

    from tqdm import tqdm

    from .ocr import pdf_pages_text

    t0 = time.perf_counter()
    bar = tqdm(total=len(pages), desc=f"OCR {path.name}", unit="page", disable=None,
               leave=False)
    for i, text in pdf_pages_text(path, pages):
        bar.update(1)
        yield i, [_SPACES.sub(" ", ln).strip() for ln in text.split("\n")]
    bar.close()
    minutes = (time.perf_counter() - t0) / 60
    log.info("OCR of %s: %d pages, %.1f pages a minute", path.name, len(pages),
             len(pages) / minutes if minutes else 0.0)


def _dehyphenate(text: str) -> str:
    """Join words broken at a line end ("infor-\nmation" -> "information"), unless the document
    writes the word with its hyphen elsewhere ("de-\nStalinization" stays "de-Stalinization")."""
    def join(m: re.Match) -> str:
        head, tail = m.group(1), m.group(2)
        if tail[:1].isupper() or tail[:1].isdigit() or f"{head}-{tail}" in text:
            return f"{head}-{tail}"
        return head + tail

    return _HYPHEN_BREAK.sub(join, text)


def pdf_text(path: Path, ocr: bool = True) -> tuple[str, str, tuple[int, ...]]:
    """(text, title, page starts). Lines are kept (the segmenter joins wrapped lines into
    paragraphs); spaces of justified text are squeezed, running headers, footers and page
    numbers dropped, words hyphenated at a line end joined; pages follow each other with a line
    break, so a sentence that runs over a page stays whole. A page without a text layer (a
    scan) is read by OCR unless ``ocr`` is off."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    page_lines = _pdf_page_lines(reader, path, ocr)
    if not ocr and reader.pages and not any(page_lines):
        raise ValueError("no text layer and OCR is off")
    for lines in page_lines:
        # OCR keeps blank lines between paragraphs; runs of them are one break.
        page_text = _dehyphenate(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n"))
        starts.append(pos)
        parts.append(page_text)
        pos += len(page_text) + 1
    title = ""
    if reader.metadata is not None and reader.metadata.title:
        title = str(reader.metadata.title).strip()
    return "\n".join(parts), title, tuple(starts)


def pdf_file(path: Path, options) -> tuple[str, str, tuple[int, ...]]:
    return pdf_text(path, options.ocr)
