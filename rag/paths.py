"""Where things are when the caller does not say: every default path is resolved here.

Order, for each: the command's argument, then an environment variable, then a default that does
not depend on where the command happens to run when it can avoid it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

ENV_INDEX = "RAG_INDEX"      # the index folder
ENV_FOLDER = "RAG_FOLDER"    # the documents folder
ENV_UPLOADS = "RAG_UPLOADS"  # where the chat stores uploaded files
ENV_STORE = "RAG_STORE"      # a store URI (milvus:FILE.db, http://host:19530), instead of a folder
INDEX_NAME = ".rag-index"
DEFAULT_FOLDER = "seeds"
DEFAULT_QUESTIONS = "eval/seed_questions.jsonl"
PROJECT = Path(__file__).resolve().parent.parent  # a source checkout: seeds/ and eval/ live here


def index_for_writing(arg: str | Path | None) -> Path:
    """The index to build: ``--index``, else $RAG_INDEX, else ./.rag-index."""
    if arg:
        return Path(arg)
    return Path(os.environ.get(ENV_INDEX) or INDEX_NAME)


def index_for_reading(arg: str | Path | None) -> Path:
    """The index to open: ``--index``, else $RAG_INDEX, else the nearest .rag-index in the
    current folder or one of its parents (as git finds .git), else ./.rag-index (which the
    caller reports as missing, naming it)."""
    if arg:
        return Path(arg)
    if os.environ.get(ENV_INDEX):
        return Path(os.environ[ENV_INDEX])
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / INDEX_NAME / "manifest.json").is_file():
            return folder / INDEX_NAME
    return here / INDEX_NAME


def indexed_folders(index: str | Path) -> dict[str, str]:
    """{"folder": ..., "uploads": ...} as recorded in an index's manifest ({} if none)."""
    try:
        manifest = json.loads((Path(index) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    folders = manifest.get("folders") if isinstance(manifest, dict) else None
    return dict(folders) if isinstance(folders, dict) else {}


def project_file(relative: str) -> Path:
    """``relative`` under the current folder if it is there, else under the project checkout."""
    here = Path(relative)
    if not here.exists() and (PROJECT / relative).exists():
        return PROJECT / relative
    return here


def documents_folder(arg: str | Path | None, index: str | Path | None = None,
                     recorded: str | None = None) -> Path:
    """The folder to index: the argument, else $RAG_FOLDER, else the folder the index was built
    from (its manifest, or ``recorded`` for a store read elsewhere), else seeds/."""
    if arg:
        return Path(arg)
    if os.environ.get(ENV_FOLDER):
        return Path(os.environ[ENV_FOLDER])
    if recorded is None and index is not None:
        recorded = indexed_folders(index).get("folder")
    return Path(recorded) if recorded else project_file(DEFAULT_FOLDER)


def uploads_folder(arg: str | Path | None, index: str | Path) -> Path:
    """Where uploads are stored: ``--uploads``, else $RAG_UPLOADS, else beside the index
    (INDEX-uploads/), never inside the folder being served."""
    if arg:
        return Path(arg)
    if os.environ.get(ENV_UPLOADS):
        return Path(os.environ[ENV_UPLOADS])
    index = Path(index)
    return index.with_name(f"{index.name}-uploads")


def store_base(uri: str) -> Path:
    """What uploads sit beside for a store URI: its .db file, else ./.rag-milvus (a server)."""
    if uri.startswith("milvus:") and not uri.startswith("milvus://"):
        return Path(uri[len("milvus:"):])
    return Path(".rag-milvus")


def eval_index(questions: str | Path) -> Path:
    """An evaluation's own index, apart from the chat's: .rag-eval/<question set name>."""
    return Path(".rag-eval") / Path(questions).stem
