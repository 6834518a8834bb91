"""What the chat does, without Gradio: answer a question into the conversation, add uploads.
Tested as plain Python; ui/app.py only wires it to widgets."""
from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from rag import RagError, Retriever

from . import render

log = logging.getLogger(__name__)

EXAMPLES = [
    "Who delivered the Secret Speech, and when?",
    "How did listeners react to the speech?",
    "What happened to Stalin's body after the 22nd Party Congress?",
    "How does Putin's regime treat the memory of Stalin?",
    "What is the capital of Australia?",
]


@dataclass
class Reply:
    """Everything the page shows after one question."""

    turns: list[tuple[str, str]]
    chat: str
    passages: str
    timings: str


def _reply(turns: list[tuple[str, str]], hits=(), timings: str = "") -> Reply:
    return Reply(turns, render.conversation_html(turns), render.hits_html(hits), timings)


@dataclass
class ChatService:
    """One retriever per server, refreshed after uploads (under a lock)."""

    folder: Path
    index: Path | None = None
    retriever: Retriever | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if self.retriever is None:
            self.retriever = Retriever.from_folder(self.folder, self.index)

    def respond(self, question: str, turns: list[tuple[str, str]] | None, k: int = 5,
                mode: str = "hybrid") -> Reply:
        """Answer ``question``; errors become a short message in the chat, never a trace."""
        turns = list(turns or [])
        question = (question or "").strip()
        if not question:
            return _reply(turns)
        try:
            answer = self.retriever.ask(question, k=int(k), mode=mode)
        except RagError as e:
            return _reply(turns + [(question, render.error_html(f"Sorry: {e}"))])
        except Exception:  # noqa: BLE001 - the person sees a message, the log keeps the trace
            log.exception("answering %r failed", question[:200])
            return _reply(turns + [(question, render.error_html(
                "Sorry, something went wrong while answering. Please try again."))])
        shown = answer.question if answer.note else question
        turns.append((shown, render.answer_html(len(turns), answer)))
        timings = render.timings_text(answer) + (f" · {answer.note}" if answer.note else "")
        return _reply(turns, answer.hits, timings)

    def upload(self, files: list[tuple[str, str]], progress: bool = False) -> str:
        """Store uploaded files ((original name, temp path) pairs) under the folder's
        uploads/ with safe names, then refresh the index incrementally. Returns a status line."""
        messages, stored = [], 0
        target = self.folder / render.UPLOAD_DIR
        with self.lock:
            target.mkdir(parents=True, exist_ok=True)
            existing = {p.name for p in target.iterdir()}
            for name, path in files:
                size = Path(path).stat().st_size
                problem = render.check_upload(name, size)
                if problem:
                    messages.append(problem)
                    continue
                safe = render.safe_upload_name(name, existing)
                existing.add(safe)
                shutil.copyfile(path, target / safe)
                stored += 1
            if stored:
                try:
                    self.retriever = Retriever.from_folder(
                        self.folder, self.index, embedder=self.retriever.embedder,
                        settings=self.retriever.settings, progress=progress)
                except RagError as e:
                    messages.append(f"indexing failed: {e}")
                    return "; ".join(messages)
                s = self.retriever.last_stats
                messages.insert(0, f"Indexed: {s.added} added, {s.updated} updated, "
                                   f"{s.passages} passages in all.")
                messages += [f"{src}: could not be read, skipped" for src in s.skipped]
        return " ".join(messages) if messages else "No files."
