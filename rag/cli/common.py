"""What every `rag` command shares: the index or store it names, settings from flags, JSON
output."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .. import paths


def _progress(args) -> bool:
    """Progress bars: with --progress, or when standard error is a terminal (never with --json)."""
    if getattr(args, "json", False):
        return False
    return bool(getattr(args, "progress", False)) or sys.stderr.isatty()

def _store(args) -> str | None:
    """--store URI (or $RAG_STORE), unless --index names a folder."""
    if getattr(args, "store", None) and getattr(args, "index", None):
        from ..errors import ConfigError

        raise ConfigError("give --index DIR (a local index) or --store URI, not both")
    if getattr(args, "index", None):
        return None
    return getattr(args, "store", None) or os.environ.get(paths.ENV_STORE) or None

def _open(args):
    """The index to query: --store, --index, $RAG_STORE, $RAG_INDEX, or the nearest .rag-index
    up from here."""
    from ..retriever import Retriever

    uri = _store(args)
    if uri:
        return Retriever.open(uri, settings=_settings(args))
    return Retriever.load(paths.index_for_reading(args.index), settings=_settings(args))

def _milvus_target(args) -> tuple[str, dict] | None:
    """(URI, the folders its index records) when the index lives in Milvus, else None."""
    from ..index.stores import parse_store

    uri = _store(args)
    if not uri or parse_store(uri)[0] != "milvus":
        return None
    from ..index.stores.milvus import MilvusStore

    store = MilvusStore(parse_store(uri)[1])
    try:
        return uri, dict(store.meta.get("folders", {}))
    finally:
        store.close()

def _settings(args):
    """Settings from the command line: None when none is given (the index's own apply)."""
    from ..settings import Settings

    backend, device = getattr(args, "backend", None), getattr(args, "device", None)
    if not backend and not device:
        return None
    return Settings(backend=backend, device=device or "auto")

def _llm_fields(args) -> dict:
    """The LLM settings from --llm/--llm-model/--llm-timeout, else $RAG_LLM_URL/$RAG_LLM_MODEL
    (the key only from $RAG_LLM_API_KEY: never on a command line); {} without a server."""
    from ..answer.llm import ENV_MODEL, ENV_URL

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
    return r.with_settings(**fields) if fields else r

def _eval_settings(args):
    """Evaluation measures the default backend unless --backend says: never whatever backend
    its (private, rebuilt as needed) index happened to be built with last."""
    from ..settings import DEFAULT_BACKEND, Settings

    return Settings(backend=args.backend or DEFAULT_BACKEND,
                    device=getattr(args, "device", None) or "auto", **_llm_fields(args))

def _print_json(obj) -> None:
    from ..types import to_dict

    print(json.dumps(to_dict(obj), ensure_ascii=False, indent=1))

def _place(p) -> str:
    where = f"{p.source} [{p.start}:{p.end}]"
    return f"{where} p.{p.page}" if p.page else where

def _local_index(args) -> Path:
    """The local index folder to write: --store local:DIR / DIR, else --index, $RAG_INDEX, else
    the folder's default (./.rag-index unless that holds another folder: paths.index_for_folder)."""
    from ..index.stores import parse_store

    uri = _store(args)
    if uri or args.index or os.environ.get(paths.ENV_INDEX):
        return paths.index_for_writing(parse_store(uri)[1] if uri else args.index)
    index, note = paths.index_for_folder(args.folder or os.environ.get(paths.ENV_FOLDER))
    if note:
        print(f"rag: {note}", file=sys.stderr)
    return index

def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"k={value}: k must be >= 1")
    return value
