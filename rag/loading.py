"""Read a folder of documents: .txt, .md, .html/.htm and .pdf, recursively."""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from .errors import ConfigError
from .types import Document

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


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


def _html_text(raw: str) -> tuple[str, str]:
    from bs4 import BeautifulSoup  # heavy-ish, loaded on demand

    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "embed"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    lines = [" ".join(line.split()) for line in soup.get_text("\n").splitlines()]
    # Blank lines separate blocks, so the chunker sees paragraphs.
    text = "\n".join(line for line in lines if line)
    return text, title


def _pdf_text(path: Path) -> tuple[str, str, tuple[int, ...]]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for page in reader.pages:
        page_text = (page.extract_text() or "").strip()
        starts.append(pos)
        parts.append(page_text)
        pos += len(page_text) + 2
    title = ""
    if reader.metadata is not None and reader.metadata.title:
        title = str(reader.metadata.title).strip()
    return "\n\n".join(parts), title, tuple(starts)


def load_file(path: Path, source: str) -> Document:
    """Read one file into a Document. Raises OSError/ValueError when it cannot be read."""
    suffix = path.suffix.lower()
    page_starts: tuple[int, ...] = ()
    if suffix == ".pdf":
        text, title, page_starts = _pdf_text(path)
    else:
        raw = path.read_bytes().decode("utf-8")  # UnicodeDecodeError is a ValueError
        if suffix in (".html", ".htm"):
            text, title = _html_text(raw)
        else:
            text, title = raw, ""
    if not text.strip():
        raise ValueError("no text in it")
    return Document(id=doc_id_for(source, text), text=text, title=title or _first_line_title(text),
                    source=source, page_starts=page_starts)


def list_files(folder: str | Path) -> list[tuple[Path, str]]:
    """(path, source) of every supported file under ``folder``, sorted by source."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"folder {str(folder)!r} does not exist or is not a folder: "
                          "give a folder of .txt/.md/.html/.pdf files")
    files = [(p, p.relative_to(root).as_posix()) for p in root.rglob("*")
             if p.is_file() and p.suffix.lower() in SUFFIXES
             and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    return sorted(files, key=lambda f: f[1])


def load_folder(folder: str | Path) -> tuple[list[Document], list[str]]:
    """Load every supported file under ``folder``. Returns (documents, skipped sources); a file
    that cannot be read or decoded is skipped with a warning naming it."""
    docs: list[Document] = []
    skipped: list[str] = []
    for path, source in list_files(folder):
        try:
            docs.append(load_file(path, source))
        except Exception as e:  # noqa: BLE001 - any unreadable file is skipped, never fatal
            log.warning("skipped %s: %s", source, e)
            skipped.append(source)
    return docs, skipped
