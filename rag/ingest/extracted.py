"""Extraction kept by content: the text that a costly read of a file gave (OCR of a scan or a
photo, a large PDF, anything over ``COSTLY_SECONDS``) is stored beside the index, keyed by the
SHA-256 of the file's bytes and the reading settings, so an unchanged refresh, an added text
file or an upload of another file runs no OCR again. A file that could not be read is kept
too, so it is reported once, not on every start. JSON files only (no pickle): one a file."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Bumped when a loader's output changes: older entries are read again.
EXTRACT_VERSION = 2
COSTLY_SECONDS = 0.1  # a read taking longer is kept


@dataclass(frozen=True)
class Extracted:
    """What reading one file gave: (name, text, title, page starts) of each document in it (the
    name is "" for the file itself, an attachment's name for a mail's attachment), or the
    error that stopped it."""

    parts: tuple[tuple[str, str, str, tuple[int, ...]], ...] = ()
    error: str = ""


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class ExtractionCache:
    """Extractions by content hash in ``folder`` (created when first written)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.used: set[str] = set()  # keys looked up or written through this object

    def key(self, digest: str, suffix: str, html: str, ocr: bool) -> str:
        spec = f"{digest}|{suffix}|{html}|{int(ocr)}|{EXTRACT_VERSION}"
        return hashlib.sha256(spec.encode()).hexdigest()[:32]

    def get(self, key: str) -> Extracted | None:
        self.used.add(key)
        try:
            raw = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            return Extracted(tuple((p["name"], p["text"], p["title"], tuple(p["page_starts"]))
                                   for p in raw["parts"]), raw.get("error", ""))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as e:  # damaged: read the file again
            log.warning("extraction cache entry %s unreadable (%s): reading the file again",
                        key, e)
            return None

    def put(self, key: str, extracted: Extracted) -> None:
        """Write an entry atomically (a crash leaves the old one or the new one)."""
        self.used.add(key)
        body = {"version": EXTRACT_VERSION, "error": extracted.error,
                "parts": [{"name": n, "text": t, "title": ti, "page_starts": list(s)}
                          for n, t, ti, s in extracted.parts]}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".entry-", dir=self.folder)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(body, f, ensure_ascii=False)
            os.replace(tmp, self.folder / f"{key}.json")
        except OSError as e:  # a read-only place: the cache is only a speed-up
            log.warning("could not keep the extraction in %s: %s", self.folder, e)

    def prune(self, keep: set[str]) -> int:
        """Drop entries whose files are gone; returns how many."""
        if not self.folder.is_dir():
            return 0
        gone = 0
        for p in self.folder.glob("*.json"):
            if p.stem not in keep:
                p.unlink(missing_ok=True)
                gone += 1
        return gone
