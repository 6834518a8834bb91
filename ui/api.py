"""The REST API (`rag api`, and mounted at /api/v1 in `rag serve`): search, ask and documents over
HTTP, for apps in any language. FastAPI: request and response models with limits, the OpenAPI
schema at /api/v1/openapi.json and its docs page at /api/v1/docs.

Every error is JSON ``{"error": ..., "detail": ...}`` with 400 (the library refused the input),
401 (missing or wrong key), 404 (unknown document), 413 (body too large), 422 (a field out of its
limits) or 500 (a message, never a stack trace). With ``RAG_API_KEY`` set, every endpoint but
/health wants ``Authorization: Bearer KEY`` (compared in constant time); `rag api` refuses to
listen beyond 127.0.0.1 without one. Searches keep being answered, from the index as it was,
while documents are being indexed (the chat service swaps the new one in when it is ready).
"""
import hmac
import logging
import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator, BaseModel, Field
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag import MODES, RagError, to_dict

from .service import ChatService
from .uploads import MAX_UPLOAD_BYTES

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
KEY_ENV = "RAG_API_KEY"
CORS_ENV = "RAG_API_CORS"   # comma-separated origins allowed to call the API from a browser
MAX_QUESTION = 2000
MAX_K = 100
MAX_BODY = 2 * MAX_UPLOAD_BYTES  # a request body, JSON or multipart
MAX_HISTORY = 20
LOOPBACK = ("127.0.0.1", "localhost", "::1")


Mode = Literal[MODES]  # type: ignore[valid-type]


EMPTY_QUESTION = "the question is empty: ask a question with at least one word"


def _words(value: str) -> str:
    """An empty or blank question is one mistake, with one status (422) and one message."""
    if not value.strip():
        raise ValueError(EMPTY_QUESTION)
    return value


Question = Annotated[str, Field(max_length=MAX_QUESTION), AfterValidator(_words)]


class SearchRequest(BaseModel):
    query: Question
    k: int = Field(5, ge=1, le=MAX_K)
    mode: Mode = "hybrid"


class Turn(BaseModel):
    question: Question
    answer: str = Field("", max_length=20_000, description="the answer given (optional)")


class AskRequest(BaseModel):
    question: Question
    k: int = Field(5, ge=1, le=MAX_K)
    mode: Mode = "hybrid"
    history: list[str | Turn] = Field(
        default_factory=list, max_length=MAX_HISTORY,
        description="the conversation's earlier turns, oldest first: questions, or "
                    "{question, answer} objects; a follow-up is read as the question it stands "
                    "for (the answer's `resolved`)")
    llm: bool = Field(True, description="a written answer from the server's LLM when it has one "
                                        "(false: quotes only)")


class FeedbackRequest(BaseModel):
    question: Question
    grade: Literal["right", "wrong", "unanswerable"] = Field(
        description="right: the cited span answers; wrong: the span given (the sentence the "
                    "person marked) does; unanswerable: the sources do not answer it")
    doc_id: str | None = None
    start: int | None = Field(None, ge=0)
    end: int | None = Field(None, ge=1)


class TextDocument(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_UPLOAD_BYTES)
    name: str = Field("document.txt", min_length=1, max_length=200,
                      description="a file name: .txt, .md or .html")


class DocumentsRequest(BaseModel):
    documents: list[TextDocument] = Field(min_length=1, max_length=100)


def _problem(e: dict, body) -> dict:
    """One validation error as {"field", "problem"}: the field's dotted path, and what is
    wrong in words (malformed JSON: the parser's reason and where, never a bare offset)."""
    if e.get("type") == "json_invalid":
        loc = [p for p in e.get("loc", ()) if p != "body"]
        where = ""
        if loc and isinstance(loc[0], int) and isinstance(body, (str, bytes)):
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            before = text[:loc[0]]
            where = f" at line {before.count(chr(10)) + 1}, column " \
                    f"{loc[0] - (before.rfind(chr(10)) + 1) + 1}"
        reason = (e.get("ctx") or {}).get("error") or e.get("msg", "")
        return {"field": "body", "problem": f"the body is not valid JSON: {reason}{where}"}
    field = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
    message = e.get("msg", "")
    if message.startswith("Value error, "):  # our own validators' messages, as written
        message = message[len("Value error, "):]
    return {"field": field, "problem": message}


def check_key(host: str) -> str | None:
    """The API key in force (``RAG_API_KEY``), or None; raises RagError when ``host`` is not
    loopback and there is no key."""
    key = os.environ.get(KEY_ENV) or None
    if key is None and host not in LOOPBACK:
        raise RagError(f"--host {host}: serving beyond this machine needs an API key: set "
                       f"{KEY_ENV} (clients send 'Authorization: Bearer KEY')")
    return key


