import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "moscow-times-secret-speech.txt"


def copy_seed(folder: Path) -> Path:
    """A fresh folder holding a copy of the seed article, for tests that write beside it."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED_FILE, folder / SEED_FILE.name)
    return folder


@pytest.fixture(scope="session")
def real_embedder():
    """The real model on the default backend, as users run it."""
    from rag.embedders import default_embedder

    return default_embedder()


@pytest.fixture(scope="session")
def real_torch_embedder():
    from rag import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def seed_retriever(real_embedder):
    from rag import Retriever

    return Retriever.from_folder(SEEDS, embedder=real_embedder)


@pytest.fixture(scope="session")
def seed_documents():
    from rag import load_folder

    return load_folder(SEEDS)[0]


@pytest.fixture
def hash_embedder():
    from rag import HashEmbedder

    return HashEmbedder()


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_pdf(path: Path, pages: list, title: str = "") -> None:
    """Write a small real PDF (no external tool needed). Each page is a string (one line) or a
    list of lines, set 14 pt apart from the top of the page."""
    objects = []
    n_pages = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append("<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>")
    font_id = 3 + 2 * n_pages
    for i, text in enumerate(pages):
        lines = [text] if isinstance(text, str) else text
        shown = " Tj T* ".join(_pdf_string(line) for line in lines)
        content = f"BT /F1 10 Tf 14 TL 72 720 Td {shown} Tj ET"
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       f"/Resources << /Font << /F1 {font_id} 0 R >> >> "
                       f"/Contents {4 + 2 * i} 0 R >>")
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    info_id = None
    if title:
        objects.append(f"<< /Title ({title}) >>")
        info_id = len(objects)
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R"
    if info_id:
        trailer += f" /Info {info_id} 0 R"
    out += f"trailer\n{trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(out)


# Every store the retriever runs on: tests taking ``store_kind`` run once per store.
STORES = ("local", "milvus")


@pytest.fixture(params=STORES)
def store_kind(request):
    return request.param


def kept_at(kind: str, folder: Path) -> dict:
    """Keyword arguments that keep an index in ``folder`` on the store ``kind``."""
    return {"index": folder / "idx"} if kind == "local" else {"store": f"milvus:{folder}/idx.db"}


def store_uri(kind: str, folder: Path) -> str:
    """The URI that reopens what ``kept_at(kind, folder)`` kept."""
    where = kept_at(kind, folder)
    return str(where["index"]) if kind == "local" else where["store"]
