"""The Gradio chat. Offline: local fonts only, analytics off, nothing fetched from elsewhere."""
from __future__ import annotations

import os
from pathlib import Path

from rag import MODES, RagError

from . import render, uploads
from .service import ChatService

CHAT_CONCURRENCY = 8  # questions answered at once (docs/decisions.md, "The retriever as a service")

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


# After each answer: bring the newest message into view (the conversation scrolls inside its box).
SCROLL_JS = """() => {
    const box = document.querySelector('#chat .chat');
    if (!box) return;
    box.scrollTop = box.scrollHeight;
    const users = box.querySelectorAll('.msg.user');
    const last = users[users.length - 1];
    if (last) last.scrollIntoView({block: 'start', behavior: 'instant'});
}"""


# A marker [n] opens its answer's sources when they are folded, then shows the cited sentence;
# it (and a source's "open") also opens the whole document in the viewer beside the chat,
# fetched from the REST API, the quote marked and scrolled into view (a PDF: its page as an
# image with the quote boxed, the text a toggle away). Document text is only ever set as text
# (textContent), never parsed as HTML.
OPEN_CITED_JS = """() => {
    const api = '/api/v1/documents/';
    let cites = [], at = 0;
    function el(tag, cls, text) {
        const e = document.createElement(tag);
        if (cls) e.className = cls;
        if (text !== undefined) e.textContent = text;
        return e;
    }
    let shown = null;  // the document in the viewer: {id, doc}
    async function show(i) {
        const box = document.getElementById('viewer');
        if (!box || !cites.length) return;
        at = (i + cites.length) % cites.length;
        const link = cites[at], id = link.dataset.doc;
        const start = +link.dataset.start, end = +link.dataset.end, page = link.dataset.page;
        const head = box.querySelector('.viewer-title'), body = box.querySelector('.viewer-body');
        const res = await fetch(api + encodeURIComponent(id));
        if (!res.ok) { head.textContent = 'The document could not be opened.'; return; }
        const doc = await res.json();
        shown = {id: id, doc: doc};
        head.textContent = (doc.title || doc.source) + ' (' + doc.source
            + (page ? ', page ' + page : '') + ') · citation ' + (at + 1) + ' of ' + cites.length;
        body.replaceChildren();
        const text = el('div', 'viewer-text');
        const mark = el('mark', '', doc.text.slice(start, end));
        mark.id = 'viewer-mark';
        text.append(doc.text.slice(0, start), mark, doc.text.slice(end));
        if (page && doc.source.toLowerCase().endsWith('.pdf')) {
            const img = el('img', 'viewer-page');
            img.alt = 'page ' + page;
            img.src = api + encodeURIComponent(id) + '/pages/' + page + '.png?start=' + start
                + '&end=' + end;
            const toggle = el('details', 'viewer-toggle');
            toggle.append(el('summary', '', 'Show the text'), text);
            body.append(img, toggle);
        } else {
            body.append(text);
        }
        box.classList.add('open');
        body.scrollTop = Math.max(0, mark.offsetTop - body.clientHeight / 2);
    }
    const post = (url, body) => fetch(url, {method: body === undefined ? 'GET' : 'POST',
        headers: {'content-type': 'application/json'},
        body: body === undefined ? undefined : JSON.stringify(body)});
    let marking = null;  // the grade bar waiting for the sentence that answers
    async function grade(bar, kind, span) {
        const status = bar.querySelector('.grade-status');
        const body = {question: bar.dataset.question, grade: kind};
        if (span) Object.assign(body, span);
        const res = await post('/api/v1/feedback', body);
        const out = await res.json();
        status.textContent = res.ok ? 'added to the eval set (' + out.total + ' questions)'
            : (out.error || 'not added');
        bar.dataset.graded = res.ok ? kind : '';
    }
    function caretOffset(container, x, y) {
        const r = document.caretRangeFromPoint ? document.caretRangeFromPoint(x, y) : null;
        if (!r || !container.contains(r.startContainer)) return -1;
        const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
        let offset = 0, node;
        while ((node = walker.nextNode())) {
            if (node === r.startContainer) return offset + r.startOffset;
            offset += node.textContent.length;
        }
        return -1;
    }
    async function renderSet() {
        const panel = document.getElementById('eval-panel');
        const list = panel.querySelector('.eval-list');
        const res = await post('/api/v1/feedback');
        const data = await res.json();
        const table = el('table');
        const head = el('tr');
        ['id', 'question', 'expected', ''].forEach((h) => head.append(el('th', '', h)));
        table.append(head);
        for (const q of data.questions || []) {
            const row = el('tr');
            const quote = q.answerable ? q.expected.map((e) => e.quote).join(' / ')
                : '(not in the sources)';
            row.append(el('td', '', q.id), el('td', '', q.question), el('td', '', quote));
            const cell = el('td');
            const remove = el('button', 'eval-remove', 'remove');
            remove.dataset.qid = q.id;
            cell.append(remove);
            row.append(cell);
            table.append(row);
        }
        list.replaceChildren(el('div', '', (data.questions || []).length
            + ' graded questions in ' + data.path), table);
    }
    async function runSet() {
        const panel = document.getElementById('eval-panel');
        const out = panel.querySelector('.eval-result');
        out.replaceChildren(el('div', '', 'Running…'));
        const res = await post('/api/v1/feedback/evaluate', {});
        const data = await res.json();
        if (!res.ok) { out.replaceChildren(el('div', '', data.error || 'failed')); return; }
        const last = JSON.parse(localStorage.getItem('rag-last-eval') || 'null');
        const table = el('table', 'eval-metrics');
        const head = el('tr');
        ['metric', 'this run', 'last run', 'change'].forEach((h) => head.append(el('th', '', h)));
        table.append(head);
        for (const m of ['hit@5', 'mrr@10', 'answer_supported', 'citation_precision',
                         'abstain_recall']) {
            if (!(m in data.metrics)) continue;
            const v = data.metrics[m], before = last && last[m];
            const row = el('tr');
            row.append(el('td', '', m), el('td', '', v.toFixed(3)),
                       el('td', '', before === undefined || before === null ? '–'
                           : before.toFixed(3)),
                       el('td', '', before === undefined || before === null ? '–'
                           : (v - before >= 0 ? '+' : '') + (v - before).toFixed(3)));
            table.append(row);
        }
        localStorage.setItem('rag-last-eval', JSON.stringify(data.metrics));
        const fails = el('table', 'eval-failures');
        const fh = el('tr');
        ['question', 'expected', 'cited'].forEach((h) => fh.append(el('th', '', h)));
        fails.append(fh);
        for (const f of data.failures) {
            const row = el('tr');
            row.append(el('td', '', f.question), el('td', '', f.expected.join(' / ') || '(none)'),
                       el('td', '', f.abstained ? '(abstained)' : f.cited.join(' / ')));
            fails.append(row);
        }
        out.replaceChildren(el('div', '', data.questions + ' questions, '
            + data.failures.length + ' failed'), table, fails);
    }
    // Marking the sentence that answers: in the document shown, or in any other one found by
    // its title or words (the answer may be in a file the answer never cited).
    function markHere(bar) {
        const box = document.getElementById('viewer');
        const toggle = box.querySelector('details.viewer-toggle');
        if (toggle) toggle.open = true;
        box.classList.add('marking');
        marking = bar;
        box.querySelector('.viewer-title').textContent =
            'Click the sentence that answers: ' + bar.dataset.question;
        bar.querySelector('.grade-status').textContent = 'click the sentence in the viewer';
    }
    async function findDocuments(query) {
        const box = document.getElementById('viewer');
        const out = box.querySelector('.viewer-found');
        const words = query.trim().toLowerCase();
        if (!words) { out.replaceChildren(); return; }
        const listed = await (await post('/api/v1/documents?limit=500')).json();
        const found = new Map();
        for (const d of listed.documents || []) {
            if (!d.error && ((d.title || '').toLowerCase().includes(words)
                             || d.source.toLowerCase().includes(words))) found.set(d.id, d);
        }
        const res = await post('/api/v1/search', {query: query, k: 10});
        if (res.ok) {
            const byId = new Map((listed.documents || []).map((d) => [d.id, d]));
            for (const h of await res.json()) {
                const d = byId.get(h.passage.doc_id);
                if (d) found.set(d.id, d);
            }
        }
        const buttons = [...found.values()].slice(0, 10).map((d) => {
            const b = el('button', 'viewer-doc', (d.title || d.source) + ' (' + d.source + ')');
            b.dataset.doc = d.id;
            return b;
        });
        out.replaceChildren(buttons.length ? el('span', '', 'Open: ')
                            : el('span', '', 'No document found.'), ...buttons);
    }
    document.addEventListener('keydown', (event) => {
        const input = event.target.closest && event.target.closest('#viewer .viewer-find input');
        if (input && event.key === 'Enter') { event.preventDefault(); findDocuments(input.value); }
    }, true);
    document.addEventListener('click', async (event) => {
        const t = event.target;
        if (!t.closest) return;
        if (t.closest('#eval-refresh')) { renderSet(); return; }
        if (t.closest('#eval-run')) { runSet(); return; }
        const rm = t.closest('button.eval-remove');
        if (rm) {
            await fetch('/api/v1/feedback/' + encodeURIComponent(rm.dataset.qid),
                        {method: 'DELETE'});
            renderSet();
            return;
        }
        const gbtn = t.closest('.grade button.grade-btn');
        if (gbtn) {
            const bar = gbtn.closest('.grade'), kind = gbtn.dataset.grade;
            if (kind !== 'wrong') {
                const span = kind === 'right' ? {doc_id: bar.dataset.doc,
                    start: +bar.dataset.start, end: +bar.dataset.end} : null;
                grade(bar, kind, span);
                return;
            }
            // Wrong: open the cited (or closest) document and wait for a sentence.
            const link = el('a');
            link.dataset.doc = bar.dataset.doc || bar.dataset.nearDoc;
            link.dataset.start = bar.dataset.start || bar.dataset.nearStart;
            link.dataset.end = bar.dataset.end || bar.dataset.nearEnd;
            if (bar.dataset.page) link.dataset.page = bar.dataset.page;
            cites = [link];
            await show(0);
            const box = document.getElementById('viewer');
            const toggle = box.querySelector('details.viewer-toggle');
            if (toggle) toggle.open = true;
            markHere(bar);
            return;
        }
        const text = t.closest('#viewer.marking .viewer-text');
        if (text && marking && shown) {
            const at = caretOffset(text, event.clientX, event.clientY);
            const sentence = shown.doc.sentences.find(([s, e]) => s <= at && at < e);
            if (!sentence) return;
            const bar = marking;
            marking = null;
            document.getElementById('viewer').classList.remove('marking');
            grade(bar, 'wrong', {doc_id: shown.id, start: sentence[0], end: sentence[1]});
            return;
        }
        const other = t.closest('#viewer button.viewer-doc');
        if (other && marking) {
            const link = el('a');
            link.dataset.doc = other.dataset.doc;
            link.dataset.start = 0;
            link.dataset.end = 0;
            cites = [link];
            await show(0);
            markHere(marking);
            return;
        }
        const nav = t.closest('#viewer button[data-step]');
        if (nav) { show(at + +nav.dataset.step); return; }
        if (t.closest('#viewer button.viewer-close')) {
            document.getElementById('viewer').classList.remove('open'); return;
        }
        const opener = t.closest('a.open-doc');
        const link = t.closest('a.cite');
        if (!link && !opener) return;
        event.preventDefault();
        const msg = (link || opener).closest('.msg');
        cites = msg ? [...msg.querySelectorAll('a.cite[data-doc]')] : [];
        if (opener) cites = [opener];
        if (link && link.dataset.doc) show(Math.max(0, cites.indexOf(link)));
        else if (opener) show(0);
        if (!link) return;
        const target = document.getElementById(link.getAttribute('href').slice(1));
        if (!target) return;
        const details = target.closest('details');
        if (details) details.open = true;
        target.scrollIntoView({block: 'center'});
    }, true);
}"""

