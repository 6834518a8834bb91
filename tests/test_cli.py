"""The `rag` command as a user runs it: real model, real processes, one-line errors."""
import json
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, SEED_FILE, copy_seed

pytestmark = pytest.mark.model


def rag(*args, cwd=ROOT, stdin=None):
    return subprocess.run([sys.executable, "-m", "rag.cli", *map(str, args)], cwd=cwd,
                          input=stdin, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    folder = copy_seed(tmp / "docs")
    out = rag("index", folder, "--index", tmp / "idx", "--json")
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout)
    assert counts["added"] == 1 and counts["passages"] > 5
    return {"folder": folder, "index": tmp / "idx"}


def test_reindex_is_incremental(index):
    out = rag("index", index["folder"], "--index", index["index"], "--json")
    counts = json.loads(out.stdout)
    assert (counts["added"], counts["updated"], counts["removed"], counts["unchanged"]) == \
        (0, 0, 0, 1)


def test_ask_json_has_verified_citations(index):
    out = rag("ask", "What happened to Stalin's body after the 22nd Congress?", "--index",
              index["index"], "--json")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    text = SEED_FILE.read_text(encoding="utf-8")
    assert not answer["abstained"] and answer["citations"]
    assert answer["outcome"] in ("answered", "hedged") and 0.0 <= answer["confidence"] <= 1.0
    for c in answer["citations"]:
        assert text[c["start"]:c["end"]] == c["quote"]
    assert "mausoleum" in answer["text"]
    # The plain answer says the same: its outcome and confidence last.
    plain = rag("ask", "What happened to Stalin's body after the 22nd Congress?", "--index",
                index["index"])
    last = plain.stdout.strip().splitlines()[-1]
    assert last == f"{answer['outcome']}, confidence {answer['confidence']:.2f}"


