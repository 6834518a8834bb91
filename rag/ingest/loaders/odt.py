"""OpenDocument text (.odt, odfpy): headings, paragraphs, list items and table rows in order."""
from __future__ import annotations

from pathlib import Path


def odt_text(path: Path, options=None) -> tuple[str, str, tuple[int, ...]]:
    from odf import opendocument, teletype
    from odf.namespaces import TABLENS, TEXTNS

    doc = opendocument.load(str(path))
    blocks: list[str] = []
    heading = ""

    def walk(node) -> None:
        nonlocal heading
        for child in node.childNodes:
            if child.nodeType != child.ELEMENT_NODE:
                continue
            if child.qname == (TABLENS, "table-row"):
                cells = [" ".join(teletype.extractText(c).split()) for c in child.childNodes
                         if c.nodeType == c.ELEMENT_NODE]
                if any(cells):
                    blocks.append("| " + " | ".join(cells) + " |")
            elif child.qname in ((TEXTNS, "p"), (TEXTNS, "h")):
                text = " ".join(teletype.extractText(child).split())
                if text:
                    blocks.append(text)
                    if child.qname == (TEXTNS, "h") and not heading:
                        heading = text
            else:
                walk(child)

    walk(doc.text)
    title = ""
    for meta in doc.meta.childNodes:
        if getattr(meta, "qname", (None, None))[1] == "title":
            title = teletype.extractText(meta).strip()
    return "\n\n".join(blocks), title or heading, ()