EVAL_HTML = ('<div id="eval-panel"><p>Each answer graded right or wrong (with the sentence '
             'that answers) or "not in the sources" is a question of this set, kept beside '
             'the index; `rag eval --index DIR` runs it too.</p>'
             '<button id="eval-refresh">Show the set</button> '
             '<button id="eval-run">Run evaluation</button>'
             '<div class="eval-list"></div><div class="eval-result"></div></div>')

VIEWER_HTML = ('<div id="viewer"><div class="viewer-head"><span class="viewer-title"></span>'
               '<button data-step="-1" title="previous citation">‹</button>'
               '<button data-step="1" title="next citation">›</button>'
               '<button class="viewer-close" title="close">×</button></div>'
               '<div class="viewer-find"><input type="search" placeholder="The answer is in '
               'another document? Its title or words, then Enter"><div class="viewer-found">'
               '</div></div><div class="viewer-body"></div></div>')


def build_app(service: ChatService):
    """The Blocks app around ``service``. API names: /respond, /ask_json, /upload, /remove."""
    import gradio as gr

    with gr.Blocks(title="rag: ask your documents", analytics_enabled=False) as app:
        header = gr.Markdown(_header(service), elem_id="header")
        turns = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.HTML(render.conversation_html([]), elem_id="chat")
                question = gr.Textbox(label="Question", placeholder="Ask, then press Enter",
                                      lines=1, max_lines=3, elem_id="question")
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("Clear", elem_id="clear")
                timings = gr.Markdown("", elem_id="timings")
                offered = service.examples()  # from the index served, never a fixed list
                examples = (gr.Examples(offered, inputs=question, label="Examples",
                                        elem_id="examples") if offered else None)
            with gr.Column(scale=2):
                gr.HTML(VIEWER_HTML, elem_id="viewer-box")
                with gr.Accordion("All retrieved passages", open=False):
                    passages = gr.HTML(render.hits_html([]), elem_id="passages")
                with gr.Accordion("Settings", open=False):
                    k = gr.Slider(1, 20, value=5, step=1, label="Passages to retrieve")
                    mode = gr.Radio(list(MODES), value="hybrid", label="Retrieval mode")
                    has_llm = bool(service.retriever.settings.llm_url)
                    written = gr.Checkbox(has_llm, label="Written answers (LLM), checked "
                                          "against the sources; off: quotes only",
                                          visible=has_llm, elem_id="written")
                with gr.Accordion("Documents", open=False, elem_id="documents"):
                    docs = gr.HTML(render.documents_html(service.documents()),
                                   elem_id="doc-list")
                    to_remove = gr.Dropdown(choices=service.removable(), value=None,
                                            label="Uploaded document", elem_id="doc-remove")
                    remove = gr.Button("Remove it", elem_id="remove")
                with gr.Accordion("Evaluation: your graded answers", open=False,
                                  elem_id="evaluation"):
                    gr.HTML(EVAL_HTML, elem_id="eval-box")
                with gr.Accordion("Add documents", open=False):
                    files = gr.File(label=" ".join(uploads.ALLOWED_UPLOADS) + ", up to 10 MB "
                                    "each",
                                    file_count="multiple",
                                    file_types=list(uploads.ALLOWED_UPLOADS))
                    add = gr.Button("Index uploaded files")
                status = gr.Markdown("", elem_id="status")

        def on_ask(q, history, k_value, mode_value, written_value=True):
            # A generator: the LLM's reply is shown as it is written, then the checked answer.
            for reply in service.respond_stream(q, history, k_value, mode_value,
                                                bool(written_value)):
                yield reply.turns, reply.chat, reply.passages, \
                    f"<small>{reply.timings}</small>" if reply.timings else "", ""

        outputs = [turns, chat, passages, timings, question]
        inputs = [question, turns, k, mode, written]
        question.submit(on_ask, inputs, outputs, api_name="respond").then(
            None, js=SCROLL_JS)
        ask.click(on_ask, inputs, outputs, api_name=False).then(None, js=SCROLL_JS)
        # Clicking an example asks it at once.
        if examples is not None:
            examples.load_input_event.then(on_ask, inputs, outputs, api_name=False).then(
                None, js=SCROLL_JS)
        clear.click(lambda: ([], render.conversation_html([]), render.hits_html([]), "", ""),
                    None, outputs, api_name=False)

        def ask_json(q: str, k_value: float = 5, mode_value: str = "hybrid",
                     llm: bool = True) -> dict:
            from rag import RagError, to_dict

            try:
                return to_dict(service.retriever.ask(q, k=int(k_value), mode=mode_value,
                                                     llm=None if llm else False))
            except RagError as e:
                return {"error": str(e)}

        gr.api(ask_json, api_name="ask_json")

        def panel():
            return (_header(service), render.documents_html(service.documents()),
                    gr.Dropdown(choices=service.removable(), value=None))

        def on_upload(uploaded, progress=gr.Progress(track_tqdm=True)):
            # Gradio keeps the uploaded file's own name as the base name of its temp path.
            items = [(Path(str(f)).name, str(f)) for f in (uploaded or [])]
            progress(0, desc="indexing")
            return service.upload(items, progress=True)

        shown = [header, docs, to_remove]
        add.click(on_upload, [files], [status], api_name="upload").then(
            panel, None, shown, api_name=False)
        remove.click(service.remove, [to_remove], [status], api_name="remove").then(
            panel, None, shown, api_name=False)
        app.load(panel, None, shown, api_name=False)  # each page load shows the current list
    # Gradio runs one event at a time per handler by default: people asking at once would wait
    # for each other. Answers only read the retriever (uploads swap it under a lock).
    app.queue(default_concurrency_limit=CHAT_CONCURRENCY)
    return app


