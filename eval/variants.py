"""The seed article as users' files are: hard-wrapped text, a multi-page PDF, a web page.
Builds each variant with its question set relabelled onto the variant's own text, then (with
--eval) scores every variant with the same questions and prints one table.

    .venv/bin/python -m eval.variants --out tests/fixtures/variants     # (re)build the fixtures
    .venv/bin/python -m eval.variants --eval                           # the table in eval/README

Variants (each a folder holding the document and questions.jsonl):
- ``lines``: the article as shipped, one paragraph a line;
- ``wrapped``: hard-wrapped at 72 columns (white space only changes, so offsets are the same);
- ``pdf``: a 4-page PDF typeset by fpdf2 in a proportional font, read back by rag's loader;
- ``html``: a web page with navigation, inline links and emphasis inside paragraphs, a
  newsletter box and a footer, its source wrapped at 100 columns as editors write it;
- ``scan``: the 4-page PDF as a scanner makes it: every page an image (rendered at 200 dpi by
  pypdfium2), no text layer; rag reads it by OCR (Tesseract).
"""
from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "moscow-times-secret-speech.txt"
QUESTIONS = ROOT / "eval" / "seed_questions.jsonl"
VARIANTS = ("lines", "wrapped", "pdf", "html", "scan")


def wrap(text: str, width: int = 72) -> str:
    """Hard-wrap every line at ``width`` by turning spaces into line breaks: the text keeps its
    length, so every offset stays where it was."""
    out = []
    for line in text.split("\n"):
        chars = list(line)
        start, last_space = 0, -1
        for i, ch in enumerate(chars):
            if ch == " ":
                last_space = i
            if i - start >= width and last_space > start:
                chars[last_space] = "\n"
                start = last_space + 1
        out.append("".join(chars))
    return "\n".join(out)


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def make_pdf(text: str, path: Path, title: str) -> None:
    """A Letter-size PDF, 11 pt DejaVu Sans (the TrueType font matplotlib ships), justified
    paragraphs, page numbers in the footer."""
    import matplotlib
    from fpdf import FPDF

    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"

    class Doc(FPDF):
        def footer(self):
            self.set_y(-15)
            self.set_font("DejaVu", size=8)
            self.cell(0, 10, f"Page {self.page_no()}", align="C")

    pdf = Doc(format="letter")
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    for i, para in enumerate(paragraphs(text)):
        para = para.replace("\u2009", " ")
        if i == 1:  # the headline
            pdf.set_font("DejaVu", "B", 15)
            pdf.multi_cell(0, 8, para)
        else:
            pdf.set_font("DejaVu", size=11)
            pdf.multi_cell(0, 5.5, para, align="J")
        pdf.ln(3)
    pdf.output(str(path))


def make_html(text: str, title: str) -> str:
    """A web page around the article: chrome outside <article>, inline markup inside paragraphs,
    and the source wrapped as editors write it."""
    paras = paragraphs(text)
    body = []
    for i, p in enumerate(paras):
        escaped = html.escape(p, quote=False)
        # Inline elements inside paragraphs: a link on "Stalin", emphasis on "Secret Speech".
        escaped = escaped.replace("Stalin ", '<a href="/tag/stalin">Stalin</a> ', 1)
        escaped = escaped.replace("Secret Speech", "<em>Secret Speech</em>", 1)
        if i == 1:
            body.append(f"<h1>{escaped}</h1>")
        else:
            body.append("<p>" + wrap(escaped, 100) + "</p>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>\n<style>p {{margin: 1em}}</style>"
        "<script>window.dataLayer = [];</script></head>\n<body>\n"
        "<header><nav><ul><li><a href=\"/\">Home</a></li><li><a href=\"/news\">News</a></li>"
        "<li><a href=\"/opinion\">Opinion</a></li><li><a href=\"/donate\">Donate</a></li></ul>"
        "</nav></header>\n<main><article>\n" + "\n".join(body) + "\n</article></main>\n"
        "<aside><h3>Most read</h3><ul><li><a href=\"/a\">Weather in Moscow</a></li>"
        "<li><a href=\"/b\">Ruble rate today</a></li></ul></aside>\n"
        "<footer><p>© The Moscow Times, all rights reserved.</p></footer>\n</body></html>\n")


def relabel(questions: list[dict], text: str, source: str) -> list[dict]:
    """The question set with each expected quote found again in ``text`` (white space, and a
    hyphenation line break, may differ); a quote not found is dropped, and said so."""
    out = []
    for q in questions:
        q = dict(q)
        spans = []
        for e in q.get("expected", []):
            words = e["quote"].split()
            pattern = r"[\s\-]*".join(re.escape(w) for w in words)
            m = re.search(pattern, text)
            if m is None:
                print(f"{source}: {q['id']}: quote not found, dropped", file=sys.stderr)
                continue
            spans.append({"source": source, "quote": m.group(), "start": m.start(),
                          "end": m.end()})
        if q.get("answerable") and not spans:
            continue
        q["expected"] = spans
        out.append(q)
    return out


