"""The cited document in full and a PDF page with the quote marked (rag/pages.py; REST
GET /api/v1/documents/{id} and /documents/{id}/pages/{n}.png)."""
import io
import json

import pytest

from conftest import make_pdf
from rag import HashEmbedder, Retriever, Settings
from rag.ingest.pages import quote_chars, render_page

PAGES = [["The keeper lit the lamp at dusk.", "A storm broke the lens in",
          "the winter of 1881."], ["The new lens came from Paris in 1882.",
                                    "It is still in use today."]]


@pytest.fixture
def api(tmp_path):
    from fastapi.testclient import TestClient

    from ui.api import create_app
    from ui.service import ChatService

    folder = tmp_path / "docs"
    folder.mkdir()
    make_pdf(folder / "light.pdf", PAGES)
    (folder / "notes.txt").write_text("Plain notes about the lamp.")
    r = Retriever.from_folder(folder, tmp_path / "idx", embedder=HashEmbedder(),
                              settings=Settings(reader="heuristic"))
    service = ChatService(folder, tmp_path / "idx", retriever=r, warm=False)
    return TestClient(create_app(service), raise_server_exceptions=False), r


def area(box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def overlap(a, b) -> float:
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def char_boxes(pdf, page: int, phrase: str, scale: float = 2.0):
    """The oracle: pdfium's boxes of the phrase's characters, found by plain search."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    p = doc[page - 1]
    height = p.get_size()[1]
    tp = p.get_textpage()
    at = tp.get_text_range().index(phrase)
    out = []
    for i in range(at, at + len(phrase)):
        left, bottom, right, top = tp.get_charbox(i)
        if right > left and top > bottom:
            out.append((left * scale, (height - top) * scale, right * scale,
                        (height - bottom) * scale))
    doc.close()
    return out


def test_a_quote_is_found_among_the_page_characters_across_line_breaks():
    page = "A storm broke the lens in\r\nthe winter of 1881.\r\ninfor\ufffemation"
    s, e = quote_chars(page, "broke the lens in the winter")
    assert page[s:e] == "broke the lens in\r\nthe winter"
    s, e = quote_chars(page, "information")
    assert page[s:e] == "infor\ufffemation"
    assert quote_chars(page, "not on this page") is None


def test_the_document_and_its_pages_over_rest(api, tmp_path):
    from PIL import Image

    client, r = api
    doc = next(d for d in r.documents.values() if d.source == "light.pdf")
    body = client.get(f"/api/v1/documents/{doc.id}").json()
    assert body["text"] == doc.text and body["pages"] == 2
    assert body["page_starts"] == list(doc.page_starts) and body["source"] == "light.pdf"
    quote = "The new lens came from Paris in 1882."
    start = doc.text.index(quote)
    out = client.get(f"/api/v1/documents/{doc.id}/pages/2.png",
                     params={"start": start, "end": start + len(quote)})
    assert out.status_code == 200 and out.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(out.content))
    assert image.size == (1224, 1584)  # Letter at 144 dpi
    boxes = json.loads(out.headers["X-Quote-Boxes"])
    truth = char_boxes(tmp_path / "docs" / "light.pdf", 2, quote)
    covered = sum(max(overlap(t, b) for b in boxes) for t in truth)
    assert covered >= 0.9 * sum(area(t) for t in truth)
    # The boxes are drawn: a pixel inside one is tinted, one far from all is white.
    x, y = (boxes[0][0] + boxes[0][2]) / 2, (boxes[0][1] + boxes[0][3]) / 2
    assert image.getpixel((int(x), int(y)))[2] < 200
    assert image.getpixel((5, 5)) == (255, 255, 255)
    # A quote over a line break is marked on its page.
    wrapped = "A storm broke the lens in the winter of 1881."
    at = doc.text.index("A storm broke")
    page1 = client.get(f"/api/v1/documents/{doc.id}/pages/1.png",
                       params={"start": at, "end": at + len(doc.text[at:].split("1881.")[0]) + 5})
    assert len(json.loads(page1.headers["X-Quote-Boxes"])) >= len(wrapped.replace(" ", "")) - 2
    # Errors say what to do.
    assert client.get(f"/api/v1/documents/{doc.id}/pages/3.png").status_code == 400
    assert client.get(f"/api/v1/documents/{doc.id}/pages/1.png",
                      params={"start": 5}).status_code == 422
    assert client.get("/api/v1/documents/nope").status_code == 404
    txt = next(d for d in r.documents.values() if d.source == "notes.txt")
    assert client.get(f"/api/v1/documents/{txt.id}/pages/1.png").status_code == 404


def test_render_page_without_a_quote_has_no_boxes(tmp_path):
    make_pdf(tmp_path / "a.pdf", PAGES)
    png, boxes = render_page(tmp_path / "a.pdf", 1)
    assert png.startswith(b"\x89PNG") and boxes == []
