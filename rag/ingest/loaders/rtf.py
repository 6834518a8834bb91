"""Rich text (.rtf, striprtf): the text without its control words, a paragraph a block."""
from __future__ import annotations

import re
from pathlib import Path


def rtf_text(path: Path, options=None) -> tuple[str, str, tuple[int, ...]]:
    from striprtf.striprtf import rtf_to_text

    raw = path.read_bytes().decode("latin-1")
    if not raw.lstrip().startswith("{\\rtf"):
        raise ValueError("not an RTF file (it does not start with {\\rtf)")
    text = rtf_to_text(raw, errors="ignore")
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n|\n", text) if b.strip()]
    return "\n\n".join(blocks), "", ()
