"""The service under the chat and the REST API: answers in arrival order, uploads, documents,
grades. Typed results only (rag's types, UploadResult, Rejected); the chat renders them as HTML
(ui/chat.py), the REST API as JSON (ui/api.py)."""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from rag import (UPLOADS_PREFIX, Answer, DocumentInfo, ExtractionCache, FairGate, Hit,
                 RagError, Retriever,
                 eval_set_path, extracted_folder, graded_question, is_hidden_inside,
                 load_documents, load_feedback, record_feedback, store_base,
                 suggested_questions, uploads_folder)

from . import uploads
from .uploads import Rejected

log = logging.getLogger(__name__)

ANSWERING_AT_ONCE = max(1, os.cpu_count() or 1)
EXAMPLE_DOCUMENTS = 50  # the documents examples are made from (a large index: the first ones)
WARM_UP_QUESTION = "What do the sources say?"  # loads the models; its answer is not shown
EXAMPLES_SHOWN = 4


@dataclass(frozen=True)
class UploadResult:
    """What one upload did: the status line the chat shows, the files stored (their names in
    the uploads folder), the files refused (:class:`ui.uploads.Rejected`), the files whose text
    was already indexed (name, where), and what indexing added and updated."""

    status: str
    stored: tuple[str, ...] = ()
    rejected: tuple[Rejected, ...] = ()
    duplicates: tuple[tuple[str, str], ...] = ()
    added: int = 0
    updated: int = 0
    passages: int = 0