def test_search_prints_sources_and_spans(index):
    out = rag("search", "Tsar-bomba nuclear weapon", "-k", 2, "--mode", "bm25", "--index",
              index["index"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("1. score") and SEED_FILE.name in out.stdout
    assert "Tsar-bomba" in out.stdout


@pytest.mark.parametrize("args, message", [
    (["ask", "   "], "question is empty"),
    (["search", "Stalin", "-k", "0"], "k must be >= 1"),
    (["search", "Stalin", "--index", "/nonexistent/idx"], "no index at"),
    (["index", "/nonexistent/folder"], "does not exist"),
])
def test_bad_input_is_one_line_and_non_zero(index, args, message):
    if "--index" not in args and args[0] != "index":
        args = [*args, "--index", index["index"]]
    out = rag(*args)
    assert out.returncode != 0
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_corrupt_index_is_reported(index, tmp_path):
    broken = tmp_path / "idx"
    shutil.copytree(index["index"], broken)
    data = (broken / "base" / "vectors.faiss").read_bytes()
    (broken / "base" / "vectors.faiss").write_bytes(data[: len(data) // 2])
    out = rag("ask", "Stalin", "--index", broken)
    assert out.returncode == 1 and "corrupt or truncated" in out.stderr
    assert "rag index" in out.stderr and "Traceback" not in out.stderr


def test_empty_folder_and_huge_question(index, tmp_path):
    out = rag("index", tmp_path, "--index", tmp_path / "idx")
    assert out.returncode == 1 and "no readable" in out.stderr
    # ~200 KB: more than one command-line argument may hold, so it comes on standard input.
    out = rag("ask", "-", "--index", index["index"], stdin="Stalin " * 30_000)
    assert out.returncode == 0 and "truncated" in out.stderr


def test_eval_command_writes_json_per_mode(index, tmp_path):
    # The folder comes from the index's manifest; --out writes the results, the table is printed.
    out = rag("eval", "--index", index["index"], "--mode", "all", "--k", 10,
              "--out", tmp_path / "out.json")
    assert out.returncode == 0, out.stderr
    assert "| hit@5 |" in out.stdout
    data = json.loads((tmp_path / "out.json").read_text())
    # --json prints the same JSON to standard output, nothing else.
    printed = rag("eval", "--index", index["index"], "--mode", "bm25", "--json")
    assert json.loads(printed.stdout)["metrics"]["hit@5"] == data["bm25"]["metrics"]["hit@5"]
    assert set(data) == {"hybrid", "dense", "bm25"}
    hybrid = data["hybrid"]
    assert hybrid["metrics"]["hit@5"] >= 0.9 and len(hybrid["questions"]) >= 58
    # Every citation of every answer quotes its document exactly.
    assert hybrid["metrics"]["citations"] > 40 and hybrid["metrics"]["citations_verified"] == 1.0
    q = hybrid["questions"][0]
    assert {"retrieved", "first_relevant_rank", "answer", "abstained", "hedged",
            "citations"} <= set(q)
    # The three outcomes of each kind of question: shares that add up to one.
    m = hybrid["metrics"]
    for kind in ("answerable", "unanswerable"):
        shares = [m[f"{outcome}_{kind}"] for outcome in ("answered", "hedged", "abstained")]
        assert sum(shares) == pytest.approx(1.0)
    assert "| hedged_unanswerable |" in out.stdout


def test_eval_beir_fixture(tmp_path):
    from pathlib import Path

    beir = Path(__file__).parent / "fixtures" / "beir"
    out = rag("eval", "--beir", beir, "--index", tmp_path / "idx", "--out", tmp_path / "b.json")
    assert out.returncode == 0, out.stderr
    metrics = json.loads((tmp_path / "b.json").read_text())["metrics"]
    assert metrics["ndcg@10"] > 0.9 and metrics["queries"] == 3
    assert (tmp_path / "idx" / "manifest.json").exists()


def test_k_spelled_both_ways_and_json_everywhere(index):
    short = rag("search", "Tsar-bomba", "-k", 2, "--index", index["index"], "--json")
    long = rag("search", "Tsar-bomba", "--k", 2, "--index", index["index"], "--json")
    assert json.loads(short.stdout) == json.loads(long.stdout)
    assert len(json.loads(short.stdout)) == 2
    docs = rag("documents", "--index", index["index"], "--json")
    listed = json.loads(docs.stdout)
    assert [d["source"] for d in listed] == [SEED_FILE.name] and listed[0]["passages"] > 5


def test_index_found_from_elsewhere_by_environment_or_parent_folder(index, tmp_path):
    import os

    env = {**os.environ, "RAG_INDEX": str(index["index"])}
    out = subprocess.run([sys.executable, "-m", "rag.cli", "search", "Tsar-bomba", "-k", "1"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and "Tsar-bomba" in out.stdout, out.stderr
    # Without RAG_INDEX: the nearest .rag-index in this folder or a parent, as git finds .git.
    shutil.copytree(index["index"], tmp_path / ".rag-index")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    env.pop("RAG_INDEX")
    out = subprocess.run([sys.executable, "-m", "rag.cli", "search", "Tsar-bomba", "-k", "1"],
                         cwd=tmp_path / "deep" / "er", env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0 and "Tsar-bomba" in out.stdout, out.stderr
    # Nowhere to be found: the error names the path it looked at.
    out = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "Stalin"], cwd="/", env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 1 and "no index at '/.rag-index'" in out.stderr


def test_progress_bars_only_when_asked_or_on_a_terminal(tmp_path):
    folder = copy_seed(tmp_path / "docs")
    quiet = rag("index", folder, "--index", tmp_path / "a")
    assert quiet.returncode == 0 and "embedding passages" not in quiet.stderr
    shown = rag("index", folder, "--index", tmp_path / "b", "--progress")
    assert "embedding passages" in shown.stderr and "Batches" not in shown.stderr


def test_backend_is_recorded_and_another_vector_space_is_refused(tmp_path):
    folder = copy_seed(tmp_path / "docs")
    out = rag("index", folder, "--index", tmp_path / "ix", "--backend", "onnx-int8")
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "ix" / "manifest.json").read_text())["backend"] == "onnx-int8"
    # No --backend: the index's own is used.
    out = rag("search", "Secret Speech", "--index", tmp_path / "ix", "--json")
    assert out.returncode == 0, out.stderr
    assert "Secret Speech" in json.loads(out.stdout)[0]["passage"]["text"]
    out = rag("search", "Secret Speech", "--index", tmp_path / "ix", "--backend", "onnx")
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1
    assert "embedded by backend 'onnx-int8'" in out.stderr
    assert "--backend onnx-int8" in out.stderr and "rag index --backend onnx" in out.stderr
    out = rag("search", "Secret Speech", "--backend", "gpu")
    assert out.returncode == 2 and "invalid choice: 'gpu'" in out.stderr


def test_the_same_commands_run_on_a_milvus_store(tmp_path):
    folder = copy_seed(tmp_path / "docs")
    store = f"milvus:{tmp_path}/index.db"
    out = rag("index", folder, "--store", store, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["added"] == 1
    again = json.loads(rag("index", "--store", store, "--json").stdout)  # its recorded folder
    assert (again["added"], again["unchanged"]) == (0, 1)
    out = rag("ask", "What happened to Stalin's body after the 22nd Congress?", "--store", store,
              "--json")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    text = SEED_FILE.read_text(encoding="utf-8")
    assert answer["citations"] and "mausoleum" in answer["text"]
    assert all(text[c["start"]:c["end"]] == c["quote"] for c in answer["citations"])
    docs = json.loads(rag("documents", "--store", store, "--json").stdout)
    assert [d["source"] for d in docs] == [SEED_FILE.name]
    out = rag("search", "Stalin", "--store", f"milvus:{tmp_path}/none.db")
    assert out.returncode == 1 and "no rag index in the Milvus store" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_rag_api_answers_the_readme_examples_over_http(index):
    import os
    import socket
    import time

    import httpx

    with socket.socket() as s:  # a free port on loopback
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RAG_API_KEY": ""}
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "api", index["folder"], "--index",
                             index["index"], "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        answer = httpx.post(f"{base}/ask", json={"question": "What happened to Stalin's body "
                                                 "after the 22nd Congress?", "k": 5},
                            timeout=60).json()
        text = SEED_FILE.read_text(encoding="utf-8")
        assert answer["citations"] and "mausoleum" in answer["text"]
        assert all(text[c["start"]:c["end"]] == c["quote"] for c in answer["citations"])
        hits = httpx.post(f"{base}/search", json={"query": "Tsar-bomba", "k": 2, "mode": "bm25"},
                          timeout=60).json()
        assert "Tsar-bomba" in hits[0]["passage"]["text"]
        assert httpx.get(f"{base}/stats", timeout=10).json()["documents"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_another_folder_never_takes_over_an_index(tmp_path):
    a = copy_seed(tmp_path / "a")
    b = tmp_path / "b"
    b.mkdir()
    (b / "lighthouse.txt").write_text("The Pemberton lighthouse was built in 1874.")
    work = tmp_path / "work"
    work.mkdir()

    def sources(*where):
        out = rag("documents", "--json", *where, cwd=work)
        assert out.returncode == 0, out.stderr
        return [d["source"] for d in json.loads(out.stdout)]

    assert rag("index", a, cwd=work).returncode == 0  # ./.rag-index holds a
    out = rag("index", b, "--json", cwd=work)  # no --index: b gets its own, beside it
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["index"] == str(b.resolve() / ".rag-index")
    assert "holds" in out.stderr and str(a.resolve()) in out.stderr
    assert sources() == [SEED_FILE.name]
    assert sources("--index", b / ".rag-index") == ["lighthouse.txt"]
    # An explicit index that holds another folder is refused, by every command that indexes.
    for command in (["index", b], ["api", b, "--port", "9"], ["serve", b, "--port", "9"]):
        out = rag(*command, "--index", work / ".rag-index", cwd=work)
        assert out.returncode == 1 and "--replace" in out.stderr, (command, out.stderr)
        assert "Traceback" not in out.stderr
        assert sources() == [SEED_FILE.name]
    out = rag("index", b, "--index", work / ".rag-index", "--replace", cwd=work)
    assert out.returncode == 0, out.stderr
    assert sources() == ["lighthouse.txt"]


@pytest.mark.parametrize("args", [["documents", "--json"], ["search", "Stalin", "-k", "5"]])
def test_a_closed_pipe_ends_quietly(index, args):
    import os

    read, write = os.pipe()
    os.close(read)  # the reader has gone before anything is written, as `| head` does early
    try:
        out = subprocess.run([sys.executable, "-m", "rag.cli", *args, "--index",
                              str(index["index"])], cwd=ROOT, stdout=write,
                             stderr=subprocess.PIPE, text=True, timeout=600)
    finally:
        os.close(write)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert "BrokenPipe" not in out.stderr


def test_rag_chat_keeps_the_conversation_from_standard_input(index):
    script = ("Who gave the Secret Speech?\nWhen did he give it?\n/sources\n/clear\n"
              "When did he give it?\n/quit\nnever asked\n")
    out = rag("chat", "--index", index["index"], stdin=script)
    assert out.returncode == 0, out.stderr
    turns = out.stdout.split("you> ")[1:]
    assert len(turns) == 3 and "never asked" not in out.stdout
    follow = turns[1]
    assert "(read as: When did" in follow and "give the Secret Speech?)" in follow
    assert "Feb. 25 1956" in follow and "[1]" in follow and "Sources: [1] " in follow
    assert "answered, confidence" in follow or "hedged, confidence" in follow
    # /sources: the last answer's quotes, whole
    assert '"Seventy years ago today, on Feb. 25 1956' in follow
    # after /clear the same question has nothing to lean on
    assert "(a new conversation)" in follow and "read as" not in turns[2]


def test_rag_chat_in_a_terminal(index):
    import os
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: rag chat on the pseudo-terminal
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "rag.cli", "chat", "--index",
                                  str(index["index"])])
    seen = b""

    def read_until(marker: bytes, timeout: float = 300) -> None:
        nonlocal seen
        import time

        end = time.time() + timeout
        while marker not in seen and time.time() < end:
            if select.select([fd], [], [], 1)[0]:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break

    read_until(b"you> ")
    assert b"/sources" in seen  # the help line, on a terminal only
    os.write(fd, b"How long did Khrushchev speak?\n")
    read_until(b"confidence")
    assert b"four hours" in seen
    os.write(fd, b"/quit\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
