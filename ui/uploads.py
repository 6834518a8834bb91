"""The rules of an upload, the same for the chat and the REST API: which types and sizes are
taken, the name a file is stored under, and why one is refused (typed, so callers never sort
errors by their wording)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rag import SUFFIXES

ALLOWED_UPLOADS = SUFFIXES  # every type rag reads
MAX_UPLOAD_BYTES = 10 * 1024 * 1024

# Why a file was refused: its type, its size, its content (it does not read as its type, or
# holds no text), or indexing it failed.
KINDS = ("type", "size", "content", "indexing")


@dataclass(frozen=True)
class Rejected:
    """A file refused: its (base) name, one of ``KINDS``, and the reason in words."""

    name: str
    kind: str
    reason: str

    @property
    def message(self) -> str:
        return f"{self.name}: {self.reason}"


def base_name(name: str) -> str:
    """The file name of an upload, without any path it came with."""
    return Path(str(name).replace("\\", "/")).name


def safe_name(name: str, existing: set[str]) -> str:
    """A file name from an upload, trusting no path in it: the base name reduced to
    [A-Za-z0-9._-], never hidden, its suffix kept (it says how the file is read), made unique
    against ``existing``."""
    base = base_name(name)
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:80] or "upload"
    candidate, i = f"{stem}{suffix}", 1
    while candidate in existing:
        i += 1
        candidate = f"{stem}-{i}{suffix}"
    return candidate


def check(name: str, size: int) -> Rejected | None:
    """Why an upload is refused by its name and size, or None when it may be read."""
    base = base_name(name)
    suffix = Path(base).suffix.lower()
    if suffix not in ALLOWED_UPLOADS:
        return Rejected(base, "type", f"type {suffix or '(none)'} is not accepted; use "
                        + ", ".join(ALLOWED_UPLOADS))
    if size > MAX_UPLOAD_BYTES:
        return Rejected(base, "size", f"{size / 1e6:.1f} MB is over the "
                        f"{MAX_UPLOAD_BYTES / 1e6:.0f} MB limit")
    return None