def build(out: Path) -> dict[str, Path]:
    """Write every variant under ``out``; returns {variant: folder}."""
    from rag import load_file  # the loader users get: labels follow its text

    text = SEED.read_text(encoding="utf-8")
    title = "70 Years After the Secret Speech, Russia Is Still Reckoning With Stalin"
    questions = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    folders = {}
    for name in VARIANTS:
        folder = out / name
        if folder.exists():
            shutil.rmtree(folder)
        (folder / "docs").mkdir(parents=True)
        if name == "lines":
            path = folder / "docs" / "article.txt"
            shutil.copyfile(SEED, path)
        elif name == "wrapped":
            path = folder / "docs" / "article.txt"
            path.write_text(wrap(text), encoding="utf-8")
        elif name == "pdf":
            path = folder / "docs" / "article.pdf"
            make_pdf(text, path, title)
        elif name == "scan":
            path = folder / "docs" / "scan.pdf"
            make_pdf(text, folder / "text.pdf", title)  # kept beside: its pages check citations
            scan(folder / "text.pdf", path)
        else:
            path = folder / "docs" / "article.html"
            path.write_text(make_html(text, title), encoding="utf-8")
        doc = load_file(path, path.name)
        rows = relabel(questions, doc.text, path.name)
        (folder / "questions.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        folders[name] = folder
    return folders


def scan(pdf: Path, out: Path, dpi: int = 200) -> None:
    """``pdf`` as a scanner gives it: each page rendered to a grey image, saved as an
    image-only PDF."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    images = [doc[i].render(scale=dpi / 72).to_pil().convert("L") for i in range(len(doc))]
    doc.close()
    images[0].save(str(out), save_all=True, append_images=images[1:], resolution=dpi)


SENTENCE_START = re.compile(r"^[\"'“‘(\[]?[A-Z0-9]")
SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")


def is_fragment(quote: str, blocks: set[str]) -> bool:
    """A cited quote that is not whole sentences: it does not start like a sentence (capital,
    digit, opening quote) or end like one (. ! ? …, closing quotes), and is not a whole line of
    the original article either (a heading such as "Sign up for our free weekly newsletter").
    ``blocks``: the article's lines, white space squeezed; rag's segmenter is not used here."""
    if SENTENCE_START.match(quote) and SENTENCE_END.search(quote):
        return False
    return " ".join(quote.split()) not in blocks


def page_texts(pdf: Path) -> list[str]:
    """Each page's text as pypdf extracts it, white space squeezed: the check on citation pages
    does not go through rag's page offsets."""
    from pypdf import PdfReader

    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(str(pdf)).pages]


def page_right(quote: str, page: int | None, pages: list[str]) -> bool:
    """The quote starts on the page it is labelled with: its first words are on that page."""
    if page is None or not 1 <= page <= len(pages):
        return False
    head = " ".join(quote.split()[:4])
    text = pages[page - 1]
    if head in text:
        return True
    # A quote that starts in the last words of a page: its first word ends the page.
    return text.endswith(quote.split()[0]) or quote.split()[0] in text.split()[-3:]


def evaluate_variants(folders: dict[str, Path]) -> list[dict]:
    from rag import Retriever, evaluate, load_questions

    blocks = {" ".join(ln.split()) for ln in SEED.read_text(encoding="utf-8").splitlines()}
    rows = []
    for name, folder in folders.items():
        r = Retriever.from_folder(folder / "docs")
        questions = load_questions(folder / "questions.jsonl")
        res = evaluate(r, questions, k=10, mode="hybrid")
        cites = [c for q in res.questions for c in q.citations]
        row = {"variant": name, "questions": len(questions),
               "fragments": sum(is_fragment(c.quote, blocks) for c in cites) / max(1, len(cites)),
               **{k: res.metrics[k] for k in ("hit@5", "mrr@10", "answer_supported",
                                               "citation_precision", "abstain_recall",
                                               "citations_verified")}}
        pdfs = [folder / "text.pdf"] if (folder / "text.pdf").exists() else \
            list((folder / "docs").glob("*.pdf"))
        if pdfs:
            pages = page_texts(pdfs[0])
            row["pages_right"] = (sum(page_right(c.quote, c.page, pages) for c in cites)
                                  / max(1, len(cites)))
        rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    names = {"lines": "one line per paragraph", "wrapped": "wrapped at 72", "pdf": "PDF (4 pages)",
             "html": "HTML page", "scan": "scanned PDF (4 page images, OCR)"}
    cols = ["questions", "hit@5", "mrr@10", "answer_supported", "citation_precision",
            "fragments", "abstain_recall", "citations_verified", "pages_right"]
    lines = ["| variant | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for row in rows:
        cells = []
        for c in cols:
            v = row.get(c)
            cells.append("–" if v is None else (f"{v:.0f}" if c == "questions" else f"{v:.3f}"))
        lines.append(f"| {names[row['variant']]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="write the variants here (default: a temp dir)")
    ap.add_argument("--eval", action="store_true", help="score each variant and print a table")
    args = ap.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="rag-variants-"))
    folders = build(out)
    print(f"variants in {out}", file=sys.stderr)
    if args.eval:
        print(table(evaluate_variants(folders)))


if __name__ == "__main__":
    main()
