"""Files into Documents: a folder read recursively, each file by the loader registered for its
type (rag/ingest/loaders/: text, Markdown, web pages, PDF with OCR of scanned pages, Word,
slides, spreadsheets, CSV, e-books, OpenDocument, RTF, e-mail with its attachments, images by
OCR), with stable ids, titles, and costly reads kept by content (rag/ingest/extracted.py)."""
from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from ..errors import ConfigError
from ..types import Document
from .loaders import ReadOptions, read, suffixes
from .loaders.ocr import IMAGE_SUFFIXES

log = logging.getLogger(__name__)

SUFFIXES = suffixes()  # the types read out of the box (rag.ingest.loaders.register adds more)

# Titles that tools write when the author gave none: they say nothing of the document.
_PLACEHOLDER_TITLE = re.compile(
    r"^\s*(?:enscript output|untitled\b.*|microsoft (?:word|powerpoint|excel) - .*"
    r"|(?:document|presentation|book|slide|print)\s*\d*|.*\.(?:pdf|docx?|txt|rtf|odt|pptx?"
    r"|xlsx?|html?|ps)|[\W\d_]*)\s*$", re.IGNORECASE)
# Read by OCR, or possibly (a PDF's scanned pages): kept whatever the read took.
_ALWAYS_KEPT = (".pdf", *IMAGE_SUFFIXES)
# Tables: a title from the data's first row would pin every row to its first product.
_TITLED_BY_NAME = (".csv", ".xlsx")


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


def _loaded(path: Path, suffix: str, html: str, ocr: bool) -> tuple[str, str, tuple[int, ...]]:
    """(text, title, page starts) of one file by its type (rag.ingest.loaders' registry)."""
    return read(path, suffix, ReadOptions(html, ocr))


def load_file(path: Path, source: str, html: str = "main", ocr: bool = True,
              suffix: str | None = None) -> Document:
    """Read one file into a Document. Raises OSError/ValueError (or the parser's error) when it
    cannot be read. ``html``: "main" keeps a web page's main content, "all" every text;
    ``ocr``: read scanned PDF pages and images with Tesseract; ``suffix``: the type to read it
    as (default: the path's own, e.g. an upload kept under a temporary name)."""
    suffix = (suffix or Path(path).suffix).lower()
    return _document(source, *_loaded(Path(path), suffix, html, ocr), suffix,
                     modified=_modified(Path(path)))


def _modified(path: Path) -> str:
    """When the file was last changed (UTC, ISO 8601)."""
    from datetime import datetime, timezone

    stamp = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    return stamp.isoformat(timespec="seconds")


def _document(source: str, text: str, title: str, page_starts: tuple[int, ...],
              suffix: str = "", modified: str = "") -> Document:
    """A Document; without a title of its own, a table is titled by its file name, anything
    else by its first heading or line, else its file name."""
    if not text.strip():
        raise ValueError("no text in it")
    name = Path(source).name
    if _PLACEHOLDER_TITLE.match(title):  # a producer's default ("Enscript Output"): none
        title = ""
    if not title:
        title = (Path(name).stem if suffix in _TITLED_BY_NAME else
                 _first_line_title(text) or name)
    return Document(id=doc_id_for(source, text), text=text, title=title, source=source,
                    page_starts=page_starts, modified=modified)


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
        if kind not in suffixes() or kind == ".eml":
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
    modified = _modified(path)
    if cache is not None:
        key = cache.key(file_digest(path), suffix, html, ocr)
        hit = cache.get(key)
        if hit is not None and hit.error:
            raise CachedFailure(hit.error)
        if hit is not None:
            return [_document(f"{source}/{n}" if n else source, t, ti, s,
                              Path(n).suffix.lower() if n else suffix, modified)
                    for n, t, ti, s in hit.parts]
    t0 = time.perf_counter()
    try:
        parts = _parts(path, suffix, html, ocr)
        docs = [_document(f"{source}/{n}" if n else source, t, ti, s,
                          Path(n).suffix.lower() if n else suffix, modified)
                for n, t, ti, s in parts]
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
        if p.suffix.lower() in suffixes():
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
