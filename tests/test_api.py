"""The REST API (ui/api.py) through FastAPI's test client: every endpoint and its bad inputs."""
import pytest

from rag import HashEmbedder, RagError, Retriever, Settings

TEXT = ("The lighthouse was built in 1874. Its lamp was electrified in 1910 by the harbour "
        "company. The keeper lived in a cottage beside it.")


@pytest.fixture
def make_client(tmp_path):
    from fastapi.testclient import TestClient

    from ui.api import create_app
    from ui.service import ChatService

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT)

    def make(key=None):
        r = Retriever.from_folder(folder, tmp_path / "idx", embedder=HashEmbedder(),
                                  settings=Settings(reader="heuristic", abstain_threshold=0.2))
        service = ChatService(folder, tmp_path / "idx", retriever=r)
        return TestClient(create_app(service, key), raise_server_exceptions=False), service

    return make


@pytest.fixture
def client(make_client):
    return make_client()[0]


def test_health_stats_and_the_openapi_schema(client):
    assert client.get("/api/v1/health").json() == {"status": "ok"}
    stats = client.get("/api/v1/stats").json()
    assert stats["documents"] == 1 and stats["passages"] >= 1 and stats["store"] == "local"
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/search", "/api/v1/ask", "/api/v1/documents"} <= set(schema["paths"])
    assert client.get("/api/v1/docs").status_code == 200


def test_the_docs_page_loads_its_assets_from_this_server_only(client):
    import re

    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    links = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert links and all(link.startswith("/api/v1/docs-assets/") for link in links), links
    assert "http://" not in page.text and "https://" not in page.text
    for link in links:
        asset = client.get(link)
        assert asset.status_code == 200 and len(asset.content) > 500, link
    assert "SwaggerUIBundle" in client.get("/api/v1/docs-assets/swagger-ui-bundle.js").text


@pytest.mark.parametrize("name, content, status", [
    ("slides.key", b"PK\x03\x04" + bytes(range(256)), 415),   # a type rag does not read
    ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), 422),  # read by OCR, but corrupt
    ("notes.txt", bytes(range(256)) * 4, 422),              # not UTF-8
    ("nul.txt", b"valid utf-8 \x00\x00 but binary", 422),   # UTF-8 with NULs
])
def test_a_rejected_upload_is_4xx_and_adds_nothing(client, name, content, status):
    ok = client.post("/api/v1/documents", json={"documents": [
        {"text": "Green tea comes from China and Japan.", "name": "tea.md"}]})
    assert ok.status_code == 200 and ok.json()["added"] == 1
    before = client.get("/api/v1/stats").json()
    out = client.post("/api/v1/documents", files={"files": (name, content)})
    assert out.status_code == status, out.text
    body = out.json()
    assert body["added"] == 0 and body["updated"] == 0 and body["error"] == "no file was indexed"
    assert [r["name"] for r in body["rejected"]] == [name]
    assert client.get("/api/v1/stats").json() == before


def test_a_duplicate_upload_is_not_an_error_and_adds_nothing(client):
    doc = {"documents": [{"text": "Green tea comes from China and Japan.", "name": "tea.md"}]}
    assert client.post("/api/v1/documents", json=doc).json()["added"] == 1
    again = client.post("/api/v1/documents", json=doc)
    assert again.status_code == 200 and again.json()["added"] == 0
    assert "already indexed" in again.json()["status"]


def _pdf(path, lines, title=""):
    from conftest import make_pdf

    make_pdf(path, [lines], title=title)
    return path.read_bytes()


def _pptx(lines):
    import io

    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Quarterly review"
    box = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(8), Inches(3)).text_frame
    box.text = lines
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _png(lines):
    import io

    from test_loaders import text_image

    out = io.BytesIO()
    text_image(lines).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.model