@dataclass
class ChatService:
    """One retriever per server, refreshed after uploads and removals (under a lock). Uploaded
    files are stored in ``uploads`` (beside the index; inside the served folder only under a
    hidden name, which is never read as one of its documents). ``replace`` rebuilds an index
    that holds another folder (else refused). The models are loaded, and one question answered,
    before the service is ready: the first question a person asks is not the slow one."""

    folder: Path
    index: Path | None = None
    uploads: Path | None = None
    store: str | None = None  # a Milvus URI, instead of the local ``index`` folder
    retriever: Retriever | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    replace: bool = False
    warm: bool = True
    llm: dict = field(default_factory=dict)  # Settings' llm_* fields: answers written by an LLM
    # Questions answered at once, let in in the order they came (rag.FairGate): a core each.
    # Without it a crowd's questions interleave and some wait behind many later ones.
    turn: FairGate = field(default_factory=lambda: FairGate(ANSWERING_AT_ONCE))

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if self.uploads is None:
            base = Path(self.index) if self.index else Path(tempfile.mkdtemp(prefix="rag-"))
            self.uploads = uploads_folder(None, base)
        self.uploads = Path(self.uploads)
        if (self.uploads.resolve().is_relative_to(self.folder.resolve())
                and not is_hidden_inside(self.uploads, self.folder)):
            raise RagError(f"uploads folder {str(self.uploads)!r} is inside the served folder "
                           f"{str(self.folder)!r}, where its files would be indexed twice: "
                           "choose one outside it or under a hidden name (--uploads "
                           "DIR/.uploads)")
        self.extracted = (extracted_folder(self.index) if self.index else
                          extracted_folder(store_base(self.store)) if self.store else None)
        if self.retriever is None:
            self.retriever = self._refresh(replace=self.replace)
        if self.llm:  # the same index answering with the LLM (no settings swapped on it)
            self.retriever = self.retriever.with_settings(**self.llm)
        if self.warm:
            self.warm_up()

    def warm_up(self) -> None:
        """Load the embedder and the reader now (a first question would otherwise pay for it)."""
        try:
            self.retriever.ask(WARM_UP_QUESTION, llm=False)  # the LLM server is not ours
        except Exception:  # noqa: BLE001 - a question that fails later says why to the person
            log.warning("warming up failed", exc_info=True)

    def _refresh(self, progress: bool = False, replace: bool = False) -> Retriever:
        kwargs: dict = {"index": self.index}
        if self.store is not None:  # Milvus: one connection, refreshed in place
            kwargs = {"store": self.store if self.retriever is None else self.retriever.store}
        if self.retriever is not None:
            kwargs.update(embedder=self.retriever.embedder, settings=self.retriever.settings)
        return Retriever.from_folder(self.folder, uploads=self.uploads, progress=progress,
                                     replace=replace, extracted=self.extracted, **kwargs)

    def examples(self, n: int = EXAMPLES_SHOWN) -> list[str]:
        """Questions to offer, from the index being served: those graded in its eval set when
        there are any, else questions about its own documents' titles and headings."""
        graded = [row["question"] for row in load_feedback(self.eval_path)
                  if row.get("question")]
        if graded:
            return list(dict.fromkeys(graded))[:n]
        docs = self.retriever.documents
        found = (docs.get(d.id) for d in self.documents()[:EXAMPLE_DOCUMENTS] if not d.error)
        return suggested_questions([d for d in found if d is not None], n)

    def header(self) -> str:
        """What is indexed, for the page header."""
        r = self.retriever
        documents, passages = len(r.documents), r.passage_count()
        return (f"{documents} document{'s' if documents != 1 else ''} · "
                f"{passages} passage{'s' if passages != 1 else ''} indexed")

    def answerer(self) -> str:
        """Who writes the answers, for the page: the LLM and its server, or quotes only."""
        s = self.retriever.settings
        if not s.llm_url:
            return "Answers quote the sources word for word"
        return (f"Answers written by {s.llm_model or 'the first model'} at {s.llm_url}, every "
                "sentence checked against the quote it cites")

    def writes(self, llm: bool | None) -> bool:
        """Whether an LLM server writes the answer (``llm`` as Retriever.ask takes it)."""
        return llm is not False and bool(self.retriever.settings.llm_url)

    def ask(self, question: str, k: int = 5, mode: str = "hybrid",
            history: list | None = None, llm: bool | None = None) -> Answer:
        """``Retriever.ask``, the answers read here taking turns in the order questions came;
        one written by an LLM server (which waits on the server) holds no turn."""
        from contextlib import nullcontext

        with nullcontext() if self.writes(llm) else self.turn:
            return self.retriever.ask(question, k=k, mode=mode, history=history, llm=llm)

    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        """``Retriever.search``, in the order queries came."""
        with self.turn:
            return self.retriever.search(query, k=k, mode=mode)

    def upload(self, files: list[tuple[str, str]], progress: bool = False) -> str:
        """:meth:`upload_files`, as the chat's status line."""
        return self.upload_files(files, progress).status

    def upload_files(self, files: list[tuple[str, str]], progress: bool = False) -> UploadResult:
        """Store uploaded files ((original name, temporary path) pairs) in the uploads folder
        and index them: the one upload path of the chat and the REST API. Each file is read by
        its own type (its name's suffix, whatever the temporary path is called) before it is
        stored: one that does not read as its type, is empty, or whose text is already indexed
        is not stored; a failure while indexing removes what this upload stored."""
        rejected: list[Rejected] = []
        duplicates: list[tuple[str, str]] = []
        stored: list[str] = []
        settings = self.retriever.settings
        with self.lock, tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
            self.uploads.mkdir(parents=True, exist_ok=True)
            existing = {p.name for p in self.uploads.iterdir()}
            seen: dict[str, str] = {}  # text -> where, within this batch
            cache = ExtractionCache(self.extracted) if self.extracted else None
            for name, path in files:
                problem = uploads.check(name, Path(path).stat().st_size)
                if problem:
                    rejected.append(problem)
                    continue
                safe = uploads.safe_name(name, existing)
                staged = Path(tmp) / safe  # read under its own name: the suffix is its type
                shutil.copyfile(path, staged)
                try:
                    docs = load_documents(staged, UPLOADS_PREFIX + safe, settings.html,
                                          settings.ocr, cache)
                except Exception as e:  # noqa: BLE001 - a file we cannot read is reported
                    why = f"could not be read as {staged.suffix or 'text'} ({e})"[:300]
                    rejected.append(Rejected(uploads.base_name(name), "content", why))
                    continue
                text = docs[0].text
                twin = self.retriever.find_text(text)
                if twin is not None or text in seen:
                    where = twin.source if twin is not None else seen[text]
                    duplicates.append((uploads.base_name(name), where))
                    continue
                existing.add(safe)
                seen[text] = UPLOADS_PREFIX + safe
                shutil.move(staged, self.uploads / safe)
                stored.append(safe)
            return self._index_stored(stored, rejected, duplicates, progress)

    def _index_stored(self, stored: list[str], rejected: list[Rejected],
                      duplicates: list[tuple[str, str]], progress: bool) -> UploadResult:
        """Index what an upload stored; a file that fails is removed again (nothing stays
        stored that is not indexed)."""
        notes = [r.message + ", skipped" for r in rejected]
        notes += [f"{n}: already indexed as {where}" for n, where in duplicates]
        if not stored:
            return UploadResult(" ".join(notes) or "No files.", (), tuple(rejected),
                                tuple(duplicates), passages=self.retriever.passage_count())
        try:
            fresh = self._refresh(progress)
        except RagError as e:
            for name in stored:
                (self.uploads / name).unlink(missing_ok=True)
            rejected += [Rejected(n, "indexing", f"indexing failed: {e}") for n in stored]
            return UploadResult("; ".join([*notes, f"indexing failed: {e}"]), (),
                                tuple(rejected), tuple(duplicates),
                                passages=self.retriever.passage_count())
        failed = [n for n in stored if UPLOADS_PREFIX + n in fresh.last_stats.skipped]
        if failed:  # read at upload, not at indexing (rare): not kept
            for name in failed:
                (self.uploads / name).unlink(missing_ok=True)
            rejected += [Rejected(n, "content", "could not be indexed") for n in failed]
            notes += [f"{n}: could not be indexed, skipped" for n in failed]
            fresh = self._refresh(progress)
        self.retriever = fresh
        s = fresh.last_stats
        status = " ".join([f"Indexed: {s.added} added, {s.updated} updated, {s.passages} "
                           "passages in all.", *notes])
        return UploadResult(status, tuple(n for n in stored if n not in failed),
                            tuple(rejected), tuple(duplicates), s.added, s.updated, s.passages)

    def documents(self) -> list[DocumentInfo]:
        return self.retriever.document_infos()

    @property
    def eval_path(self) -> Path:
        """The graded questions of this index (rag.eval_set_path: INDEX-eval.jsonl)."""
        return eval_set_path(self.index) if self.index else self.uploads.parent / "eval.jsonl"

    def grade(self, question: str, grade: str, doc_id: str | None = None,
              start: int | None = None, end: int | None = None) -> tuple[dict, int]:
        """Record a graded answer in the eval set: (its row, how many the set holds)."""
        row = graded_question(question, grade, self.retriever.documents, doc_id, start, end)
        return row, len(record_feedback(self.eval_path, row))

    def evaluate_grades(self) -> dict:
        """The graded set run against the index: the metrics, and each question answered
        wrong or not at all with its expected and cited sentences side by side."""
        from rag import evaluate, load_questions

        if not load_feedback(self.eval_path):
            raise RagError("no graded answers yet: grade some answers first")
        result = evaluate(self.retriever, load_questions(self.eval_path))
        failures = [{"id": q.id, "question": q.question,
                     "expected": [e.quote for e in q.expected],
                     "cited": [c.quote for c in q.citations], "abstained": q.abstained}
                    for q in result.questions
                    if (q.answerable and not q.supported) or (not q.answerable
                                                              and not q.abstained)]
        return {"metrics": dict(result.metrics), "questions": len(result.questions),
                "failures": failures}

    def document_file(self, doc_id: str) -> Path | None:
        """The file a document was read from (in the served folder or the uploads), or None
        (an unknown id, a document given as text, or a mail attachment)."""
        doc = self.retriever.documents.get(doc_id)
        if doc is None:
            return None
        if doc.source.startswith(UPLOADS_PREFIX):
            root, name = self.uploads, doc.source[len(UPLOADS_PREFIX):]
        else:
            root, name = self.folder, doc.source
        path = (root / name).resolve()
        # Only a file under its folder: a source never points outside it.
        if not path.is_relative_to(root.resolve()) or not path.is_file():
            return None
        return path

    def removable(self) -> list[tuple[str, str]]:
        """(label, id) of the documents that can be removed: the uploaded ones."""
        return [(f"{d.title or d.source} ({d.source})"
                 + (" (could not be read)" if d.error else ""), d.id)
                for d in self.documents() if d.source.startswith(UPLOADS_PREFIX)]

    def remove(self, doc_id: str) -> str:
        """:meth:`remove_document` for the chat: a status line, refusals included."""
        try:
            return self.remove_document(doc_id)
        except RagError as e:
            return str(e)

    def remove_document(self, doc_id: str) -> str:
        """Remove an uploaded document, or an uploaded file that could not be read: its
        stored file and its passages. Returns a status; raises RagError when it cannot."""
        with self.lock:
            info = next((d for d in self.documents() if d.id == (doc_id or "")), None)
            if info is None:
                raise RagError("Choose an uploaded document to remove.")
            if not info.source.startswith(UPLOADS_PREFIX):
                raise RagError(f"{info.source} is part of the served folder: remove it there "
                               "and re-index; only uploads can be removed here.")
            path = self.uploads / info.source[len(UPLOADS_PREFIX):]
            path.unlink(missing_ok=True)
            try:
                self.retriever = self._refresh()
            except RagError as e:
                raise RagError(f"removing failed: {e}") from e
            return (f"Removed {info.source}: {self.retriever.last_stats.passages} passages "
                    "in all.")
