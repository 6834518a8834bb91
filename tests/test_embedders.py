import json
import subprocess
import sys

import numpy as np
import pytest

from rag import (BACKENDS, ConfigError, Document, HashEmbedder, IndexLoadError, Retriever,
                 Settings, make_embedder)
from rag.embedders import VECTOR_SPACE

TEXTS = ["Nikita Khrushchev gave the Secret Speech in February 1956.",
         "The speech lasted about four hours.",
         "Kurz.",
         "A longer sentence about the Twentieth Congress of the Communist Party of the Soviet "
         "Union, the denunciation of Stalin, and what followed in the Eastern Bloc. " * 3]


class _Backend(HashEmbedder):
    """A test embedder that says which backend it stands for."""

    def __init__(self, backend: str) -> None:
        super().__init__()
        self.backend = backend


def test_unknown_backend_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="backend='gpu': must be one of onnx-int8, onnx, torch"):
        Settings(backend="gpu")
    with pytest.raises(ConfigError, match="backend='gpu'"):
        make_embedder(backend="gpu")


def test_every_backend_has_a_vector_space():
    assert set(VECTOR_SPACE) == set(BACKENDS)


def test_an_index_records_its_backend_and_refuses_another_vector_space(tmp_path):
    docs = [Document(id="a", text="Khrushchev spoke for four hours.")]
    Retriever.from_documents(docs, index=tmp_path / "ix", embedder=_Backend("torch"))
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["backend"] == "torch"
    # fp32 ONNX gives torch's vectors: it searches the index as it is.
    r = Retriever.load(tmp_path / "ix", embedder=_Backend("onnx"))
    assert r.search("four hours", k=1)[0].passage.doc_id == "a"
    with pytest.raises(IndexLoadError, match=r"embedded by backend 'torch'.*--backend torch.*"
                                             r"rag index --backend onnx-int8"):
        Retriever.load(tmp_path / "ix", embedder=_Backend("onnx-int8"))


def test_refreshing_with_another_vector_space_rebuilds(tmp_path):
    docs = [Document(id="a", text="Khrushchev spoke for four hours.")]
    Retriever.from_documents(docs, index=tmp_path / "ix", embedder=_Backend("torch"))
    r = Retriever.from_documents(docs, index=tmp_path / "ix", embedder=_Backend("onnx-int8"))
    assert r.last_stats.added == 1  # embedded again, not reused
    assert json.loads((tmp_path / "ix" / "manifest.json").read_text())["backend"] == "onnx-int8"


@pytest.mark.model
@pytest.mark.parametrize("backend,floor", [("onnx", 0.9999), ("onnx-int8", 0.97)])
def test_onnx_vectors_agree_with_sentence_transformers(real_torch_embedder, backend, floor):
    onnx = make_embedder(backend=backend)
    ref = real_torch_embedder.encode(TEXTS)
    got = onnx.encode(TEXTS)
    assert got.shape == ref.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    assert (got * ref).sum(1).min() >= floor
    # Batching and padding do not change a text's vector.
    assert np.allclose(onnx.encode(TEXTS[:1])[0], got[0], atol=1e-5)
    assert [onnx.count_tokens(t) for t in TEXTS] == \
        [real_torch_embedder.count_tokens(t) for t in TEXTS]
    assert onnx.max_tokens == real_torch_embedder.max_tokens == 256


@pytest.mark.model
def test_a_damaged_export_is_exported_again(tmp_path):
    from rag import OnnxEmbedder
    from rag.embedders.onnx import export_folder

    e = OnnxEmbedder(quantized=True)
    e.encode(["warm up"])  # the shared cache holds an export
    cache = tmp_path / "cache"
    import shutil

    shutil.copytree(export_folder(e._path), cache)
    (cache / "model-int8.onnx").write_bytes(b"not a model")
    damaged = OnnxEmbedder(quantized=True, cache=cache)
    assert np.allclose(damaged.encode(TEXTS), e.encode(TEXTS), atol=1e-5)
    files = json.loads((cache / "export.json").read_text())["files"]
    assert set(files) == {"model.onnx", "model-int8.onnx"}


