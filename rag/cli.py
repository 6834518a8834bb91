"""The `rag` command: index, search, ask, eval, serve."""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path

from . import paths
from .errors import RagError
from .settings import BACKENDS, DEVICES, MODES, READERS
from .index.stores import STORE_HELP


def _progress(args) -> bool:
    """Progress bars: with --progress, or when standard error is a terminal (never with --json)."""
    if getattr(args, "json", False):
        return False
    return bool(getattr(args, "progress", False)) or sys.stderr.isatty()


def _store(args) -> str | None:
    """--store URI (or $RAG_STORE), unless --index names a folder."""
    if getattr(args, "store", None) and getattr(args, "index", None):
        from .errors import ConfigError

        raise ConfigError("give --index DIR (a local index) or --store URI, not both")
    if getattr(args, "index", None):
        return None
    return getattr(args, "store", None) or os.environ.get(paths.ENV_STORE) or None


def _open(args):
    """The index to query: --store, --index, $RAG_STORE, $RAG_INDEX, or the nearest .rag-index
    up from here."""
    from .retriever import Retriever

    uri = _store(args)
    if uri:
        return Retriever.open(uri, settings=_settings(args))
    return Retriever.load(paths.index_for_reading(args.index), settings=_settings(args))


def _milvus_target(args) -> tuple[str, dict] | None:
    """(URI, the folders its index records) when the index lives in Milvus, else None."""
    from .index.stores import parse_store

    uri = _store(args)
    if not uri or parse_store(uri)[0] != "milvus":
        return None
    from .index.stores.milvus import MilvusStore

    store = MilvusStore(parse_store(uri)[1])
    try:
        return uri, dict(store.meta.get("folders", {}))
    finally:
        store.close()


def _settings(args):
    """Settings from the command line: None when none is given (the index's own apply)."""
    from .settings import Settings

    backend, device = getattr(args, "backend", None), getattr(args, "device", None)
    if not backend and not device:
        return None
    return Settings(backend=backend, device=device or "auto")


def _llm_fields(args) -> dict:
    """The LLM settings from --llm/--llm-model/--llm-timeout, else $RAG_LLM_URL/$RAG_LLM_MODEL
    (the key only from $RAG_LLM_API_KEY: never on a command line); {} without a server."""
    from .answer.llm import ENV_MODEL, ENV_URL

    url = getattr(args, "llm", None) or os.environ.get(ENV_URL) or None
    if not url or url.lower() == "off":
        return {}
    fields = {"llm_url": url, "llm_model": getattr(args, "llm_model", None)
              or os.environ.get(ENV_MODEL) or None}
    if getattr(args, "llm_timeout", None):
        fields["llm_timeout"] = args.llm_timeout
    if getattr(args, "llm_max_tokens", None):
        fields["llm_max_tokens"] = args.llm_max_tokens
    return fields


def _with_llm(r, args):
    """The retriever ``r`` answering with the LLM the command line names (if any)."""
    fields = _llm_fields(args)
    if fields:
        r.settings = dataclasses.replace(r.settings, **fields)
    return r


def _eval_settings(args):
    """Evaluation measures the default backend unless --backend says: never whatever backend
    its (private, rebuilt as needed) index happened to be built with last."""
    from .settings import DEFAULT_BACKEND, Settings

    return Settings(backend=args.backend or DEFAULT_BACKEND,
                    device=getattr(args, "device", None) or "auto", **_llm_fields(args))


def _print_json(obj) -> None:
    from .types import to_dict

    print(json.dumps(to_dict(obj), ensure_ascii=False, indent=1))


def _place(p) -> str:
    where = f"{p.source} [{p.start}:{p.end}]"
    return f"{where} p.{p.page}" if p.page else where


def _local_index(args) -> Path:
    """The local index folder to write: --store local:DIR / DIR, else --index, $RAG_INDEX, else
    the folder's default (./.rag-index unless that holds another folder: paths.index_for_folder)."""
    from .index.stores import parse_store

    uri = _store(args)
    if uri or args.index or os.environ.get(paths.ENV_INDEX):
        return paths.index_for_writing(parse_store(uri)[1] if uri else args.index)
    index, note = paths.index_for_folder(args.folder or os.environ.get(paths.ENV_FOLDER))
    if note:
        print(f"rag: {note}", file=sys.stderr)
    return index


