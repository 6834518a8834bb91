import pytest

from conftest import kept_at
from rag import HEDGE_LABEL, Answer, Citation, HashEmbedder, Hit, Passage, Retriever, Settings
from ui import render
from ui.service import ChatService
from ui.chat import Chat

EVIL = ('Pineapples grow on low plants. <script>alert("x")</script> <img src=x onerror=alert(1)> '
        '[link](javascript:alert(2)) ![pic](http://example.com/p.png) <iframe src="http://e.com">')


def _passage(text=EVIL):
    return Passage(id="e:0-1", doc_id="e", source="evil.md", title="<b>Evil</b>", text=text,
                   start=0, end=len(text))


def test_document_text_is_always_escaped():
    p = _passage()
    c = Citation(n=1, passage=p, start=0, end=len(EVIL), quote=EVIL)
    a = Answer(question="q", text=EVIL + " [1]", abstained=False, citations=(c,),
               hits=(Hit(rank=1, score=1.0, passage=p),))
    out = render.answer_html(0, a) + render.hits_html(a.hits)
    for raw in ("<script", "<img", "<iframe", "<b>Evil"):
        assert raw not in out
    assert "&lt;script&gt;" in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert 'href="javascript' not in out


def test_highlight_marks_exactly_the_cited_span():
    text = "First sentence. Second <one> here. Third."
    p = Passage(id="d:10-52", doc_id="d", source="d.txt", title="D", text=text, start=10,
                end=10 + len(text))
    s = 10 + text.index("Second")
    e = s + len("Second <one> here.")
    out = render.highlighted_passage(p, [(s, e, "src-0-1")])
    assert out == 'First sentence. <mark id="src-0-1">Second &lt;one&gt; here.</mark> Third.'
    t = 10 + text.index("Third.")
    two = render.highlighted_passage(p, [(t, t + 6, "b"), (s, e, "a")])
    assert two.endswith('<mark id="a">Second &lt;one&gt; here.</mark> <mark id="b">Third.</mark>')


def test_two_citations_of_one_passage_share_a_card():
    text = "Alpha one. Beta two."
    p = Passage(id="d:0-20", doc_id="d", source="d.txt", title="D", text=text, start=0, end=20)
    cites = (Citation(1, p, 0, 10, "Alpha one."), Citation(2, p, 11, 20, "Beta two."))
    out = render.source_cards(3, cites)
    assert out.count('class="src"') == 1 and "[1] [2]" in out
    assert 'id="src-3-1"' in out and 'id="src-3-2"' in out


def test_abstention_looks_different_and_offers_closest_passages():
    p = _passage("Nearby text.")
    a = Answer(question="q", text="The sources do not contain an answer to this question.",
               abstained=True, hits=(Hit(rank=1, score=0.1, passage=p),))
    out = render.answer_html(0, a)
    assert 'class="msg bot abstain"' in out and "Not in the sources" in out
    assert "Closest passages" in out and "Nearby text." in out and "cite" not in out


def test_every_answer_says_how_sure_and_a_hedge_is_drawn_apart():
    p = _passage("The tower is white.")
    c = Citation(n=1, passage=p, start=0, end=19, quote="The tower is white.")
    hits = (Hit(rank=1, score=0.4, passage=p),)
    sure = render.answer_html(0, Answer(question="q", text="The tower is white. [1]",
                                        abstained=False, citations=(c,), hits=hits,
                                        confidence=0.91, short="white"))
    hedged = render.answer_html(0, Answer(question="q", text="The tower is white. [1]",
                                          abstained=False, citations=(c,), hits=hits,
                                          confidence=0.27, hedged=True))
    refused = render.answer_html(0, Answer(question="q", text="no", abstained=True, hits=hits,
                                           confidence=0.04))
    assert 'class="sureness answered"' in sure and "confidence 0.91" in sure
    assert 'class="msg bot"' in sure and HEDGE_LABEL not in sure and "<b>white</b>" in sure
    assert 'class="msg bot hedge"' in hedged and 'class="sureness hedged"' in hedged
    assert "May not answer" in hedged and HEDGE_LABEL in hedged and "confidence 0.27" in hedged
    assert 'class="sureness abstained"' in refused and "confidence 0.04" in refused


