"""The loaders: one small module a file format, each function ``(path, options) -> (text, title,
page starts)``: the document's text as rag indexes and cites it (citations are exact slices of
it), its own title ("" when it has none) and where each page, slide, sheet or chapter starts.
A format is added by writing its module and registering its suffixes here (:func:`register`);
modules are imported only when a file of theirs is read."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...runtime.targets import resolve
from .ocr import IMAGE_SUFFIXES

Loaded = tuple[str, str, tuple[int, ...]]


@dataclass(frozen=True)
class ReadOptions:
    """How files are read: ``html`` "main" (a page's main content) or "all"; ``ocr``: read
    images and scanned PDF pages with Tesseract."""

    html: str = "main"
    ocr: bool = True


# suffix -> "module:function" of this package
REGISTRY: dict[str, str] = {
    ".txt": "text:text_file", ".md": "text:text_file", ".markdown": "text:text_file",
    ".html": "html:html_file", ".htm": "html:html_file",
    ".pdf": "pdf:pdf_file", ".docx": "word:docx_file", ".eml": "mail:mail_file",
    ".pptx": "slides:pptx_text", ".xlsx": "sheets:xlsx_text", ".csv": "sheets:csv_text",
    ".epub": "ebook:epub_text", ".odt": "odt:odt_text", ".rtf": "rtf:rtf_text",
    **{s: "ocr:image_text" for s in IMAGE_SUFFIXES},
}


def register(suffixes: Sequence[str], target: str) -> None:
    """Read files with these suffixes (".ext", any case) with ``target``: "module:function" of
    this package, or "package.module:function" for a module elsewhere."""
    for suffix in suffixes:
        if not suffix.startswith("."):
            raise ValueError(f"suffix {suffix!r}: give it with its dot, e.g. '.txt'")
        REGISTRY[suffix.lower()] = target


def suffixes() -> tuple[str, ...]:
    """Every suffix a loader is registered for."""
    return tuple(REGISTRY)


def read(path: Path, suffix: str, options: ReadOptions = ReadOptions()) -> Loaded:
    """(text, title, page starts) of the file at ``path`` read as a ``suffix`` file; ValueError
    for a type no loader reads."""
    target = REGISTRY.get(suffix.lower())
    if target is None:
        raise ValueError(f"type {suffix or '(none)'} is not read: registered are "
                         f"{', '.join(REGISTRY)}")
    return resolve(target, __package__)(Path(path), options)


def heading(text: str, level: int = 1) -> str:
    """A heading the file marks as one (a Word heading style, a slide title, <h2>), written as
    Markdown ("## Opening hours"): readers then know it titles what follows and never cite it
    alone as an answer."""
    return f"{'#' * max(1, min(level, 6))} {' '.join(text.split())}"


def table_blocks(rows: Sequence[Sequence[str]]) -> list[str]:
    """A table's rows as blocks read with their column names, as sheets are
    (rag.ingest.loaders.sheets.rows_text): "Row 2: Model: CM400; Price: 89.99."."""
    from .sheets import rows_text

    filled = [[c for c in row if c] for row in rows if any(row)]
    if len(filled) == 1:  # no header to read it with: a label and its value, or a list
        cells = filled[0]
        return [(": " if len(cells) == 2 else "; ").join(cells) + "."]
    text = rows_text(rows)
    return text.split("\n\n") if text else []


def join_pages(parts: Sequence[str], sep: str = "\n\n") -> tuple[str, tuple[int, ...]]:
    """The parts (pages, slides, sheets...) joined by ``sep``, and where each starts."""
    starts, pos, kept = [], 0, []
    for part in parts:
        starts.append(pos)
        kept.append(part)
        pos += len(part) + len(sep)
    return sep.join(kept), tuple(starts)