def cmd_index(args) -> int:
    from .retriever import Retriever

    milvus = _milvus_target(args)
    if milvus is not None:
        index, recorded = milvus
        folder = paths.documents_folder(args.folder, recorded=recorded.get("folder"))
        r = Retriever.from_folder(folder, store=index, settings=_settings(args),
                                  uploads=recorded.get("uploads"), progress=_progress(args),
                                  replace=args.replace)
    else:
        index = _local_index(args)
        folder = paths.documents_folder(args.folder, index)
        # The chat's uploads stay in the index: refreshing it never drops them.
        uploads = paths.indexed_folders(index).get("uploads")
        r = Retriever.from_folder(folder, index, settings=_settings(args), uploads=uploads,
                                  progress=_progress(args), replace=args.replace)
    r.close()
    s = r.last_stats
    counts = {"added": s.added, "updated": s.updated, "removed": s.removed,
              "unchanged": s.unchanged, "passages": s.passages}
    if args.json:
        print(json.dumps({**counts, "skipped": list(s.skipped), "index": str(index),
                          "folder": str(folder)}))
    else:
        print(", ".join(f"{k} {v}" for k, v in counts.items()) + f" -> {index}")
        for src in s.skipped:
            print(f"skipped (unreadable): {src}")
    return 0


def _read_question(args) -> None:
    if args.question == "-":  # long questions come on standard input
        args.question = sys.stdin.read()


def cmd_search(args) -> int:
    _read_question(args)
    r = _open(args)
    from .index.search import clean_query

    note = clean_query(args.question)[1]
    if note:
        print(f"note: {note}", file=sys.stderr)
    hits = r.search(args.question, k=args.k, mode=args.mode)
    if args.json:
        _print_json(hits)
        return 0
    for h in hits:
        dense = "-" if h.dense_score is None else f"{h.dense_score:.3f}"
        bm25 = "-" if h.bm25_score is None else f"{h.bm25_score:.2f}"
        print(f"{h.rank}. score {h.score:.4f} (dense {dense}, bm25 {bm25})  {_place(h.passage)}")
        print(f"   {h.passage.text}\n")
    return 0


def cmd_ask(args) -> int:
    _read_question(args)
    r = _with_llm(_open(args), args)
    a = r.ask(args.question, k=args.k, mode=args.mode)
    if args.json:
        _print_json(a)
        return 0
    if a.note:
        print(f"note: {a.note}", file=sys.stderr)
    if a.generated:
        print(f"(written by {a.model}; every sentence checked against its quote)",
              file=sys.stderr)
    if a.short:
        bold = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("**", "**")
        print(f"{bold[0]}{a.short}{bold[1]}")
    print(a.text)
    if a.abstained:
        print("\nClosest passages:")
        for h in a.hits[:3]:
            print(f"  {_place(h.passage)}: {h.passage.text[:160]}...")
    else:
        print("\nSources:")
        for c in a.citations:
            where = f"{c.passage.source} [{c.start}:{c.end}]"
            where += f" p.{c.page}" if c.page else ""
            print(f"  [{c.n}] {where} \"{c.quote}\"")
        print(f"\nconfidence {a.confidence:.2f}")
    if a.dropped:
        print("\nRemoved (not supported by the sources):")
        for d in a.dropped:
            print(f"  - {d.text}  ({d.reason})")
    return 0


def cmd_documents(args) -> int:
    r = _open(args)
    infos = r.document_infos()
    if args.json:
        _print_json(infos)
        return 0
    for d in infos:
        if d.error:
            print(f"{d.id}  {d.source}  (could not be read: {d.error})")
            continue
        pages = f"{d.pages} pages, " if d.pages else ""
        print(f"{d.id}  {d.source}  ({pages}{d.passages} passages, added {d.added})  {d.title}")
    return 0


def _eval_json(result) -> dict:
    from .types import to_dict

    block = {"metrics": result.metrics}
    if result.questions:
        block["questions"] = to_dict(list(result.questions))
    return block


