"""Plain text and Markdown: the file's own characters, as UTF-8 (citations slice them)."""
from __future__ import annotations

from pathlib import Path


def read_text(path: Path) -> str:
    """The file's text as UTF-8; ValueError for bytes that are not (or hold NULs: binary)."""
    raw = Path(path).read_bytes().decode("utf-8")  # UnicodeDecodeError is a ValueError
    if "\x00" in raw:  # valid UTF-8 but binary: text files hold no NUL
        raise ValueError("binary data, not text")
    return raw


def text_file(path: Path, options=None) -> tuple[str, str, tuple[int, ...]]:
    return read_text(path), "", ()
