"""Where things are when the caller does not say: every default path is resolved here.

Order, for each: the command's argument, then an environment variable, then a default that does
not depend on where the command happens to run when it can avoid it.
"""
from __future__ import annotations

import hashlib
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
MODELS = Path(__file__).resolve().parent / "models"  # the packaged reader, gate and calibration


def index_for_writing(arg: str | Path | None) -> Path:
    """The index to build: ``--index``, else $RAG_INDEX, else ./.rag-index."""
    if arg:
        return Path(arg)
    return Path(os.environ.get(ENV_INDEX) or INDEX_NAME)


def index_for_folder(folder: str | Path | None) -> tuple[Path, str]:
    """(index, note): the default index for documents ``folder`` when no ``--index`` or
    $RAG_INDEX is given. It is ./.rag-index unless that holds another folder; then the folder
    gets its own, ``FOLDER/.rag-index`` (hidden: never read as a document), or one in the cache
    folder when ``folder`` is not writable. ``note`` says why when it is not ./.rag-index, so an
    index holding one folder is never rebuilt for another by default."""
    default = index_for_writing(None)
    if folder is None or not Path(folder).is_dir():  # no folder: its error says so, alone
        return default, ""
    recorded = indexed_folders(default).get("folder")
    wanted = Path(folder).resolve()
    if not recorded or Path(recorded) == wanted:
        return default, ""
    own = wanted / INDEX_NAME
    if not (own.exists() or os.access(wanted, os.W_OK)):
        digest = hashlib.sha256(str(wanted).encode("utf-8")).hexdigest()[:12]
        own = cache_folder() / "indexes" / f"{wanted.name or 'root'}-{digest}"
    return own, (f"{default} holds {recorded}; the index of {wanted} is {own} (pass --index "
                 f"{own} to other commands, or run them from {wanted})")


def cache_folder() -> Path:
    """rag's cache: $XDG_CACHE_HOME/rag, else ~/.cache/rag."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rag"


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
    (INDEX-uploads/; inside the served folder only when the index is in a hidden folder there,
    which is never read as documents)."""
    if arg:
        return Path(arg)
    if os.environ.get(ENV_UPLOADS):
        return Path(os.environ[ENV_UPLOADS])
    index = Path(index)
    return index.with_name(f"{index.name}-uploads")


def extracted_folder(index: str | Path) -> Path:
    """Where costly extractions (OCR) are kept for an index: beside it, INDEX-extracted/."""
    index = Path(index)
    return index.with_name(f"{index.name}-extracted")


def store_base(uri: str) -> Path:
    """What uploads sit beside for a store URI: its .db file, else ./.rag-milvus (a server)."""
    if uri.startswith("milvus:") and not uri.startswith("milvus://"):
        return Path(uri[len("milvus:"):])
    return Path(".rag-milvus")


def is_hidden_inside(path: str | Path, folder: str | Path) -> bool:
    """Whether ``path`` lies inside ``folder`` under a hidden name (a leading dot): the folder's
    documents never include it."""
    path, folder = Path(path).resolve(), Path(folder).resolve()
    if not path.is_relative_to(folder):
        return False
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


def eval_index(questions: str | Path) -> Path:
    """An evaluation's own index, apart from the chat's: .rag-eval/<question set name>."""
    return Path(".rag-eval") / Path(questions).stem