def test_binary_uploads_through_rest_are_read_by_their_type(real_embedder, tmp_path):
    """curl -F files=@policy.pdf ...: each file is read as its type (once saved to a temporary
    file without its suffix, every one was read as text and refused as not UTF-8), and /ask
    answers from it with the real model."""
    import shutil

    from fastapi.testclient import TestClient

    from ui.api import create_app
    from ui.service import ChatService

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT)
    r = Retriever.from_folder(folder, tmp_path / "idx", embedder=real_embedder)
    client = TestClient(create_app(ChatService(folder, tmp_path / "idx", retriever=r)),
                        raise_server_exceptions=False)

    if shutil.which("tesseract") is None:
        pytest.skip("tesseract-ocr is not installed (.ci/run installs it)")
    files = [("files", ("policy.pdf", _pdf(tmp_path / "p.pdf", [
                 "The refund policy was approved by the board in May 2021."]), "application/pdf")),
             ("files", ("review.pptx", _pptx("The warehouse moved to Leeds in March."),
                        "application/octet-stream")),
             ("files", ("memo.png", _png(["The boiler is serviced every October."]),
                        "image/png"))]
    out = client.post("/api/v1/documents", files=files)
    assert out.status_code == 200, out.text
    body = out.json()
    assert body["added"] == 3 and body["rejected"] == [], body
    assert sorted(body["stored"]) == ["memo.png", "policy.pdf", "review.pptx"]
    for question, source, fact in [
            ("When was the refund policy approved?", "uploads/policy.pdf", "2021"),
            ("Where did the warehouse move?", "uploads/review.pptx", "Leeds"),
            ("When is the boiler serviced?", "uploads/memo.png", "October")]:
        answer = client.post("/api/v1/ask", json={"question": question, "k": 3}).json()
        cited = [c for c in answer["citations"] if c["passage"]["source"] == source]
        assert cited and fact in " ".join(c["quote"] for c in cited), (question, answer)


@pytest.mark.parametrize("name", ["fake.pdf", "fake.docx", "fake.png", "fake.pptx"])
def test_a_text_file_under_a_binary_name_is_refused_and_not_stored(make_client, tmp_path, name):
    client, service = make_client()
    out = client.post("/api/v1/documents", files={"files": (name, b"just some plain text")})
    assert out.status_code in (415, 422), out.text
    body = out.json()
    assert body["added"] == 0 and body["stored"] == []
    assert [(r["name"], r["kind"]) for r in body["rejected"]] == [(name, "content")]
    assert not service.uploads.exists() or list(service.uploads.iterdir()) == []
    # Nothing half-stored: a later upload reports nothing about it.
    later = client.post("/api/v1/documents", json={"documents": [
        {"text": "Green tea comes from China and Japan.", "name": "tea.md"}]}).json()
    assert later["added"] == 1 and name not in later["status"]


def test_the_same_html_uploaded_twice_is_stored_once(make_client):
    client, service = make_client()
    page = (b"<html><head><title>Opening hours</title></head><body><nav>Home | Shop</nav>"
            b"<main><p>The shop opens at nine on weekdays and at ten on Saturdays.</p></main>"
            b"</body></html>")
    first = client.post("/api/v1/documents", files={"files": ("hours.html", page)}).json()
    assert first["added"] == 1 and first["stored"] == ["hours.html"]
    for _ in range(2):
        again = client.post("/api/v1/documents", files={"files": ("hours.html", page)})
        assert again.status_code == 200
        assert again.json()["duplicates"] == [{"name": "hours.html",
                                               "indexed_as": "uploads/hours.html"}]
    assert sorted(p.name for p in service.uploads.iterdir()) == ["hours.html"]


def test_an_unreadable_file_stored_earlier_is_listed_with_its_error_and_removable(
        make_client, tmp_path):
    client, service = make_client()
    service.uploads.mkdir(parents=True, exist_ok=True)
    (service.uploads / "old.pdf").write_text("a text file an earlier version stored")
    service.retriever = service._refresh()
    listed = {d["source"]: d for d in client.get("/api/v1/documents").json()["documents"]}
    assert listed["uploads/old.pdf"]["error"] and listed["uploads/old.pdf"]["passages"] == 0
    assert listed["a.txt"]["error"] == ""
    out = client.delete(f"/api/v1/documents/{listed['uploads/old.pdf']['id']}")
    assert out.status_code == 200, out.text
    assert not (service.uploads / "old.pdf").exists()
    assert "uploads/old.pdf" not in {d["source"] for d in
                                     client.get("/api/v1/documents").json()["documents"]}