@pytest.mark.model
def test_the_onnx_path_never_imports_torch(tmp_path):
    """Indexing, loading, searching and answering on ONNX Runtime: no torch in the process."""
    ix = str(tmp_path / "ix")
    code = f"""
import sys
from rag import Document, Retriever, Settings
docs = [Document(id="a", text="Khrushchev spoke for four hours. He denounced Stalin.")]
Retriever.from_documents(docs, index={ix!r}, settings=Settings(backend="onnx-int8"))
r = Retriever.load({ix!r})
a = r.ask("How long did Khrushchev speak?")
assert r.embedder.backend == "onnx-int8", r.embedder.backend
print(a.citations[0].quote, "torch" in sys.modules, "sentence_transformers" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Khrushchev spoke for four hours. False False"


def test_device_setting_is_checked_and_says_what_to_install():
    import onnxruntime as ort

    from rag.embedders import onnx_providers

    with pytest.raises(ConfigError, match="device='gpu': must be one of auto, cpu, cuda, mps"):
        Settings(device="gpu")
    assert onnx_providers("cpu") == ["CPUExecutionProvider"]
    with pytest.raises(ConfigError, match="--backend torch"):
        onnx_providers("mps")
    if "CUDAExecutionProvider" in ort.get_available_providers():
        assert onnx_providers("auto")[0] == "CUDAExecutionProvider"
    else:  # this machine (and CI): no GPU, so "auto" is the CPU and "cuda" an error
        assert onnx_providers("auto") == ["CPUExecutionProvider"]
        with pytest.raises(ConfigError, match="pip install onnxruntime-gpu"):
            onnx_providers("cuda")


@pytest.mark.model
def test_counting_words_in_a_thread_while_the_model_encodes_is_safe(real_torch_embedder):
    # Indexing chunks (counting word pieces) in a thread while the model encodes: they must
    # not share a tokenizer (transformers resets a shared one's padding between a batch's
    # set-up and its encoding: the batch comes out ragged, or the other thread fails).
    import random
    import threading

    rng = random.Random(7)
    words = TEXTS[3].split()
    texts = [" ".join(rng.choices(words, k=rng.randint(3, 60))) for _ in range(64)]
    errors = []

    def count():
        for n in range(2000):
            try:
                real_torch_embedder.count_tokens(f"{texts[n % len(texts)]} {n}")  # uncached
            except Exception as e:  # noqa: BLE001 - any failure in the thread fails the test
                errors.append(e)

    counter = threading.Thread(target=count)
    counter.start()
    i = 0
    while counter.is_alive() or i == 0:
        vecs = real_torch_embedder.encode(texts[i % 60:i % 60 + 4])
        i += 1
    counter.join()
    assert vecs.shape == (4, 384) and not errors
    model_tokenizer = real_torch_embedder.model.tokenizer
    assert real_torch_embedder.tokenizer is not model_tokenizer.backend_tokenizer
    assert real_torch_embedder.count_tokens("Khrushchev spoke.") == \
        len(model_tokenizer("Khrushchev spoke.", add_special_tokens=False)["input_ids"])


def test_the_onnx_export_is_keyed_by_the_weights_content(tmp_path, monkeypatch):
    """A second clone (another venv, the same packaged weights) reuses the export."""
    from rag.embedders.onnx import export_folder

    monkeypatch.setenv("RAG_CACHE", str(tmp_path / "cache"))
    clones = []
    for name, weights in (("one", b"w" * 1000), ("two", b"w" * 1000), ("three", b"x" * 1000)):
        model = tmp_path / name / "all-MiniLM-L6-v2"
        model.mkdir(parents=True)
        (model / "model.safetensors").write_bytes(weights)
        clones.append(export_folder(str(model)))
    assert clones[0] == clones[1] != clones[2]
    assert clones[0].parent == tmp_path / "cache" / "onnx"
