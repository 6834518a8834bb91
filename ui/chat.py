"""The chat's conversation as the page shows it: the service's answers rendered as HTML (only
here and in ui/render.py). Tested as plain Python; ui/app.py wires it to widgets."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from rag import RagError

from . import render
from .service import ChatService

log = logging.getLogger(__name__)


@dataclass
class Reply:
    """Everything the page shows after one question."""

    turns: list[tuple[str, str]]
    chat: str
    passages: str
    timings: str


def _reply(turns: list[tuple[str, str]], hits=(), timings: str = "") -> Reply:
    return Reply(turns, render.conversation_html(turns), render.hits_html(hits), timings)


ANSWERS_KEPT = 256  # the answers behind the turns shown, for follow-ups (the oldest go first)


class Chat:
    """Questions answered into a conversation (a list of (question, answer HTML) turns)."""

    def __init__(self, service: ChatService) -> None:
        self.service = service
        # The Answer behind each turn the page shows (by its HTML, sources folded): a follow-up
        # is read against the answer that was shown, not one asked again.
        self._answers: dict[str, object] = {}
        self._lock = threading.Lock()  # one Chat serves every session of the page

    def _history(self, turns: list[tuple[str, str]]) -> list:
        """The turns as history: the Answer shown where it is kept, else the question."""
        with self._lock:
            return [self._answers.get(html, question) for question, html in turns]

    def _keep(self, html: str, answer) -> None:
        with self._lock:
            self._answers[render.collapse_sources([("", html)])[0][1]] = answer
            while len(self._answers) > ANSWERS_KEPT:
                self._answers.pop(next(iter(self._answers)))

    def respond(self, question: str, turns: list[tuple[str, str]] | None, k: int = 5,
                mode: str = "hybrid", written: bool = True) -> Reply:
        """Answer ``question``; errors become a short message in the chat, never a trace.
        ``written``: let the LLM write it, when there is one (else quotes only)."""
        reply = None
        for reply in self.respond_stream(question, turns, k, mode, written):
            pass
        return reply

    def respond_stream(self, question: str, turns: list[tuple[str, str]] | None, k: int = 5,
                       mode: str = "hybrid", written: bool = True):
        """:meth:`respond` as the LLM writes: a Reply with the reply so far (shown as it
        comes, marked as not yet checked), then the final one with the verified answer."""
        turns = render.collapse_sources(list(turns or []))
        question = (question or "").strip()
        if not question:
            yield _reply(turns)
            return
        history = self._history(turns)
        so_far = ""
        llm = None if written else False
        try:
            # Written by an LLM: shown as it comes; else one answer, taking its turn.
            items = (self.service.retriever.ask_stream(question, k=int(k), mode=mode, history=history,
                                               llm=llm) if self.service.writes(llm) else
                     [self.service.ask(question, k=int(k), mode=mode, history=history, llm=llm)])
            for item in items:
                if isinstance(item, str):
                    so_far += item
                    yield _reply(turns + [(question, render.writing_html(so_far))])
                else:
                    answer = item
        except RagError as e:
            yield _reply(turns + [(question, render.error_html(f"Sorry: {e}"))])
            return
        except Exception:  # noqa: BLE001 - the person sees a message, the log keeps the trace
            log.exception("answering %r failed", question[:200])
            yield _reply(turns + [(question, render.error_html(
                "Sorry, something went wrong while answering. Please try again."))])
            return
        shown = answer.question if answer.note and not answer.generated else question
        turns.append((shown, render.answer_html(len(turns), answer)))
        self._keep(turns[-1][1], answer)
        timings = render.timings_text(answer) + (f" · {answer.note}" if answer.note else "")
        yield _reply(turns, answer.hits, timings)