def test_search_and_ask_return_the_library_types(client, tmp_path):
    hits = client.post("/api/v1/search", json={"query": "lamp electrified", "k": 2}).json()
    assert len(hits) >= 1 and hits[0]["rank"] == 1 and hits[0]["passage"]["source"] == "a.txt"
    answer = client.post("/api/v1/ask", json={"question": "When was the lamp electrified?",
                                              "history": ["Who built the lighthouse?"]}).json()
    assert not answer["abstained"] and answer["citations"]
    # How sure it is: the outcome beside its flags, and the confidence.
    assert answer["outcome"] == ("hedged" if answer["hedged"] else "answered")
    assert 0.0 <= answer["confidence"] <= 1.0 and answer["disagree"] is False
    for c in answer["citations"]:
        assert TEXT[c["start"]:c["end"]] == c["quote"]


def test_a_follow_up_is_read_with_the_history_in_either_form(client):
    for turn in ("When was the lighthouse built?",
                 {"question": "When was the lighthouse built?", "answer": "In 1874. [1]"}):
        answer = client.post("/api/v1/ask", json={"question": "Who lived in it?",
                                                  "history": [turn]}).json()
        assert answer["resolved"] == "Who lived in the lighthouse?"
        assert answer["question"] == "Who lived in it?"
    alone = client.post("/api/v1/ask", json={"question": "Who lived in it?"}).json()
    assert alone["resolved"] == ""
    bad = client.post("/api/v1/ask", json={"question": "x y", "history": [{"answer": "a"}]})
    assert bad.status_code == 422


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/search", {"query": ""}, "query"),
    ("/api/v1/search", {"query": "x", "k": 0}, "k"),
    ("/api/v1/search", {"query": "x", "k": 101}, "k"),
    ("/api/v1/search", {"query": "x", "mode": "magic"}, "mode"),
    ("/api/v1/ask", {"question": "x" * 2001}, "question"),
    ("/api/v1/ask", {}, "question"),
    ("/api/v1/documents", {"documents": []}, "documents"),
])
def test_bad_fields_are_422_with_the_field_named(client, path, body, field):
    out = client.post(path, json=body)
    assert out.status_code == 422
    data = out.json()
    assert data["error"] == "invalid request" and field in data["detail"][0]["field"]


@pytest.mark.parametrize("path, field", [("/api/v1/ask", "question"),
                                         ("/api/v1/search", "query")])
def test_an_empty_or_blank_question_is_one_mistake_one_answer(client, path, field):
    answers = [client.post(path, json={field: q}) for q in ("", "   ", "\n\t")]
    assert {a.status_code for a in answers} == {422}
    assert len({str(a.json()) for a in answers}) == 1
    assert answers[0].json()["detail"] == [{"field": field, "problem": "the question is empty: "
                                            "ask a question with at least one word"}]


def test_malformed_json_says_what_is_wrong_not_an_offset(client):
    out = client.post("/api/v1/ask", content=b'{"question": "x",,}',
                      headers={"content-type": "application/json"})
    assert out.status_code == 422
    (problem,) = out.json()["detail"]
    assert problem["field"] == "body"
    assert problem["problem"].startswith("the body is not valid JSON: ")
    assert "line 1, column 18" in problem["problem"]


def test_a_huge_body_is_413(client):
    out = client.post("/api/v1/documents", content=b"x" * (21 * 1024 * 1024),
                      headers={"content-type": "application/json"})
    assert out.status_code == 413 and out.json()["error"] == "request body too large"


