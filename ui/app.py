"""The Gradio chat. Offline: local fonts only, analytics off, nothing fetched from elsewhere."""
from __future__ import annotations

import os
from pathlib import Path

from rag import MODES, RagError

from . import render, uploads
from .chat import Chat
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


# The page's script (ui/static/chat.js): a marker [n] opens its sources and the whole document
# in the viewer at its quote; grading; the evaluation panel. Document text is only ever set as
# text, never parsed as HTML.
STATIC = Path(__file__).resolve().parent / "static"


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

    chat_view = Chat(service)
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
            for reply in chat_view.respond_stream(q, history, k_value, mode_value,
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
    kwargs = dict(server_name=host, server_port=port, theme=theme,
                  css=(STATIC / "chat.css").read_text(encoding="utf-8"),
                  js=(STATIC / "chat.js").read_text(encoding="utf-8"),
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
