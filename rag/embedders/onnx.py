"""The ONNX Runtime backend: the packaged sentence-transformers model exported once to ONNX (fp32,
and int8 by dynamic quantization), with mean pooling and L2 normalisation inside the graph, as
the sentence-transformers model computes them. At run time only onnxruntime and tokenizers are
imported: no torch, no sentence-transformers.

The export (torch.onnx.export, then onnxruntime's quantizer) runs at ``make setup`` or on first
use, into a cache folder (``$RAG_CACHE``, else ``$XDG_CACHE_HOME/rag``, else ``~/.cache/rag``)
keyed by the SHA-256 of the source weights (a second clone on the machine reuses it); ``export.json`` there records each file's SHA-256, size and time,
checked when the model loads."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..index.passages import _sha256
from ..settings import DEFAULT_MODEL
from . import count_word_pieces, counting_tokenizer, encode_with_progress, model_path

log = logging.getLogger(__name__)

EXPORT_VERSION = 3
OPSET = 17


def cache_root() -> Path:
    """Where exported models are kept."""
    if os.environ.get("RAG_CACHE"):
        return Path(os.environ["RAG_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag"


def _stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _verified(folder: Path, name: str) -> bool:
    """Is ``name`` in ``folder`` the file the export wrote? Its size and modification time as
    recorded say so without reading it (hashing the fp32 model costs ~0.1 s of every cold
    start); otherwise its SHA-256 decides."""
    try:
        record = json.loads((folder / "export.json").read_text())
        if _stat(folder / name) == record.get("stat", {}).get(name):
            return True
        return _sha256(folder / name) == record["files"][name]
    except (OSError, ValueError, KeyError):
        return False


def _weights(folder: Path) -> Path:
    if (folder / "model.safetensors").is_file():  # never pickled weights
        return folder / "model.safetensors"
    raise ConfigError(f"no model.safetensors in {str(folder)!r}: give a sentence-transformers "
                      "model folder with safetensors weights")


@lru_cache(maxsize=8)
def export_folder(source: str) -> Path:
    """The cache folder for the model in ``source``, named by its weights' content (SHA-256):
    every checkout or venv holding the same weights shares one export."""
    key = hashlib.sha256(f"{_weights_digest(_weights(Path(source)))}|{EXPORT_VERSION}"
                         .encode()).hexdigest()[:16]
    return cache_root() / "onnx" / f"{Path(source).name}-{key}"


def _weights_digest(weights: Path) -> str:
    """SHA-256 of the weights, remembered by path, size and modification time in the cache
    (hashing 90 MB costs ~0.1 s: once per copy of the weights, not on every start)."""
    st = weights.stat()
    stamp = f"{weights.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    record = cache_root() / "onnx" / "weights.json"
    try:
        known = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if isinstance(known, dict) and isinstance(known.get(stamp), str):
        return known[stamp]
    digest = _sha256(weights)
    known = {**(known if isinstance(known, dict) else {}), stamp: digest}
    try:
        import tempfile

        record.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".weights-", dir=record.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(known, f, indent=1)
        os.replace(tmp, record)
    except OSError:  # a read-only cache: hash again next time
        pass
    return digest


def export(source: str, out: Path | None = None, quiet: bool = False) -> Path:
    """Export the sentence-transformers model in folder ``source`` to ``out`` (default: its cache
    folder): model.onnx (fp32), model-int8.onnx and export.json. Needs torch and onnx (installed
    with rag); takes ~10 s on 2 cores. Written to a temporary folder and renamed, so a crash
    never leaves a half export. The process's logging and warnings are as they were after."""
    out = Path(out) if out is not None else export_folder(source)
    t0 = time.time()
    if not quiet:
        log.warning("exporting the embedding model to ONNX (once) into %s ...", out)
    try:
        import onnxruntime.quantization  # noqa: F401 - needs the onnx package
        import torch
        from transformers import AutoModel
    except ImportError as e:
        raise ConfigError(f"exporting the ONNX model needs torch, transformers and onnx ({e}): "
                          "run `make setup`, or use Settings(backend='torch')") from e

    class Pooled(torch.nn.Module):
        """Transformer -> mean over the attention mask -> L2 normalisation (sentence-
        transformers' Pooling(mean) + Normalize)."""

        def __init__(self) -> None:
            super().__init__()
            # Eager attention exports as plain MatMul/Softmax, which ONNX Runtime runs ~1.2x
            # faster on CPU than the exported scaled-dot-product attention.
            self.encoder = AutoModel.from_pretrained(source, attn_implementation="eager",
                                                     local_files_only=True)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python control flow
        _export(Pooled, source, out)
    if not quiet:
        log.warning("exported in %.0f s", time.time() - t0)
    return out


