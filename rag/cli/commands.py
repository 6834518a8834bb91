"""`rag index`, `search`, `ask`, `documents`, `serve` and `api`."""
from __future__ import annotations

import json
import os
import sys

from .. import paths
from ..answer.citations import HEDGE_LABEL
from ..errors import RagError
from .common import (_llm_fields, _local_index, _milvus_target, _open, _place, _print_json,
                     _progress, _settings, _with_llm)


def cmd_index(args) -> int:
    from ..retriever import Retriever

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
    from ..index.search import clean_query

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
    print_answer(a)
    return 0


def print_answer(a, sources: bool = True) -> None:
    """An answer as the terminal shows it: the short answer in bold, the hedge, the text with
    its markers, its sources (with ``sources``; else one line naming them), how sure it is and
    what was removed from a written answer; notes on standard error."""
    if a.note:
        print(f"note: {a.note}", file=sys.stderr)
    if a.generated:
        print(f"(written by {a.model}; every sentence checked against its quote)",
              file=sys.stderr)
    if a.resolved:
        print(f"(read as: {a.resolved})")
    if a.short:
        bold = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("**", "**")
        print(f"{bold[0]}{a.short}{bold[1]}")
    if a.hedged:
        print(HEDGE_LABEL)
    print(a.text)
    if a.abstained:
        print("\nClosest passages:")
        for h in a.hits[:3]:
            print(f"  {_place(h.passage)}: {h.passage.text[:160]}...")
    elif sources:
        print("\nSources:")
        for c in a.citations:
            print(f"  [{c.n}] {_cited_at(c)} \"{c.quote}\"")
    else:
        print("Sources: " + "  ".join(f"[{c.n}] {_cited_at(c)}" for c in a.citations))
    print(f"\n{a.outcome}, confidence {a.confidence:.2f}")
    if a.dropped:
        print("\nRemoved (not supported by the sources):")
        for d in a.dropped:
            print(f"  - {d.text}  ({d.reason})")


def _cited_at(c) -> str:
    where = f"{c.passage.source} [{c.start}:{c.end}]"
    where += f" p.{c.page}" if c.page else ""
    return where + (f" ({c.dated})" if c.dated else "")

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