def test_documents_are_added_listed_paged_and_removed(client, tmp_path):
    out = client.post("/api/v1/documents", json={"documents": [
        {"text": "Green tea comes from China and Japan.", "name": "tea.md"}]}).json()
    assert out["added"] == 1 and "1 added" in out["status"]
    assert client.post("/api/v1/search", json={"query": "green tea", "k": 1}).json()[0][
        "passage"]["source"] == "uploads/tea.md"
    (tmp_path / "river.txt").write_text("The Nile is a long river in Africa.")
    with (tmp_path / "river.txt").open("rb") as f:
        out = client.post("/api/v1/documents", files={"files": ("river.txt", f)}).json()
    assert out["added"] == 1
    bad = client.post("/api/v1/documents", files={"files": ("x.exe", b"MZ")})
    assert bad.status_code == 415 and "not accepted" in bad.json()["detail"]
    page = client.get("/api/v1/documents", params={"offset": 1, "limit": 1}).json()
    assert page["total"] == 3 and len(page["documents"]) == 1
    assert client.get("/api/v1/documents", params={"limit": 0}).status_code == 422
    listed = {d["source"]: d["id"] for d in client.get("/api/v1/documents").json()["documents"]}
    assert client.delete("/api/v1/documents/nope").status_code == 404
    out = client.delete(f"/api/v1/documents/{listed['uploads/tea.md']}")
    assert out.status_code == 200 and out.json()["status"].startswith("Removed")
    served = client.delete(f"/api/v1/documents/{listed['a.txt']}")
    assert served.status_code == 400 and "served folder" in served.json()["error"]
    assert "uploads/tea.md" not in {d["source"] for d in
                                    client.get("/api/v1/documents").json()["documents"]}


def test_a_key_is_required_when_set_and_compared(make_client):
    client, _ = make_client(key="s3cret")
    body = {"query": "lamp"}
    assert client.get("/api/v1/health").status_code == 200  # liveness needs no key
    assert client.post("/api/v1/search", json=body).status_code == 401
    wrong = client.post("/api/v1/search", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "API key" in wrong.json()["error"]
    ok = client.post("/api/v1/search", json=body, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    assert client.get("/api/v1/stats").status_code == 401


def test_beyond_loopback_without_a_key_refuses_to_start(monkeypatch):
    from ui.api import KEY_ENV, check_key

    monkeypatch.delenv(KEY_ENV, raising=False)
    assert check_key("127.0.0.1") is None
    with pytest.raises(RagError, match="needs an API key"):
        check_key("0.0.0.0")
    monkeypatch.setenv(KEY_ENV, "k")
    assert check_key("0.0.0.0") == "k"


def test_a_crash_is_a_message_not_a_trace(make_client, monkeypatch):
    client, service = make_client()

    def boom(*a, **k):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service.retriever, "search", boom)
    out = client.post("/api/v1/search", json={"query": "lamp"})
    assert out.status_code == 500 and out.json()["error"] == "internal error"
    assert "secret" not in out.text and "Traceback" not in out.text


def test_citations_from_the_api_verify_against_the_documents(make_client):
    client, service = make_client()
    answer = client.post("/api/v1/ask", json={"question": "Where did the keeper live?"}).json()
    assert answer["citations"]
    docs = service.retriever.documents
    for c in answer["citations"]:
        doc = docs[c["passage"]["doc_id"]]
        assert doc.text[c["start"]:c["end"]] == c["quote"]


def test_asks_take_turns_at_the_service_gate(make_client, monkeypatch):
    """A crowd's asks are answered a gate's permits at once, in arrival order (rag.FairGate),
    not all interleaved."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from rag import FairGate

    client, service = make_client()
    service.turn = FairGate(2)
    inside, most, lock = [0], [0], threading.Lock()
    real = service.retriever.ask

    def slow(question, **kwargs):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            import time

            time.sleep(0.05)
            return real(question, **kwargs)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(service.retriever, "ask", slow)
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda i: client.post("/api/v1/ask", json={
            "question": f"When was the lamp electrified? ({i})"}).status_code, range(8)))
    assert codes == [200] * 8 and most[0] == 2