def create_app(service: ChatService, key: str | None = None):
    """A FastAPI app answering under /api/v1 from ``service``'s retriever."""
    app = FastAPI(title="rag", version="1", docs_url=None,
                  openapi_url=f"{PREFIX}/openapi.json", redoc_url=None)
    _local_docs(app)
    origins = [o.strip() for o in os.environ.get(CORS_ENV, "").split(",") if o.strip()]
    if origins:  # off unless configured
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["*"],
                           allow_headers=["Authorization", "Content-Type"])

    def error(status: int, message: str, detail=None) -> JSONResponse:
        return JSONResponse({"error": message, "detail": detail}, status_code=status)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        size = request.headers.get("content-length")
        if size is not None and size.isdigit() and int(size) > MAX_BODY:
            return error(413, "request body too large",
                         f"{int(size)} bytes; the limit is {MAX_BODY}")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc):
        return error(422, "invalid request", [_problem(e, exc.body) for e in exc.errors()])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc):
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(RagError)
    async def refused(request, exc):
        return error(400, str(exc))

    @app.exception_handler(Exception)
    async def crashed(request, exc):  # the log keeps the trace, the client gets a message
        log.exception("API request %s failed", request.url.path)
        return error(500, "internal error", "the server could not answer; see its log")

    def authorized(request: Request) -> None:
        if key is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), key.encode()):
            raise HTTPException(401, "missing or wrong API key: send 'Authorization: Bearer "
                                     "KEY'")

    guard = [Depends(authorized)]

    @app.get(f"{PREFIX}/health")
    def health() -> dict:
        """Liveness: answers as long as the server runs (no key needed)."""
        return {"status": "ok"}

    @app.get(f"{PREFIX}/stats", dependencies=guard)
    def stats() -> dict:
        r = service.retriever
        return {"documents": len(r.documents), "passages": r.passage_count(),
                "model": r.embedder.model_id, "backend": getattr(r.embedder, "backend", ""),
                "store": r.store.kind, "location": r.store.location}

    @app.post(f"{PREFIX}/search", dependencies=guard)
    def search(body: SearchRequest) -> list[dict]:
        return to_dict(service.search(body.query, k=body.k, mode=body.mode))

    @app.post(f"{PREFIX}/ask", dependencies=guard)
    def ask(body: AskRequest) -> dict:
        return to_dict(service.ask(body.question, k=body.k, mode=body.mode,
                                   history=[h if isinstance(h, str) else h.model_dump()
                                            for h in body.history], llm=body.llm))

    @app.get(f"{PREFIX}/documents", dependencies=guard)
    def documents(offset: int = 0, limit: int = 50) -> dict:
        if offset < 0 or not 1 <= limit <= 500:
            raise HTTPException(422, f"offset={offset}, limit={limit}: offset must be >= 0 "
                                     "and limit between 1 and 500")
        infos = service.documents()
        return {"total": len(infos), "offset": offset,
                "documents": to_dict(infos[offset:offset + limit])}

    def _stored(files: list[tuple[str, str]]) -> JSONResponse:
        done = service.upload_files(files)
        body = {"status": done.status, "added": done.added, "updated": done.updated,
                "passages": done.passages, "stored": list(done.stored),
                "rejected": [{"name": r.name, "kind": r.kind, "problem": r.reason}
                             for r in done.rejected],
                "duplicates": [{"name": n, "indexed_as": where}
                               for n, where in done.duplicates]}
        if done.stored or not done.rejected:  # something indexed, or only known duplicates
            return JSONResponse(body)
        # Nothing taken: 413 when every file was too large, 415 when every type was refused,
        # else 422 (content that does not read as its type, or indexing failed).
        kinds = {r.kind for r in done.rejected}
        status = 413 if kinds == {"size"} else 415 if kinds == {"type"} else 422
        return JSONResponse({"error": "no file was indexed", "detail": done.status, **body},
                            status_code=status)

    @app.post(f"{PREFIX}/documents", dependencies=guard)
    async def add_documents(request: Request) -> JSONResponse:
        """JSON ``{"documents": [{"text", "name"}]}``, or multipart files (field ``files``):
        stored as uploads (the chat's type and size checks) and indexed."""
        with tempfile.TemporaryDirectory(prefix="rag-api-") as tmp:
            files = []
            if request.headers.get("content-type", "").startswith("multipart/form-data"):
                form = await request.form()
                uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
                if not uploads:
                    raise HTTPException(422, "no files: send them in the multipart field "
                                             "'files'")
                for n, f in enumerate(uploads):
                    path = Path(tmp) / f"{n}"
                    path.write_bytes(await f.read())
                    files.append((f.filename or f"upload-{n}", str(path)))
            else:
                try:
                    body = DocumentsRequest.model_validate_json(await request.body())
                except ValueError as e:
                    errors = getattr(e, "errors", lambda: [])()
                    raise RequestValidationError(errors) from e
                for n, d in enumerate(body.documents):
                    path = Path(tmp) / f"{n}"
                    path.write_text(d.text, encoding="utf-8")
                    files.append((d.name, str(path)))
            return _stored(files)

    def _document(doc_id: str):
        doc = service.retriever.documents.get(doc_id)
        if doc is None:
            raise HTTPException(404, f"document {doc_id!r} is not in the index: list them "
                                     f"with GET {PREFIX}/documents")
        return doc

    @app.get(f"{PREFIX}/documents/{{doc_id}}", dependencies=guard)
    def document(doc_id: str) -> dict:
        """The whole document: its text (what citations slice), title, source, where each
        page starts in the text, and its sentences' spans (what a grade can mark)."""
        from rag import split_sentences

        doc = _document(doc_id)
        return {"id": doc.id, "source": doc.source, "title": doc.title, "text": doc.text,
                "page_starts": list(doc.page_starts), "pages": len(doc.page_starts) or None,
                "sentences": [list(s) for s in split_sentences(doc.text)]}

    @app.get(f"{PREFIX}/documents/{{doc_id}}/pages/{{page}}.png", dependencies=guard)
    def page_image(doc_id: str, page: int, start: int | None = None,
                   end: int | None = None) -> Response:
        """A PDF page rendered here, the characters of ``text[start:end]`` marked; the boxes
        (pixels: left, top, right, bottom) in the X-Quote-Boxes header, as JSON."""
        import json

        from rag import page_range, render_page

        doc = _document(doc_id)
        path = service.document_file(doc_id)
        if path is None or path.suffix.lower() != ".pdf":
            raise HTTPException(404, f"document {doc_id!r} has no PDF pages to show")
        first, last = page_range(doc, page)
        quote = ""
        if start is not None or end is not None:
            if start is None or end is None or not 0 <= start < end <= len(doc.text):
                raise HTTPException(422, f"start={start}, end={end}: give both, with 0 <= "
                                         f"start < end <= {len(doc.text)}")
            quote = doc.text[max(start, first):min(end, last)]
        png, boxes = render_page(path, page, quote)
        return Response(png, media_type="image/png",
                        headers={"X-Quote-Boxes": json.dumps([[round(v, 1) for v in b]
                                                              for b in boxes])})

    @app.post(f"{PREFIX}/feedback", dependencies=guard)
    def feedback(body: FeedbackRequest) -> dict:
        """A graded answer, added to the eval set kept beside the index (its quote read from
        the document, so exact)."""
        row, total = service.grade(body.question, body.grade, body.doc_id, body.start,
                                   body.end)
        return {"question": row, "total": total, "path": str(service.eval_path)}

    @app.get(f"{PREFIX}/feedback", dependencies=guard)
    def graded() -> dict:
        from rag import load_feedback

        return {"path": str(service.eval_path), "questions": load_feedback(service.eval_path)}

    @app.delete(f"{PREFIX}/feedback/{{qid}}", dependencies=guard)
    def ungrade(qid: str) -> dict:
        from rag import remove_feedback

        if not remove_feedback(service.eval_path, qid):
            raise HTTPException(404, f"question {qid!r} is not in the graded set: list it with "
                                     f"GET {PREFIX}/feedback")
        return {"removed": qid}

    @app.post(f"{PREFIX}/feedback/evaluate", dependencies=guard)
    def evaluate_grades() -> dict:
        return service.evaluate_grades()

    @app.delete(f"{PREFIX}/documents/{{doc_id}}", dependencies=guard)
    def remove_document(doc_id: str) -> dict:
        if doc_id not in {d.id for d in service.documents()}:
            raise HTTPException(404, f"document {doc_id!r} is not in the index: list them "
                                     f"with GET {PREFIX}/documents")
        status = service.remove_document(doc_id)  # RagError: 400 with its reason
        return {"status": status, "passages": service.retriever.passage_count()}

    return app


def _local_docs(app) -> None:
    """The docs page at /api/v1/docs with Swagger UI's files served from here (the package
    swagger-ui-bundle-v2 ships them): it works offline and loads nothing from elsewhere."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    assets = f"{PREFIX}/docs-assets"
    app.mount(assets, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get(f"{PREFIX}/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url=f"{PREFIX}/openapi.json", title="rag API",
                                   swagger_js_url=f"{assets}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{assets}/swagger-ui.css",
                                   swagger_favicon_url=f"{assets}/favicon-32x32.png")


def serve_api(folder: Path, index: Path | None, uploads: Path | None, host: str, port: int,
              store: str | None = None, replace: bool = False,
              llm: dict | None = None) -> None:
    """`rag api`: index the folder (refreshing the index), load the models, then serve the API
    until stopped (/health answers once all that is done)."""
    import uvicorn

    key = check_key(host)
    service = ChatService(Path(folder), index, uploads, store=store, replace=replace,
                          llm=llm or {})
    print(f"rag: {service.retriever.passage_count()} passages from {folder}; API on "
          f"http://{host}:{port}{PREFIX} (docs at {PREFIX}/docs)", flush=True)
    uvicorn.run(create_app(service, key), host=host, port=port, log_level="warning")