def _export(Pooled, source: str, out: Path) -> None:
    """Trace, quantize and write the export into ``out`` (via a temporary sibling folder)."""
    import shutil
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoTokenizer

    model = Pooled().eval()
    enc = AutoTokenizer.from_pretrained(source)(["an example sentence"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    try:
        with torch.no_grad():
            torch.onnx.export(model, tuple(enc[n] for n in names), str(tmp / "model.onnx"),
                              input_names=names, output_names=["embedding"],
                              opset_version=OPSET, dynamo=False,
                              dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names},
                                            "embedding": {0: "batch"}})
        quantize_dynamic(str(tmp / "model.onnx"), str(tmp / "model-int8.onnx"),
                         weight_type=QuantType.QInt8, per_channel=True)
        manifest = {"format": "rag-onnx-embedder", "export_version": EXPORT_VERSION,
                    "source": str(Path(source).resolve()),
                    "source_sha256": _sha256(_weights(Path(source))),
                    "torch": torch.__version__, "opset": OPSET,
                    "files": {n: _sha256(tmp / n) for n in ("model.onnx", "model-int8.onnx")},
                    "stat": {n: _stat(tmp / n) for n in ("model.onnx", "model-int8.onnx")}}
        (tmp / "export.json").write_text(json.dumps(manifest, indent=1))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


class OnnxEmbedder:
    """The model on ONNX Runtime, fp32 or int8 (``quantized``). Loads (and, the first time,
    exports) on first use. Runs as rag/runtime/onnxrun.py does: small batches on one single-threaded
    worker a core; int8 one text at a time, so that a text's vector is the same in any call."""

    def __init__(self, model: str = DEFAULT_MODEL, quantized: bool = True,
                 batch_size: int | None = None, cache: str | Path | None = None,
                 device: str = "cpu") -> None:
        self._path, self.model_id = model_path(model)
        self.device = device  # "auto", "cpu", "cuda": resolved when the model loads
        self.quantized = quantized
        self.backend = "onnx-int8" if quantized else "onnx"
        self.batch_size = batch_size or (1 if quantized else 4)
        self._cache = Path(cache) if cache is not None else None
        self._model = None
        self._tokenizer = None
        config = Path(self._path) / "sentence_bert_config.json"
        self.max_tokens = int(json.loads(config.read_text())["max_seq_length"]) \
            if config.is_file() else 256
        try:
            self.dim = int(json.loads((Path(self._path) / "config.json").read_text())
                           ["hidden_size"])
        except (OSError, ValueError, KeyError) as e:
            raise ConfigError(f"model folder {self._path!r} has no readable config.json ({e}): "
                              "give a sentence-transformers model folder") from e

    @property
    def tokenizer(self):
        """The word-piece tokenizer alone (counting tokens needs no model)."""
        if self._tokenizer is None:
            self._tokenizer = counting_tokenizer(self._path)
        return self._tokenizer

    @property
    def model(self):
        if self._model is None:
            from ..runtime.onnxrun import OnnxModel

            folder = self._cache or export_folder(self._path)
            name = "model-int8.onnx" if self.quantized else "model.onnx"
            if not (folder / "export.json").is_file():
                export(self._path, folder)
            ok = _verified(folder, name)
            if not ok:  # damaged or half-deleted cache: export again
                log.warning("the ONNX model in %s does not match its checksum: exporting again",
                            folder)
                export(self._path, folder)
            from . import onnx_providers

            providers = onnx_providers(self.device)
            gpu = providers[0] != "CPUExecutionProvider"
            self._model = OnnxModel(folder / name, Path(self._path) / "tokenizer.json",
                                    self.max_tokens, 64 if gpu else self.batch_size,
                                    providers=providers)
        return self._model

    def count_tokens(self, text: str) -> int:
        return count_word_pieces(self, text)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return encode_with_progress(self.model.run, list(texts), self.dim, 256, progress)
