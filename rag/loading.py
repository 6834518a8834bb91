"""Read a folder of documents, recursively: text, Markdown, web pages, PDF (scanned pages through
OCR), Word, and through rag/loaders/ slides, spreadsheets, CSV, e-books, OpenDocument, RTF,
e-mail (attachments included) and images (OCR)."""
from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from .errors import ConfigError
from .loaders.ocr import IMAGE_SUFFIXES
from .types import Document

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".pptx", ".xlsx",
            ".csv", ".epub", ".odt", ".rtf", ".eml", *IMAGE_SUFFIXES)


def doc_id_for(source: str, text: str) -> str:
    """Stable id: a hash of the source path and the content (same file, same id)."""
    return hashlib.sha256(f"{source}\0{text}".encode("utf-8")).hexdigest()[:16]


def _first_line_title(text: str) -> str:
    """The first line that reads like a title: two words or more and not an exclamation (web
    captures often open with a banner such as "Support us!"); else the first line with letters."""
    lines = [ln.strip().lstrip("#").strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if len(ln) >= 3 and any(c.isalpha() for c in ln)]
    for line in lines:
        if len(line.split()) >= 2 and not line.endswith("!"):
            return line[:200]
    return lines[0][:200] if lines else ""


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

    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    text = trafilatura.extract(raw, include_comments=False, include_tables=True,
                               include_images=False, favor_recall=True, deduplicate=False)
    return text.strip() if text and text.strip() else None