def _header(service: ChatService) -> str:
    return (f"## Ask the documents\n{service.answerer()}; each `[n]` links to the sentence it "
            f"rests on. *{service.header()}.*")


def launch_kwargs(host: str, port: int) -> dict:
    import gradio as gr

    font = ["ui-sans-serif", "system-ui", "sans-serif"]
    theme = gr.themes.Soft(font=font, font_mono=["ui-monospace", "monospace"])
    kwargs = dict(server_name=host, server_port=port, theme=theme, css=render.CSS, js=OPEN_CITED_JS,
                  ssr_mode=False, show_error=False, footer_links=[], quiet=True,
                  max_file_size=uploads.MAX_UPLOAD_BYTES)
    auth = os.environ.get("RAG_AUTH")  # "user:password", for a server exposed beyond localhost
    if auth and ":" in auth:
        user, password = auth.split(":", 1)
        kwargs["auth"] = (user, password)
    return kwargs


def serve(folder: str | Path = "seeds", index: str | Path | None = ".rag-index",
          uploads: str | Path | None = None, host: str = "127.0.0.1", port: int = 7860,
          store: str | None = None, replace: bool = False,
          llm: dict | None = None) -> None:
    """Build or refresh the folder's index (a local folder ``index``, or ``store``: a Milvus
    URI), then serve the chat until interrupted. Uploads are stored in ``uploads`` (default:
    INDEX-uploads beside the index)."""
    import gradio as gr
    import uvicorn

    from .api import PREFIX, check_key, create_app

    service = ChatService(Path(folder), Path(index) if index else None,
                          Path(uploads) if uploads else None, store=store, replace=replace,
                          llm=llm or {})
    try:  # the REST API beside the chat, under the API's rule for keys
        app, api = create_app(service, check_key(host)), f"; API on {PREFIX}"
    except RagError as e:
        from fastapi import FastAPI

        app, api = FastAPI(), f" (no REST API: {e})"
    kwargs = launch_kwargs(host, port)
    kwargs.pop("quiet")
    app = gr.mount_gradio_app(app, build_app(service), path="/", **kwargs)
    print(f"rag: {service.retriever.passage_count()} passages from {folder}; "
          f"chat on http://{host}:{port}{api}", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
