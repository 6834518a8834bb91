"""`rag chat`: a conversation in the terminal. Each question is asked with the earlier turns'
answers as history, so a follow-up ("When did he give it?") is read as the question it stands
for; the answer is printed with its markers and the sources it cites."""
from __future__ import annotations

import sys

from .commands import _cited_at, print_answer
from .common import _open, _with_llm

HELP = ("Ask a question; follow-ups may refer to earlier answers. /sources: the last answer's "
        "quotes; /clear: start a new conversation; /quit (or Ctrl-D): leave.")


def cmd_chat(args) -> int:
    r = _with_llm(_open(args), args)
    interactive = sys.stdin.isatty()
    history: list = []
    if interactive:
        print(HELP)
    while True:
        try:
            line = input("you> " if interactive else "")
        except EOFError:
            break
        question = line.strip()
        if not question:
            continue
        if question.startswith("/"):
            command = question.split()[0].lower()
            if command in ("/quit", "/exit", "/q"):
                break
            if command == "/clear":
                history.clear()
                print("(a new conversation)")
            elif command == "/sources":
                _sources(history[-1] if history else None)
            else:
                print(f"{command}: unknown command. {HELP}")
            continue
        if not interactive:
            print(f"you> {question}")
        answer = r.ask(question, k=args.k, mode=args.mode, history=history)
        print_answer(answer, sources=False)
        print()
        history.append(answer)
    r.close()
    return 0


def _sources(answer) -> None:
    if answer is None:
        print("(no answer yet)")
        return
    if not answer.citations:
        print("(the last answer cites nothing)")
    for c in answer.citations:
        print(f"[{c.n}] {_cited_at(c)}\n    \"{c.quote}\"")