def _html_text(raw: str, html: str = "main") -> tuple[str, str]:
    """(text, title) of a page. ``html="main"``: the main content when one is found (and holds a
    fair share of the page), else everything; ``html="all"``: every visible text."""
    from bs4 import BeautifulSoup  # heavy-ish, loaded on demand

    soup = BeautifulSoup(raw, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    text = _html_all_text(soup)
    if html == "main":
        main = _html_main_text(raw)
        # A short page is its own main content; a main part of a few words is a misreading.
        if main and len(main) >= min(200, 0.5 * len(text)):
            text = main
    return text, title


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

    from .loaders.ocr import pdf_pages_text

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


# Titles that tools write when the author gave none: they say nothing of the document.
_PLACEHOLDER_TITLE = re.compile(
    r"^\s*(?:enscript output|untitled\b.*|microsoft (?:word|powerpoint|excel) - .*"
    r"|(?:document|presentation|book|slide|print)\s*\d*|.*\.(?:pdf|docx?|txt|rtf|odt|pptx?"
    r"|xlsx?|html?|ps)|[\W\d_]*)\s*$", re.IGNORECASE)
# Read by OCR, or possibly (a PDF's scanned pages): kept whatever the read took.
_ALWAYS_KEPT = (".pdf", *IMAGE_SUFFIXES)
# Tables: a title from the data's first row would pin every row to its first product.
_TITLED_BY_NAME = (".csv", ".xlsx")


def _pdf_text(path: Path, ocr: bool = True) -> tuple[str, str, tuple[int, ...]]:
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
    if _PLACEHOLDER_TITLE.match(title):  # a producer's default: the first heading or line
        title = ""
    return "\n".join(parts), title, tuple(starts)


def _docx_text(path: Path) -> tuple[str, str]:
    """(text, title) of a Word file: paragraphs and table rows in document order, a block each;
    the title from the file's properties, else its first heading."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    d = docx.Document(str(path))
    blocks: list[str] = []
    heading = ""
    for item in d.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            style = (item.style.name if item.style is not None else "") or ""
            if text and not heading and style.lower().startswith(("title", "heading")):
                heading = text
            if text:
                blocks.append(text)
        elif isinstance(item, Table):
            for row in item.rows:
                cells = []
                for cell in row.cells:
                    t = " ".join(cell.text.split())
                    if t and (not cells or cells[-1] != t):  # merged cells repeat
                        cells.append(t)
                if cells:
                    blocks.append("| " + " | ".join(cells) + " |")
    title = (d.core_properties.title or "").strip() or heading
    return "\n\n".join(blocks), title


# The formats of rag/loaders/: suffix -> (module, function), imported when a file needs it.
_LOADERS = {".pptx": ("slides", "pptx_text"), ".xlsx": ("sheets", "xlsx_text"),
            ".csv": ("sheets", "csv_text"), ".epub": ("ebook", "epub_text"),
            ".odt": ("odt", "odt_text"), ".rtf": ("rtf", "rtf_text"),
            **{s: ("ocr", "image_text") for s in IMAGE_SUFFIXES}}


def _loaded(path: Path, suffix: str, html: str, ocr: bool) -> tuple[str, str, tuple[int, ...]]:
    """(text, title, page starts) of one file by its type."""
    import importlib

    if suffix == ".pdf":
        return _pdf_text(path, ocr)
    if suffix == ".docx":
        return (*_docx_text(path), ())
    if suffix == ".eml":
        from .loaders.mail import parse

        text, subject, _ = parse(path)
        return text, subject, ()
    if suffix in _LOADERS:
        module, function = _LOADERS[suffix]
        if module == "ocr" and not ocr:
            raise ValueError("an image, and OCR is off")
        return getattr(importlib.import_module(f".loaders.{module}", __package__), function)(path)
    raw = path.read_bytes().decode("utf-8")  # UnicodeDecodeError is a ValueError
    if "\x00" in raw:  # valid UTF-8 but binary: text files hold no NUL
        raise ValueError("binary data, not text")
    if suffix in (".html", ".htm"):
        return (*_html_text(raw, html), ())
    return raw, "", ()


def load_file(path: Path, source: str, html: str = "main", ocr: bool = True,
              suffix: str | None = None) -> Document:
    """Read one file into a Document. Raises OSError/ValueError (or the parser's error) when it
    cannot be read. ``html``: "main" keeps a web page's main content, "all" every text;
    ``ocr``: read scanned PDF pages and images with Tesseract; ``suffix``: the type to read it
    as (default: the path's own, e.g. an upload kept under a temporary name)."""
    suffix = (suffix or Path(path).suffix).lower()
    return _document(source, *_loaded(Path(path), suffix, html, ocr), suffix)


def _document(source: str, text: str, title: str, page_starts: tuple[int, ...],
              suffix: str = "") -> Document:
    """A Document; without a title of its own, a table is titled by its file name, anything
    else by its first heading or line, else its file name."""
    if not text.strip():
        raise ValueError("no text in it")
    name = Path(source).name
    if not title:
        title = (Path(name).stem if suffix in _TITLED_BY_NAME else
                 _first_line_title(text) or name)
    return Document(id=doc_id_for(source, text), text=text, title=title, source=source,
                    page_starts=page_starts)


class CachedFailure(ValueError):
    """A file that could not be read before, and has not changed since (already reported)."""


def _parts(path: Path, suffix: str, html: str, ocr: bool) -> list[tuple[str, str, str, tuple]]:
    """(name, text, title, page starts) of each document of one file: itself ("") and, for an
    e-mail, each attachment of a type rag reads (an unreadable one is skipped with a
    warning)."""
    import tempfile

    if suffix != ".eml":
        return [("", *_loaded(path, suffix, html, ocr))]
    from .loaders.mail import parse

    text, subject, attachments = parse(path)  # the mail read once, attachments too
    out = [("", text, subject, ())]
    for name, payload in attachments:
        kind = Path(name).suffix.lower()
        if kind not in SUFFIXES or kind == ".eml":
            continue
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / f"attachment{kind}"
            file.write_bytes(payload)
            try:
                text, title, starts = _loaded(file, kind, html, ocr)
                _document(name, text, title, starts)  # refuses an empty one
                out.append((name, text, title, starts))
            except Exception as e:  # noqa: BLE001 - a bad attachment never costs the mail
                log.warning("skipped %s attachment %s: %s", path.name, name, e)
    return out


def load_documents(path: Path, source: str, html: str = "main", ocr: bool = True,
                   cache=None, suffix: str | None = None) -> list[Document]:
    """The documents of one file: itself, and for an e-mail each attachment of a type rag
    reads, cited as ``source/attachment-name``. ``cache`` (a :class:`rag.extracted.
    ExtractionCache`) keeps what a costly read gave, and a failure, by the file's content: a
    failure read from it raises :class:`CachedFailure`. ``suffix``: the type to read it as."""
    import time

    from .extracted import COSTLY_SECONDS, Extracted, file_digest
    from .loaders.ocr import OcrUnavailable

    path = Path(path)
    suffix = (suffix or path.suffix).lower()
    key = None
    if cache is not None:
        key = cache.key(file_digest(path), suffix, html, ocr)
        hit = cache.get(key)
        if hit is not None and hit.error:
            raise CachedFailure(hit.error)
        if hit is not None:
            return [_document(f"{source}/{n}" if n else source, t, ti, s,
                              Path(n).suffix.lower() if n else suffix)
                    for n, t, ti, s in hit.parts]
    t0 = time.perf_counter()
    try:
        parts = _parts(path, suffix, html, ocr)
        docs = [_document(f"{source}/{n}" if n else source, t, ti, s,
                          Path(n).suffix.lower() if n else suffix) for n, t, ti, s in parts]
    except OcrUnavailable:  # may be installed later: not kept
        raise
    except Exception as e:
        if key is not None:
            cache.put(key, Extracted(error=(str(e) or type(e).__name__)[:300]))
        raise
    if key is not None and (suffix in _ALWAYS_KEPT or time.perf_counter() - t0 > COSTLY_SECONDS):
        cache.put(key, Extracted(tuple(parts)))
    return docs


def list_files(folder: str | Path,
               unsupported: list[str] | None = None) -> list[tuple[Path, str]]:
    """(path, source) of every supported file under ``folder``, sorted by source; the sources
    of other (not hidden) files are appended to ``unsupported`` when given."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"folder {str(folder)!r} does not exist or is not a folder: "
                          f"give a folder of {'/'.join(SUFFIXES)} files")
    files = []
    for p in root.rglob("*"):
        if not p.is_file() or any(part.startswith(".")
                                  for part in p.relative_to(root).parts):
            continue
        if p.suffix.lower() in SUFFIXES:
            files.append((p, p.relative_to(root).as_posix()))
        elif unsupported is not None:
            unsupported.append(p.relative_to(root).as_posix())
    return sorted(files, key=lambda f: f[1])


def load_folder(folder: str | Path, html: str = "main", ocr: bool = True,
                reasons: dict[str, str] | None = None,
                cache=None) -> tuple[list[Document], list[str]]:
    """Load every supported file under ``folder``. Returns (documents, skipped sources); a file
    that cannot be read or decoded is skipped with a warning naming it. ``reasons``, when
    given, gets why each file gave no document ("no text layer and OCR is off",
    "unsupported type"). ``cache``: see :func:`load_documents` (a file that failed before and
    has not changed is not warned about again)."""
    docs: list[Document] = []
    skipped: list[str] = []
    unsupported: list[str] = []
    for path, source in list_files(folder, unsupported):
        try:
            docs += load_documents(path, source, html, ocr, cache)
        except Exception as e:  # noqa: BLE001 - any unreadable file is skipped, never fatal
            (log.debug if isinstance(e, CachedFailure) else log.warning)(
                "skipped %s: %s", source, e)
            skipped.append(source)
            if reasons is not None:
                reasons[source] = str(e) or type(e).__name__
    if reasons is not None:
        reasons.update({s: "unsupported type" for s in unsupported})
    return docs, skipped
