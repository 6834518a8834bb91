"""The seed set with answers written by an LLM: llama.cpp's OpenAI-compatible server with the
Gemma 3 270M GGUF (make setup-llm), started here on 127.0.0.1, or any server given with --llm.

    .venv/bin/python -m eval.llm_eval [--llm URL] [--limit N] [--max-tokens 64]

Prints `rag eval`'s table (hybrid, default reader) with the written answers' figures: generated
or fallen back, sentences kept and dropped, answer support, citation precision, time to first
token and in all; then what the model wrote that was dropped, and why, for the first questions.
"""
from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LLM_PYTHON = ROOT / ".venv-llm" / "bin" / "python"


def start_llama() -> tuple[subprocess.Popen, str]:
    """llama.cpp's server on a free loopback port; (process, its /v1 URL) once it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if not LLM_PYTHON.exists():
        sys.exit(f"{LLM_PYTHON} is missing: run `make setup-llm`, or pass --llm URL")
    proc = subprocess.Popen([str(LLM_PYTHON), str(ROOT / "eval" / "llama_server.py"), "--port",
                             str(port), "--n_ctx", "4096"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/models", timeout=2)
            return proc, url
        except OSError:
            if proc.poll() is not None:
                sys.exit("the llama.cpp server exited")
            time.sleep(0.5)
    proc.kill()
    sys.exit("the llama.cpp server did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llm", default=None, metavar="URL", help="a running server (default: "
                    "start llama.cpp + Gemma 3 270M here)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions")
    ap.add_argument("--max-tokens", type=int, default=64)
    args = ap.parse_args()
    proc, url = (None, args.llm) if args.llm else start_llama()
    try:
        with tempfile.TemporaryDirectory(prefix="rag-llm-eval-") as tmp:
            questions = ROOT / "eval" / "seed_questions.jsonl"
            if args.limit:
                rows = questions.read_text(encoding="utf-8").splitlines()[:args.limit]
                questions = Path(tmp) / "questions.jsonl"
                questions.write_text("\n".join(rows) + "\n", encoding="utf-8")
            out = Path(tmp) / "results.json"
            cmd = [sys.executable, "-m", "rag.cli", "eval", str(questions), "--index",
                   str(Path(tmp) / "idx"), "--folder", str(ROOT / "seeds"), "--llm", url,
                   "--llm-max-tokens", str(args.max_tokens), "--llm-timeout", "120", "--out",
                   str(out)]
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(done.stderr[-2000:])
            print(done.stdout)
            result = json.loads(out.read_text(encoding="utf-8"))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
    shown = 0
    for q in result.get("questions", []):
        print(f"- {q['question']} -> {'abstained' if q['abstained'] else 'answered'}"
              f"{' (written)' if q['generated'] else ' (quotes: fell back)'}, {q['kept']} kept, "
              f"{q['dropped']} dropped")
        shown += 1
        if shown >= 10:
            break


if __name__ == "__main__":
    main()
