"""Compare sentence splitters on the seed article as shipped and hard-wrapped (eval/README.md).

    .venv/bin/python eval/compare_splitters.py      # needs: pip install pysbd

For each splitter: how many labelled answer spans of the seed set a sentence boundary cuts (a
boundary strictly inside the span: the quote can no longer be cited whole), the share of
sentences that are fragments (not sentence-like and not a whole line of the article), and time.
pysbd runs inside rag's blocks, their line breaks turned into spaces (it ends a sentence at
every line break), and on the whole text as it is.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from variants import QUESTIONS, SEED, is_fragment, wrap  # noqa: E402

from rag import split_blocks, split_sentences  # noqa: E402


def pysbd_spans(text: str, within_blocks: bool) -> list[tuple[int, int]]:
    import pysbd

    seg = pysbd.Segmenter(language="en", clean=False, char_span=True)
    ranges = split_blocks(text) if within_blocks else [(0, len(text))]
    out = []
    for b0, b1 in ranges:
        # Inside a block a line break is a space: same length, so offsets still hold.
        block = text[b0:b1].replace("\n", " ") if within_blocks else text[b0:b1]
        for span in seg.segment(block):
            s, e = b0 + span.start, b0 + span.end
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                out.append((s, e))
    return out


def score(text: str, spans: list[tuple[int, int]], labels: list[tuple[int, int]],
          blocks: set[str]) -> tuple[int, float]:
    ends = {e for _, e in spans}
    cut = sum(1 for s, e in labels if any(s < b < e and text[s:b].strip() and text[b:e].strip()
                                          for b in ends))
    frags = sum(is_fragment(text[s:e], blocks) for s, e in spans) / max(1, len(spans))
    return cut, frags


def main() -> None:
    original = SEED.read_text(encoding="utf-8")
    blocks = {" ".join(ln.split()) for ln in original.splitlines()}
    labels = [(e["start"], e["end"]) for line in QUESTIONS.read_text().splitlines() if line
              for e in json.loads(line).get("expected", [])]
    splitters = {
        "rag (blocks + rules)": split_sentences,
        "pysbd within rag's blocks": lambda t: pysbd_spans(t, True),
        "pysbd on the whole text": lambda t: pysbd_spans(t, False),
    }
    print("| splitter | text | sentences | labels cut | fragments | ms |")
    print("|---|---|---:|---:|---:|---:|")
    for name, split in splitters.items():
        for variant, text in (("one line a paragraph", original),
                              ("wrapped at 72", wrap(original))):
            t0 = time.perf_counter()
            spans = split(text)
            ms = (time.perf_counter() - t0) * 1000
            cut, frags = score(text, spans, labels, blocks)
            print(f"| {name} | {variant} | {len(spans)} | {cut} of {len(labels)} | {frags:.3f} "
                  f"| {ms:.1f} |")


if __name__ == "__main__":
    main()
