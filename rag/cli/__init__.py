"""The `rag` command: index, search, ask, chat, documents, eval, serve, api."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from .. import paths
from ..errors import RagError
from ..index.stores import STORE_HELP
from ..settings import BACKENDS, DEVICES, MODES, READERS
from .common import _positive_int
from .commands import (cmd_api, cmd_ask, cmd_documents, cmd_index, cmd_search, cmd_serve)
from .chat import cmd_chat
from .evaluate import cmd_eval


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, no usage dump
        print(f"rag: error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rag", description="Offline question answering over a folder, with "
                "citations. Defaults: index $RAG_INDEX or the nearest .rag-index; folder "
                "$RAG_FOLDER or the one the index was built from.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    index_help = "index folder (default: $RAG_INDEX, else the nearest .rag-index)"
    store_help = (f"where the index lives: {STORE_HELP} (default: $RAG_STORE, else --index)")

    def common(sp, json_flag=True, k=None):
        sp.add_argument("--index", default=None, help=index_help)
        sp.add_argument("--store", default=None, metavar="URI", help=store_help)
        if json_flag:
            sp.add_argument("--json", action="store_true", help="print JSON to standard output")
        if k is not None:
            sp.add_argument("-k", "--k", dest="k", type=_positive_int, default=k,
                            help="passages to retrieve (default %(default)s)")
        sp.add_argument("--progress", action="store_true",
                        help="show progress bars even when not on a terminal")
        sp.add_argument("--backend", choices=BACKENDS, default=None,
                        help="embedding backend (default: the index's own, for a new index "
                        "Settings' default)")
        sp.add_argument("--device", choices=DEVICES, default=None,
                        help="where the model embeds (default auto: a GPU when the backend "
                        "sees one, else the CPU)")

    replace_help = ("rebuild an index that holds another folder for this one (without it, "
                    "such an index is refused: its documents are never dropped silently)")
    sp = sub.add_parser("index", help="build or refresh the index of a folder")
    sp.add_argument("folder", nargs="?", default=None,
                    help="documents (default: $RAG_FOLDER, the index's folder, or seeds/)")
    sp.add_argument("--replace", action="store_true", help=replace_help)
    common(sp)
    sp.set_defaults(func=cmd_index)

    for name, func, helptext in (("search", cmd_search, "show the best passages"),
                                 ("ask", cmd_ask, "answer with citations")):
        sp = sub.add_parser(name, help=helptext)
        sp.add_argument("question", help="the question, or - to read it from standard input")
        sp.add_argument("--mode", choices=MODES, default="hybrid")
        common(sp, k=5)
        sp.set_defaults(func=func)

    def llm_flags(sp):
        sp.add_argument("--llm", default=None, metavar="URL", help="write answers with an "
                        "OpenAI-compatible server (Ollama http://127.0.0.1:11434/v1, llama.cpp, "
                        "vLLM), every sentence checked against its quote (default: $RAG_LLM_URL,"
                        " else quotes only; 'off': quotes only)")
        sp.add_argument("--llm-model", default=None, metavar="NAME", help="the model (default: "
                        "$RAG_LLM_MODEL, else the server's first listed)")
        sp.add_argument("--llm-timeout", default=None, type=float, metavar="SECONDS",
                        help="seconds for the whole reply (default 30)")
        sp.add_argument("--llm-max-tokens", default=None, type=int, metavar="N",  # Settings checks
                        help="the reply's length limit in tokens (default 400)")

    llm_flags(sub.choices["ask"])

    sp = sub.add_parser("chat", help="a conversation in the terminal: follow-up questions, "
                        "/sources, /clear, /quit")
    sp.add_argument("--mode", choices=MODES, default="hybrid")
    common(sp, json_flag=False, k=5)
    llm_flags(sp)
    sp.set_defaults(func=cmd_chat, json=False)

    sp = sub.add_parser("documents", help="list the indexed documents")
    common(sp)
    sp.set_defaults(func=cmd_documents)

    sp = sub.add_parser("eval", help="evaluate on a question set or a BEIR folder")
    sp.add_argument("questions", nargs="?", default=None, help="JSONL question set "
                    f"(default: the answers graded in the chat of --index, INDEX-eval.jsonl, "
                    f"else {paths.DEFAULT_QUESTIONS})")
    sp.add_argument("--folder", default=None, help="documents the questions are about (default: "
                    "the folder recorded in --index, else seeds/)")
    sp.add_argument("--mode", choices=(*MODES, "all"), default="hybrid")
    sp.add_argument("--out", default=None, metavar="FILE", help="write the results as JSON here")
    sp.add_argument("--report", default=None, metavar="DIR", help="write a Markdown report + plots")
    sp.add_argument("--beir", default=None, metavar="DIR", help="run a BEIR dataset (test split)")
    sp.add_argument("--split", default="test", help="BEIR qrels split (default %(default)s)")
    sp.add_argument("--reader", choices=(*READERS, "all"), default=None,
                    help=f"answer reader: {', '.join(READERS)}, or all to compare (default: "
                    "the index's setting, Settings().reader)")
    sp.add_argument("--rerank", action="store_true", help="BEIR: rerank the fused top "
                    "passages with the learned reader")
    sp.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"), default=None,
                    help="compare two `rag eval --out` files: metric deltas and the questions "
                    "that moved, as Markdown (--json for machines); runs nothing")
    common(sp, k=10)
    llm_flags(sp)
    sp.set_defaults(func=cmd_eval)

    for name, func, port, helptext in (("serve", cmd_serve, 7860, "serve the chat in a browser"),
                                       ("api", cmd_api, 8000, "serve the REST API (/api/v1)")):
        sp = sub.add_parser(name, help=helptext)
        sp.add_argument("folder", nargs="?", default=None,
                        help="documents (default: $RAG_FOLDER, the index's folder, or seeds/)")
        sp.add_argument("--index", default=None, help="index folder (default: $RAG_INDEX, "
                        "else ./.rag-index, else FOLDER/.rag-index when ./.rag-index holds "
                        "another folder)")
        sp.add_argument("--replace", action="store_true", help=replace_help)
        sp.add_argument("--store", default=None, metavar="URI", help=store_help)
        sp.add_argument("--uploads", default=None, help="where uploaded files are stored "
                        "(default: $RAG_UPLOADS, else INDEX-uploads beside the index)")
        sp.add_argument("--host", default="127.0.0.1")
        sp.add_argument("--port", type=int, default=port)
        llm_flags(sp)
        sp.set_defaults(func=func, json=False)
    return p

def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="rag: %(levelname)s: %(message)s")
    # This program's own environment (the library never sets it): OCR reads several pages at
    # once, a Tesseract each, faster with one OpenMP thread apiece.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except RagError as e:
        print(f"rag: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader closed the pipe (`rag search ... | head`): what it wanted is printed.
        # Point stdout at /dev/null so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
