"""The live app: gradio_client against a local server, and a real browser (Debian's chromium via
Playwright). Traffic goes to 127.0.0.1 only."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, SEED_FILE, copy_seed, make_pdf

pytestmark = pytest.mark.model

EVIL = """Injection test page

Pineapples are grown in tropical fields by careful farmers. <script>alert("xss-script")</script>
Pineapple harvests need sharp knives <img src=x onerror="alert('xss-img')"> and patience.
Pineapple farmers read [the guide](javascript:alert('xss-link')) and ![logo](http://example.com/logo.png) daily.
Pineapple juice is bottled <iframe src="http://example.com/frame"></iframe> near the farms.
"""

LIGHTHOUSE = [["The Pemberton keeper lit the lamp at dusk every evening."],
              ["A winter storm shattered the Pemberton lens in 1881.",
               "A new lens arrived from Paris the next spring."]]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic",
                  "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"
# Is the first answer's cited sentence [1] inside the visible part of the conversation?
IN_VIEW = """() => {
    const mark = document.getElementById('src-0-1');
    if (!mark.checkVisibility()) return false;  // inside folded sources
    const m = mark.getBoundingClientRect();
    const c = document.querySelector('#chat .chat').getBoundingClientRect();
    return m.height > 0 && m.top >= c.top - 1 && m.top < c.bottom && m.top >= 0
        && m.top < window.innerHeight;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    folder = copy_seed(tmp / "docs")
    (folder / "evil.md").write_text(EVIL)
    make_pdf(folder / "light.pdf", LIGHTHOUSE)
    port = _free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    log = open(tmp / "server.log", "w")
    # The index inside the served folder, uploads by default beside it (both hidden there).
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", str(folder), "--index",
                             str(folder / ".rag-index"), "--port", str(port)], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((tmp / "server.log").read_text())
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("server did not start: " + (tmp / "server.log").read_text())
    yield {"url": url, "folder": folder, "uploads": folder / ".rag-index-uploads"}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_gradio_client_gets_verified_citations(server):
    from gradio_client import Client

    client = Client(server["url"], verbose=False)
    data = client.predict("Who delivered the Secret Speech?", 5, "hybrid", api_name="/ask_json")
    assert not data["abstained"] and data["citations"]
    seed = SEED_FILE.read_text(encoding="utf-8")
    for c in data["citations"]:
        assert seed[c["start"]:c["end"]] == c["quote"]
    assert "Khrushchev" in data["text"]
    off = client.predict("What is the capital of Australia?", 5, "hybrid", api_name="/ask_json")
    assert off["abstained"] and off["citations"] == [] and off["hits"]
    bad = client.predict("   ", 5, "hybrid", api_name="/ask_json")
    assert "question is empty" in bad["error"]


def test_upload_through_the_app_is_indexed_and_searchable(server, tmp_path):
    from gradio_client import Client, handle_file

    note = tmp_path / "quokka notes.md"
    note.write_text("# Quokkas\n\nQuokkas live on Rottnest Island and smile for photographs.")
    bad = tmp_path / "payload.exe"
    bad.write_bytes(b"MZ")
    client = Client(server["url"], verbose=False)
    with pytest.raises(Exception, match="Invalid file type"):  # refused before our own check
        client.predict([handle_file(str(bad))], api_name="/upload")
    status = client.predict([handle_file(str(note))], api_name="/upload")
    assert "1 added" in status
    stored = server["uploads"] / "quokka_notes.md"
    assert stored.read_text().startswith("# Quokkas")
    assert not (server["uploads"] / "payload.exe").exists()
    assert not (server["folder"] / "uploads").exists()  # the served folder is left alone
    again = client.predict([handle_file(str(note))], api_name="/upload")
    assert "already indexed as uploads/quokka_notes.md" in again
    data = client.predict("Where do quokkas live?", 3, "hybrid", api_name="/ask_json")
    assert data["citations"] and data["citations"][0]["passage"]["source"] == \
        "uploads/quokka_notes.md"
    assert "Rottnest Island" in data["text"]


def _browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    return pw, browser


def _chat_page(browser, server, width: int = 1280, height: int = 900):
    """A page on the chat, ready for a question, and the list of requests it makes off
    127.0.0.1 (which must stay empty)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    off_machine: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(
        ("http://127.0.0.1", "data:", "blob:")) else off_machine.append(r.url))
    page.goto(server["url"])
    page.wait_for_selector("#question textarea", timeout=60_000)
    return page, off_machine


def _ask(page, question: str, turns_before: int) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        f"document.querySelectorAll('#chat .msg.bot').length > {turns_before}", timeout=60_000)


@pytest.mark.browser
def test_browser_chat_answers_with_markers_and_highlight(server):
    pw, browser = _browser()
    try:
        page, off_machine = _chat_page(browser, server)
        _ask(page, "Who delivered the Secret Speech?", 0)
        marker = page.locator("#chat a.cite").first
        assert marker.inner_text() == "[1]"
        highlighted = page.locator("#chat .src mark").first.inner_text()
        assert highlighted and highlighted in SEED_FILE.read_text(encoding="utf-8")
        assert "retrieve" in page.locator("#timings").inner_text()
        _ask(page, "What is the capital of Australia?", 1)
        assert page.locator("#chat .msg.abstain").count() == 1
        # Scroll the conversation to its end, then follow the first answer's marker [1]: its
        # sources, folded since a newer answer came, open and the cited sentence comes into view.
        page.evaluate("document.querySelector('#chat .chat').scrollTop = 1e9")
        assert not page.evaluate(IN_VIEW)
        marker.click()
        page.wait_for_timeout(500)
        assert page.evaluate(IN_VIEW)
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#chat a.cite").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
        assert off_machine == []
    finally:
        browser.close()
        pw.stop()


# The viewer's quote: visible, and inside the visible part of the viewer's scrolled body.
VIEWER_IN_VIEW = """() => {
    const mark = document.getElementById('viewer-mark');
    if (!mark || !mark.checkVisibility()) return false;
    const m = mark.getBoundingClientRect();
    const b = document.querySelector('#viewer .viewer-body').getBoundingClientRect();
    return m.height > 0 && m.top >= b.top - 1 && m.bottom <= b.bottom + 1;
}"""


def _document(server, doc_id: str) -> dict:
    return _json(server, f"api/v1/documents/{doc_id}")


@pytest.mark.browser
def test_browser_marker_opens_the_whole_document_at_its_quote(server):
    pw, browser = _browser()
    try:
        page, off_machine = _chat_page(browser, server)
        _ask(page, "When did Khrushchev speak at the congress, and for how long?", 0)
        link = page.locator("#chat a.cite").first
        t0 = time.perf_counter()
        link.click()
        page.wait_for_function(VIEWER_IN_VIEW, timeout=5_000)
        print(f"marker -> quote in view: {(time.perf_counter() - t0) * 1000:.0f} ms")
        doc = _document(server, link.get_attribute("data-doc"))
        start, end = int(link.get_attribute("data-start")), int(link.get_attribute("data-end"))
        assert page.locator("#viewer-mark").inner_text() == doc["text"][start:end]
        # The whole document is there, not just the passage.
        assert page.locator("#viewer .viewer-text").inner_text().strip() == doc["text"].strip()
        cites = page.locator("#chat .msg.bot").first.locator("a.cite").count()
        assert f"citation 1 of {cites}" in page.locator("#viewer .viewer-title").inner_text()
        if cites > 1:
            page.locator("#viewer button[data-step='1']").click()
            page.wait_for_function("document.querySelector('#viewer .viewer-title')"
                                   ".textContent.includes('citation 2 of')", timeout=5_000)
            assert page.evaluate(VIEWER_IN_VIEW)
        # A PDF citation opens its page as an image, the quote boxed, the text a toggle away.
        _ask(page, "What shattered the Pemberton lens?", 1)
        pdf_link = page.locator("#chat .msg.bot").nth(1).locator("a.cite").first
        assert pdf_link.get_attribute("data-page") == "2"
        pdf_link.click()
        page.wait_for_function("(() => { const i = document.querySelector('#viewer "
                               "img.viewer-page'); return i && i.complete && "
                               "i.naturalWidth > 0; })()", timeout=10_000)
        src = page.locator("#viewer img.viewer-page").get_attribute("src")
        assert "/pages/2.png?start=" in src
        with urllib.request.urlopen(server["url"] + src.lstrip("/")) as r:
            assert r.headers["X-Quote-Boxes"] not in ("", "[]")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "viewer.png"), full_page=True)
        assert off_machine == []
    finally:
        browser.close()
        pw.stop()


# The screen point at the middle of ``phrase`` inside the viewer's text.
PHRASE_POINT = """(phrase) => {
    const root = document.querySelector('#viewer .viewer-text');
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
        const at = node.textContent.indexOf(phrase);
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + phrase.length);
        const body = document.querySelector('#viewer .viewer-body');
        body.scrollIntoView({block: 'center'});
        const b = body.getBoundingClientRect();
        body.scrollTop += range.getClientRects()[0].top - b.top - b.height / 2;
        const r = range.getClientRects()[0];
        return [r.left + Math.min(20, r.width / 2), r.top + r.height / 2];
    }
    return null;
}"""


@pytest.mark.browser
def test_browser_grading_three_answers_writes_an_exact_set_that_runs(server):
    import json

    pw, browser = _browser()
    try:
        page, off_machine = _chat_page(browser, server)

        def status(turn: int) -> str:
            bar = page.locator("#chat .msg.bot").nth(turn).locator(".grade-status")
            page.wait_for_function("(el) => el.textContent.includes('eval set')",
                                   arg=bar.element_handle(), timeout=10_000)
            return bar.inner_text()

        _ask(page, "When did Khrushchev give the Secret Speech?", 0)
        page.locator("#chat .msg.bot").nth(0).locator("button[data-grade='right']").click()
        first = status(0)
        _ask(page, "How long did the address last?", 1)
        page.locator("#chat .msg.bot").nth(1).locator("button[data-grade='wrong']").click()
        page.wait_for_selector("#viewer.marking .viewer-text", timeout=10_000)
        x, y = page.evaluate(PHRASE_POINT, "spoke for over four hours")
        page.mouse.click(x, y)
        second = status(1)
        _ask(page, "What is the capital of Australia?", 2)
        bot = page.locator("#chat .msg.bot").nth(2)
        assert bot.get_attribute("class").endswith("abstain")
        bot.locator("button[data-grade='unanswerable']").first.click()
        third = status(2)
        assert "eval set" in first and "eval set" in second and "eval set" in third
        path = server["folder"] / ".rag-index-eval.jsonl"
        rows = [json.loads(x) for x in path.read_text().splitlines()]
        graded = {r["question"]: r for r in rows}
        assert {"When did Khrushchev give the Secret Speech?", "How long did the address last?",
                "What is the capital of Australia?"} <= set(graded)
        assert graded["What is the capital of Australia?"]["answerable"] is False
        marked = graded["How long did the address last?"]["expected"][0]
        assert "spoke for over four hours" in marked["quote"]
        # Every quote is exactly the document's text at its offsets.
        docs = {d["source"]: d for d in _json(server, "api/v1/documents?limit=500")["documents"]}
        for row in rows:
            for e in row["expected"]:
                text = _document(server, docs[e["source"]]["id"])["text"]
                assert text[e["start"]:e["end"]] == e["quote"]
        # The set runs from the chat.
        page.get_by_text("Evaluation: your graded answers").click()
        page.locator("#eval-refresh").click()
        page.wait_for_selector("#eval-panel .eval-list table tr:nth-child(2)", timeout=10_000)
        page.locator("#eval-run").click()
        page.wait_for_selector("#eval-panel .eval-metrics", timeout=60_000)
        assert "hit@5" in page.locator("#eval-panel .eval-metrics").inner_text()
        assert off_machine == []
    finally:
        browser.close()
        pw.stop()


@pytest.mark.browser
def test_browser_marks_the_answer_in_a_document_the_answer_never_cited(server):
    """"wrong: mark the answer" finds any indexed document by its title or words."""
    import json

    pw, browser = _browser()
    try:
        page, off_machine = _chat_page(browser, server)
        question = "Where did the replacement lens come from?"
        _ask(page, question, 0)
        page.locator("#chat .msg.bot").nth(0).locator("button[data-grade='wrong']").first.click()
        page.wait_for_selector("#viewer.marking .viewer-find input", timeout=10_000)
        box = page.locator("#viewer .viewer-find input")
        box.fill("Pemberton lens")
        box.press("Enter")
        page.wait_for_selector("#viewer button.viewer-doc", timeout=10_000)
        page.locator("#viewer button.viewer-doc", has_text="light.pdf").first.click()
        page.wait_for_function("document.querySelector('#viewer .viewer-text') && document"
                               ".querySelector('#viewer .viewer-text').textContent.includes("
                               "'arrived from Paris')", timeout=10_000)
        assert "Click the sentence that answers" in page.locator(
            "#viewer .viewer-title").inner_text()
        x, y = page.evaluate(PHRASE_POINT, "arrived from Paris")
        page.mouse.click(x, y)
        bar = page.locator("#chat .msg.bot").nth(0).locator(".grade-status")
        page.wait_for_function("(el) => el.textContent.includes('eval set')",
                               arg=bar.element_handle(), timeout=10_000)
        rows = [json.loads(x) for x in (server["folder"] / ".rag-index-eval.jsonl")
                .read_text().splitlines()]
        (row,) = [r for r in rows if r["question"] == question]
        assert row["expected"][0]["source"] == "light.pdf"
        assert row["expected"][0]["quote"] == "A new lens arrived from Paris the next spring."
        assert off_machine == []
    finally:
        browser.close()
        pw.stop()


@pytest.mark.browser
def test_browser_on_a_narrow_screen_the_viewer_opens_where_it_is_seen(server):
    pw, browser = _browser()
    try:
        page, off_machine = _chat_page(browser, server, 900, 800)
        _ask(page, "Who delivered the Secret Speech?", 0)
        page.locator("#chat a.cite").first.click()
        page.wait_for_function(VIEWER_IN_VIEW, timeout=5_000)
        top, bottom, height = page.evaluate(
            "() => { const r = document.getElementById('viewer').getBoundingClientRect();"
            " return [r.top, r.bottom, window.innerHeight]; }")
        assert 0 <= top and bottom <= height, (top, bottom, height)
        mark = page.evaluate("() => document.getElementById('viewer-mark')"
                             ".getBoundingClientRect().top")
        assert 0 <= mark < height and off_machine == []
    finally:
        browser.close()
        pw.stop()


def _json(server, path: str) -> dict:
    import json

    with urllib.request.urlopen(server["url"] + path) as r:
        return json.loads(r.read())


@pytest.mark.browser
def test_browser_runs_nothing_from_a_hostile_document(server):
    pw, browser = _browser()
    try:
        page = browser.new_page()
        dialogs, off_machine = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: None if r.url.startswith(
            ("http://127.0.0.1", "data:", "blob:")) else off_machine.append(r.url))
        page.goto(server["url"])
        page.wait_for_selector("#question textarea", timeout=60_000)
        _ask(page, "How are pineapples grown and harvested by farmers?", 0)
        # Make every passage visible, including the full retrieved list.
        page.get_by_text("All retrieved passages").click()
        page.wait_for_timeout(1500)
        chat_text = page.locator("#chat").inner_text()
        assert "<script>" in chat_text or "<img" in chat_text  # shown literally
        injected = page.locator("#chat script, #chat img, #chat iframe, #passages script, "
                                "#passages img, #passages iframe, a[href^='javascript']")
        assert injected.count() == 0
        # The hostile document opened whole in the viewer: shown as text, nothing runs.
        page.locator("#chat a.cite").first.click()
        page.wait_for_selector("#viewer-mark", timeout=5_000)
        page.wait_for_timeout(500)
        viewer = page.locator("#viewer .viewer-body")
        assert "<script>" in viewer.inner_text()
        assert page.locator("#viewer script, #viewer iframe, #viewer .viewer-text img, "
                            "#viewer a[href^='javascript']").count() == 0
        assert dialogs == [] and off_machine == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "injection.png"), full_page=True)
    finally:
        browser.close()
        pw.stop()


@pytest.mark.browser
def test_browser_examples_ask_at_once_newest_in_view_older_sources_folded(server):
    pw, browser = _browser()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(server["url"])
        page.wait_for_selector("#question textarea", timeout=60_000)
        # The header says what is indexed; the Documents panel lists it.
        header = page.locator("#header").inner_text()
        assert "documents" in header and "passages indexed" in header
        page.get_by_text("Documents", exact=True).click()
        assert SEED_FILE.name in page.locator("#doc-list").inner_text()
        # One click on an example asks it.
        page.locator("#examples button, #examples .gallery-item, #examples td").first.click()
        page.wait_for_function("document.querySelectorAll('#chat .msg.bot').length > 0",
                               timeout=60_000)
        for n, q in enumerate(["How did listeners react to the speech?",
                               "What happened to Stalin's body after the 22nd Party Congress?",
                               "Who is buried in the Red Square mausoleum?"], start=1):
            _ask(page, q, n)
        page.wait_for_timeout(500)
        # The newest answer is in view inside the conversation box.
        newest_in_view = page.evaluate("""() => {
            const box = document.querySelector('#chat .chat').getBoundingClientRect();
            const bots = document.querySelectorAll('#chat .msg.bot');
            const m = bots[bots.length - 1].getBoundingClientRect();
            return m.top < box.bottom && m.bottom > box.top && m.top < window.innerHeight;
        }""")
        assert newest_in_view
        # Only the newest answer keeps its sources open.
        opened = page.evaluate("""() => Array.from(document.querySelectorAll(
            '#chat details.sources')).map(d => d.open)""")
        assert opened[-1] and not any(opened[:-1])
    finally:
        browser.close()
        pw.stop()


def test_the_rest_api_is_mounted_beside_the_chat(server):
    import json

    base = server["url"] + "api/v1"
    assert json.load(urllib.request.urlopen(base + "/health", timeout=10)) == {"status": "ok"}
    req = urllib.request.Request(base + "/search", data=b'{"query": "Tsar-bomba", "k": 1}',
                                 headers={"content-type": "application/json"})
    hits = json.load(urllib.request.urlopen(req, timeout=60))
    assert "Tsar-bomba" in hits[0]["passage"]["text"]


@pytest.mark.browser
def test_browser_api_docs_page_renders_offline(server):
    pw, browser = _browser()
    try:
        page = browser.new_page()
        off_machine = []
        page.on("request", lambda r: None if r.url.startswith(
            ("http://127.0.0.1", "data:", "blob:")) else off_machine.append(r.url))
        page.goto(server["url"] + "api/v1/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
        assert "rag API" in page.title()
        assert page.locator(".opblock-summary-path").filter(has_text="/api/v1/ask").count() >= 1
        assert off_machine == []
    finally:
        browser.close()
        pw.stop()


@pytest.mark.browser
def test_browser_written_answer_streams_then_shows_only_what_its_quotes_support(tmp_path):
    from llm_standin import StandIn, passage_with

    def reply(messages):
        n = passage_with(messages, "spoke for over four hours")
        return (f"Khrushchev spoke for more than four hours [{n}]. "
                f"He spoke for <b>six</b> hours [{n}].")

    folder = copy_seed(tmp_path / "docs")
    port = _free_port()
    with StandIn(reply, chunk_delay=0.15) as llm:
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", str(folder),
                                 "--index", str(tmp_path / "idx"), "--port", str(port),
                                 "--llm", llm.url], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/"
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        pw, browser = _browser()
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            page.wait_for_selector("#question textarea", timeout=60_000)
            assert "Answers written by" in page.locator("#header").inner_text()
            box = page.locator("#question textarea")
            box.fill("How long did Khrushchev's address last?")
            box.press("Enter")
            page.wait_for_selector("#chat .msg.writing", timeout=60_000)  # shown as written
            page.wait_for_function("document.querySelectorAll('#chat .msg.bot').length > 0 && "
                                   "!document.querySelector('#chat .msg.writing')",
                                   timeout=60_000)
            bubble = page.locator("#chat .msg.bot").last
            text = bubble.inner_text()
            assert "Khrushchev spoke for more than four hours" in text and "Written by" in text
            assert page.locator("#chat .msg.bot b").filter(has_text="six").count() == 0
            summary = bubble.locator("details.dropped summary")
            assert "removed: not supported by the sources (1)" in summary.inner_text()
            summary.click()
            assert "<b>six</b>" in bubble.locator("details.dropped li").inner_text()
            assert bubble.locator("a.cite").first.inner_text() == "[1]"
        finally:
            browser.close()
            pw.stop()
            proc.terminate()
            proc.wait(timeout=20)
