"""OpenDocument text (.odt, odfpy): headings (marked as such), paragraphs, list items and table
rows (read with their column names) in order."""
from __future__ import annotations

from pathlib import Path

from . import heading as heading_block
from . import table_blocks


def odt_text(path: Path, options=None) -> tuple[str, str, tuple[int, ...]]:
    from odf import opendocument, teletype
    from odf.namespaces import TABLENS, TEXTNS
    from odf.table import TableRow

    doc = opendocument.load(str(path))
    blocks: list[str] = []
    heading = ""

    def walk(node) -> None:
        nonlocal heading
        for child in node.childNodes:
            if child.nodeType != child.ELEMENT_NODE:
                continue
            if child.qname == (TABLENS, "table"):
                blocks.extend(table_blocks([
                    [" ".join(teletype.extractText(c).split()) for c in row.childNodes
                     if c.nodeType == c.ELEMENT_NODE]
                    for row in child.getElementsByType(TableRow)]))
            elif child.qname in ((TEXTNS, "p"), (TEXTNS, "h")):
                text = " ".join(teletype.extractText(child).split())
                if text and child.qname == (TEXTNS, "h"):
                    level = child.getAttribute("outlinelevel")
                    blocks.append(heading_block(text, int(level) if level else 1))
                    heading = heading or text
                elif text:
                    blocks.append(text)
            else:
                walk(child)

    walk(doc.text)
    title = ""
    for meta in doc.meta.childNodes:
        if getattr(meta, "qname", (None, None))[1] == "title":
            title = teletype.extractText(meta).strip()
    return "\n\n".join(blocks), title or heading, ()