@pytest.fixture
def service(tmp_path, store_kind):
    """The chat's service on each store (the Milvus one refreshed in place after uploads)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The lighthouse was built in 1874. Its lamp was electrified "
                                  "in 1910 by the harbour company.")
    where = kept_at(store_kind, tmp_path)
    r = Retriever.from_folder(folder, embedder=HashEmbedder(),
                              settings=Settings(reader="heuristic", abstain_threshold=0.3),
                              **where)
    yield ChatService(folder, where.get("index"), tmp_path / "idx-uploads",
                      store=where.get("store"), retriever=r)
    r.close()


def test_respond_appends_a_cited_turn(service):
    reply = Chat(service).respond("When was the lamp electrified?", [], 5, "hybrid")
    assert len(reply.turns) == 1
    assert 'href="#src-0-1"' in reply.chat and '<mark id="src-0-1">' in reply.chat
    assert "retrieve" in reply.timings
    again = Chat(service).respond("Who built the lighthouse?", reply.turns, 5, "hybrid")
    assert len(again.turns) == 2 and 'id="src-1-1"' in again.chat


def test_a_follow_up_shows_what_it_was_read_as(service):
    first = Chat(service).respond("When was the lighthouse built?", [], 5, "hybrid")
    follow = Chat(service).respond("When was its lamp electrified?", first.turns, 5, "hybrid")
    assert "Read as: When was the lighthouse’s lamp electrified?" in follow.chat
    assert "Read as" not in first.chat


def test_errors_become_a_message_not_a_trace(service, monkeypatch):
    reply = Chat(service).respond("x", [], 0, "hybrid")  # k=0 is refused by the library
    assert "Sorry: k=0" in reply.chat and "Traceback" not in reply.chat

    def boom(*a, **k):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(service.retriever, "ask", boom)
    reply = Chat(service).respond("anything", [], 5, "hybrid")
    assert "something went wrong" in reply.chat and "internal detail" not in reply.chat


def test_upload_stores_safely_and_indexes(service, tmp_path):
    src = tmp_path / "upload-tmp"
    src.mkdir()
    (src / "tea.md").write_text("Green tea comes from China and Japan.")
    (src / "bad.exe").write_bytes(b"MZ")
    status = service.upload([("../../tea.md", str(src / "tea.md")),
                             ("bad.exe", str(src / "bad.exe"))])
    assert "1 added" in status and "not accepted" in status
    # Stored beside the index, never inside the folder being served (nor where the name points).
    assert (tmp_path / "idx-uploads" / "tea.md").exists()
    assert not (service.folder / "uploads").exists() and not (tmp_path / "tea.md").exists()
    assert service.retriever.search("green tea", k=1)[0].passage.source == "uploads/tea.md"


def test_same_content_is_not_stored_twice_and_uploads_can_be_removed(service, tmp_path):
    src = tmp_path / "upload-tmp"
    src.mkdir()
    (src / "tea.md").write_text("Green tea comes from China and Japan.")
    (src / "copy.md").write_text("Green tea comes from China and Japan.")
    (src / "seed-copy.txt").write_text((service.folder / "a.txt").read_text())
    status = service.upload([("tea.md", str(src / "tea.md")), ("copy.md", str(src / "copy.md")),
                             ("seed-copy.txt", str(src / "seed-copy.txt"))])
    assert "1 added" in status
    assert "copy.md: already indexed as uploads/tea.md" in status
    assert "seed-copy.txt: already indexed as a.txt" in status
    assert sorted(p.name for p in (tmp_path / "idx-uploads").iterdir()) == ["tea.md"]
    again = service.upload([("tea.md", str(src / "tea.md"))])
    assert "already indexed as uploads/tea.md" in again
    infos = {d.source: d for d in service.documents()}
    assert set(infos) == {"a.txt", "uploads/tea.md"} and infos["uploads/tea.md"].passages == 1
    assert infos["a.txt"].added and infos["uploads/tea.md"].pages is None
    assert [label for label, _ in service.removable()] == ["Green tea comes from China and Japan. "
                                                           "(uploads/tea.md)"]
    # Only uploads can be removed; removing one drops its file and its passages.
    assert "part of the served folder" in service.remove(infos["a.txt"].id)
    status = service.remove(infos["uploads/tea.md"].id)
    assert status.startswith("Removed uploads/tea.md")
    assert not (tmp_path / "idx-uploads" / "tea.md").exists()
    assert [d.source for d in service.documents()] == ["a.txt"]
    left = service.retriever.search("green tea lighthouse", k=10)
    assert left and all(h.passage.source == "a.txt" for h in left)
    assert "Green tea" not in " ".join(h.passage.text for h in left)
    assert service.header() == "1 document · 1 passage indexed"


def test_uploads_inside_the_served_folder_are_refused(tmp_path):
    from rag import RagError

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Some text here.")
    with pytest.raises(RagError, match="inside the served folder"):
        ChatService(folder, tmp_path / "idx", folder / "uploads")


def test_an_index_inside_the_served_folder_keeps_uploads_beside_it_hidden(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The lighthouse was built in 1874.")
    index = folder / ".rag-index"
    r = Retriever.from_folder(folder, index, embedder=HashEmbedder(),
                              settings=Settings(reader="heuristic"))
    service = ChatService(folder, index, retriever=r)  # no --uploads: the default works
    assert service.uploads == folder / ".rag-index-uploads"
    src = tmp_path / "tea.md"
    src.write_text("Green tea comes from China and Japan.")
    assert "1 added" in service.upload([("tea.md", str(src))])
    assert (folder / ".rag-index-uploads" / "tea.md").exists()
    assert [d.source for d in service.documents()] == ["a.txt", "uploads/tea.md"]
    # Refreshed again from disk: the index's and the uploads' files are not documents.
    again = Retriever.from_folder(folder, index, uploads=service.uploads, embedder=HashEmbedder(),
                                  settings=Settings(reader="heuristic"))
    assert again.last_stats.unchanged == 2 and again.last_stats.added == 0


def test_only_the_newest_answer_keeps_its_sources_open(service):
    first = Chat(service).respond("When was the lamp electrified?", [], 5, "hybrid")
    assert first.chat.count('<details class="sources" open>') == 1
    second = Chat(service).respond("Who built the lighthouse?", first.turns, 5, "hybrid")
    assert second.chat.count('<details class="sources" open>') == 1
    assert second.chat.count('<details class="sources">') == 1
    assert second.chat.index('<details class="sources">') < \
        second.chat.index('<details class="sources" open>')


def test_documents_table_is_escaped():
    from rag import DocumentInfo

    table = render.documents_html([DocumentInfo(id="x", source="<b>x.pdf", title="<script>t",
                                                pages=3, passages=7, chars=10,
                                                added="2026-11-27T10:00:00Z")])
    assert "&lt;script&gt;t" in table and "&lt;b&gt;x.pdf" in table and "<script>" not in table
    assert "<td>3</td><td>7</td><td>2026-11-27 10:00</td>" in table


def test_launch_binds_locally_and_takes_auth_from_the_environment(monkeypatch):
    from ui.app import launch_kwargs

    monkeypatch.delenv("RAG_AUTH", raising=False)
    kw = launch_kwargs("127.0.0.1", 7860)
    assert kw["server_name"] == "127.0.0.1" and "auth" not in kw
    monkeypatch.setenv("RAG_AUTH", "ann:s3cret:with-colon")
    assert launch_kwargs("0.0.0.0", 8000)["auth"] == ("ann", "s3cret:with-colon")


def test_short_answer_is_bold_and_escaped_with_the_citation_page():
    text = "On <3 May> the <b>launch</b> happens."
    p = Passage(id="d:0-37", doc_id="d", source="d.pdf", title="D", text=text, start=100,
                end=100 + len(text), page=1)
    c = Citation(n=1, passage=p, start=100, end=100 + len(text), quote=text, page=2,
                 answer_start=103, answer_end=110)
    a = Answer(question="When?", text=text + " [1]", abstained=False, citations=(c,),
               short="<3 May>")
    out = render.answer_html(0, a)
    assert '<p class="short"><b>&lt;3 May&gt;</b></p>' in out
    assert "On <b>&lt;3 May&gt;</b> the &lt;b&gt;launch&lt;/b&gt; happens." in out
    # The cited sentence's page (2), not the passage's (1), said once.
    assert "page 2, characters 100–137" in out
    assert "p.2" not in out and "page 1" not in out


def test_a_written_answer_links_its_markers_and_folds_what_was_removed_all_escaped():
    from rag import Dropped

    text = "Tea <b>grows</b> in China."
    p = Passage(id="d:0", doc_id="d", source="d.txt", title="D", text=text, start=0,
                end=len(text))
    c = Citation(n=1, passage=p, start=0, end=len(text), quote=text)
    a = Answer(question="Where?", text="Tea <script>x</script> grows in China [1] and [7]",
               abstained=False, citations=(c,), generated=True, model="m<1>",
               dropped=(Dropped("It <img src=x onerror=alert(1)> rains [2].", "no <i>marker"),))
    out = render.answer_html(0, a)
    assert ('<a class="cite" href="#src-0-1" data-n="1" data-doc="d" data-start="0" '
            f'data-end="{len(text)}">[1]</a>') in out
    assert "and [7]" in out and 'data-n="7"' not in out  # no citation 7: left as text
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<img" not in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "removed: not supported by the sources (1)" in out and "no &lt;i&gt;marker" in out
    assert "Written by m&lt;1&gt;" in out
    assert "&lt;b&gt;" in render.writing_html("<b>so far")


def test_the_chat_streams_a_written_answer_then_shows_the_checked_one(tmp_path):
    from llm_standin import StandIn

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The lighthouse was built in 1874.")
    r = Retriever.from_folder(folder, tmp_path / "idx", embedder=HashEmbedder(),
                              settings=Settings(reader="heuristic", abstain_threshold=0.0))
    with StandIn(lambda m: "NOT IN THE SOURCES") as server:
        service = ChatService(folder, tmp_path / "idx", retriever=r,
                              llm={"llm_url": server.url, "llm_model": "standin-1"})
        assert "Answers written by standin-1" in service.answerer()
        replies = list(Chat(service).respond_stream("Who built it?", [], 5, "hybrid"))
        assert len(replies) >= 2 and "Writing" in replies[0].chat
        assert "Not in the sources" in replies[-1].chat and "Writing" not in replies[-1].chat
        asked = len(server.requests)
        quotes = Chat(service).respond("When was the lighthouse built?", [], 5, "hybrid",
                                 written=False)
        assert len(server.requests) == asked and "1874" in quotes.chat