def cmd_eval(args) -> int:
    from .eval import evaluation
    from .errors import ConfigError
    from .eval.report import metrics_table, write_report
    from .retriever import Retriever

    if args.compare:
        from .eval.compare import compare, load_run, markdown

        result = compare(load_run(args.compare[0]), load_run(args.compare[1]))
        print(json.dumps(result, indent=1) if args.json else markdown(result), end="")
        return 0

    modes = list(MODES) if args.mode == "all" else [args.mode]
    progress = _progress(args)
    if args.beir:
        docs, queries, qrels = evaluation.load_beir(args.beir, args.split)
        # One saved index per backend: each embeds the corpus its own way.
        uri = _store(args)
        index = uri or args.index or (f".rag-beir-{Path(args.beir).resolve().name}"
                                      + (f"-{args.backend}" if args.backend else ""))
        where = {"store": uri} if uri else {"index": index}
        r = Retriever.from_documents(docs, settings=_eval_settings(args), progress=progress,
                                     **where)
        print(f"{len(docs)} documents, {r.passage_count()} passages, {len(queries)} {args.split} "
              f"queries (index {index})", file=sys.stderr)
        results = [evaluation.evaluate_beir(r, queries, qrels, mode, rerank=rerank)
                   for mode in modes for rerank in ((False, True) if args.rerank else (False,))]
        table = metrics_table(results, ("ndcg@10", "recall@100", "mrr@10", "latency_p50_ms",
                                        "latency_p95_ms"))
    else:
        from .eval.feedback import eval_set_path

        graded = eval_set_path(args.index) if args.index else None
        # No set given: the answers graded in the chat of --index, else the seed set.
        qpath = (Path(args.questions) if args.questions else graded
                 if graded is not None and graded.exists()
                 else paths.project_file(paths.DEFAULT_QUESTIONS))
        conversations = evaluation.is_conversation_set(qpath)
        if conversations:
            convs = evaluation.load_conversations(qpath)
            questions = [t for c in convs for t in c.turns]
        else:
            questions = evaluation.load_questions(qpath)
        # Its own index, never the chat's: uploads cannot change the figures.
        uri = _store(args)
        index = Path(args.index) if args.index else paths.eval_index(qpath)
        folder = paths.documents_folder(args.folder, index if args.index else None)
        where = {"store": uri} if uri else {"index": index}
        # Its private index follows --folder; an index given with --index is guarded.
        # An index given with --index keeps the chat's uploads (its graded answers cite them).
        uploads = paths.indexed_folders(index).get("uploads") if args.index else None
        r = Retriever.from_folder(folder, settings=_eval_settings(args), progress=progress,
                                  replace=not args.index, uploads=uploads, **where)
        problems = evaluation.check_questions(questions, list(r.documents.values()))
        if problems:
            raise ConfigError(f"{len(problems)} labels do not match the documents in "
                              f"{str(folder)!r}, first: {problems[0]}")
        readers = (list(READERS) if args.reader == "all"
                   else [args.reader or r.settings.reader])
        results = []
        for reader in readers:
            r.settings = dataclasses.replace(r.settings, reader=reader)
            for mode in modes:
                if conversations:
                    runs = [evaluation.evaluate_conversations(r, convs, args.k, mode, history=h)
                            for h in (True, False)]
                else:
                    runs = [evaluation.evaluate(r, questions, k=args.k, mode=mode,
                                                progress=progress)]
                for run in runs:
                    label = run.mode if len(readers) == 1 else f"{run.mode} · {reader}"
                    results.append(dataclasses.replace(run, mode=label))
        table = metrics_table(results)
        if args.report:
            r.settings = dataclasses.replace(r.settings, reader=readers[0])
            path = write_report(results, args.report, r.abstain_threshold)
            print(f"report: {path}", file=sys.stderr)
    data = ({res.mode: _eval_json(res) for res in results} if len(results) > 1
            else _eval_json(results[0]))
    if args.out:
        Path(args.out).write_text(json.dumps(data, ensure_ascii=False, indent=1))
        print(f"results: {args.out}", file=sys.stderr)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        print(table)
    return 0


def _app_target(args) -> dict:
    """Where `rag serve` and `rag api` keep their index and uploads: folder, index or store."""
    milvus = _milvus_target(args)
    if milvus is not None:
        uri, recorded = milvus
        return {"folder": paths.documents_folder(args.folder, recorded=recorded.get("folder")),
                "index": None, "replace": args.replace,
                "store": uri, "uploads": paths.uploads_folder(args.uploads,
                                                              paths.store_base(uri))}
    index = _local_index(args)
    return {"folder": paths.documents_folder(args.folder, index), "index": index,
            "uploads": paths.uploads_folder(args.uploads, index), "replace": args.replace}


def _listening(args, run) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        run(**_app_target(args), host=args.host, port=args.port, llm=_llm_fields(args))
    except OSError as e:  # port taken, address not available
        raise RagError(f"cannot serve on {args.host}:{args.port} ({e}): free the port or pass "
                       "--port") from e
    return 0


def cmd_serve(args) -> int:
    def run(**kw):
        from ui.app import serve

        serve(**kw)

    return _listening(args, run)


def cmd_api(args) -> int:
    def run(**kw):
        from ui.api import serve_api

        serve_api(**kw)

    return _listening(args, run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"k={value}: k must be >= 1")
    return value


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


if __name__ == "__main__":
    sys.exit(main())
