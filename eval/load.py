"""Load and faults, all on 127.0.0.1: many users at once against `rag serve` (its REST API and its
Gradio chat), uploads and deletes interleaved with the questions, and `kill -9` of `rag api`
during uploads.

    .venv/bin/python -m eval.load [--clients 50] [--questions 10] [--kills 10] [--api-questions 4]

Prints one table per part: errors, p50/p95 latency and questions per second; for the uploads,
whether every answer cited only documents that existed while it was asked; for the kills, how
many restarts served a valid index holding every upload acknowledged before the kill; for
`rag api` alone, the first question once /health is ready, then a first and a warm wave.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [q["question"] for q in map(json.loads, (ROOT / "eval" / "seed_questions.jsonl")
                                        .read_text(encoding="utf-8").splitlines()) if q]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(command: str, folder: Path, index: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
           "RAG_API_KEY": ""}
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", command, str(folder), "--index",
                             str(index), "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(f"http://127.0.0.1:{port}/api/v1/health", proc)
    return proc


def _wait(url: str, proc: subprocess.Popen, seconds: float = 240) -> None:
    import httpx

    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode})")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"no answer from {url}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _summary(name: str, latencies: list[float], errors: int, seconds: float) -> str:
    lat = np.array(latencies) if latencies else np.zeros(1)
    return (f"| {name} | {len(latencies) + errors} | {errors} | {np.percentile(lat, 50):.0f} | "
            f"{np.percentile(lat, 95):.0f} | {len(latencies) / seconds:.1f} |")


# Ways to ask the same thing: every question of a wave is a new string (no answer, logit or
# span kept from an earlier ask can serve it).
ASKED = ("", "Tell me: ", "Please answer: ", "I wonder: ", "Quick question: ", "Do you know: ",
         "Question: ", "Hi! ", "One thing: ", "Help me out: ")


def distinct_plans(clients: int, questions: int, seed: int = 7) -> list[list[str]]:
    """``clients`` plans of ``questions`` questions, no string asked twice in the whole run."""
    pool = [f"{p}{q}" for p in ASKED for q in QUESTIONS]
    if clients * questions > len(pool):
        raise ValueError(f"{clients} x {questions} questions: at most {len(pool)} distinct ones")
    random.Random(seed).shuffle(pool)
    return [pool[c * questions:(c + 1) * questions] for c in range(clients)]


def crowd(base: str, clients: int, questions: int, gradio: bool,
          extra: tuple[str, ...] = (), plans: list[list[str]] | None = None) -> tuple[str, list]:
    """``clients`` users at once, each asking ``questions`` questions one after the other (half
    of them from ``extra`` when given; ``plans``: each user's questions)."""
    import httpx

    rng = random.Random(7)
    plans = plans or [[rng.choice(extra) if extra and rng.random() < 0.5
                       else rng.choice(QUESTIONS) for _ in range(questions)]
                      for _ in range(clients)]
    latencies, errors, answers = [], [0], []
    lock = threading.Lock()

    def user(plan: list[str]) -> None:
        if gradio:
            from gradio_client import Client

            client = Client(base, verbose=False)
        with httpx.Client(timeout=300) as http:
            for q in plan:
                t0 = time.perf_counter()
                try:
                    if gradio:
                        data = client.predict(q, 5, "hybrid", api_name="/ask_json")
                        ok = "error" not in data
                    else:
                        r = http.post(f"{base}api/v1/ask", json={"question": q, "k": 5})
                        ok, data = r.status_code == 200, r.json()
                except Exception:  # noqa: BLE001 - counted, the run goes on
                    ok, data = False, None
                with lock:
                    if ok:
                        latencies.append((time.perf_counter() - t0) * 1000)
                        answers.append((t0, time.perf_counter(), data))
                    else:
                        errors[0] += 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(user, plans))
    name = "Gradio (gradio_client)" if gradio else "REST /api/v1/ask"
    return _summary(name, latencies, errors[0], time.perf_counter() - t0), answers


def churn(base: str, stop: threading.Event, log: list) -> None:
    """Upload a note, wait, delete it, again, until ``stop``; log (kind, source, t_sent, t_ack)."""
    import httpx

    n = 0
    with httpx.Client(timeout=300) as http:
        while not stop.is_set():
            n += 1
            name = f"churn-{n}.txt"
            text = f"Churn note {n}: the lighthouse keeper number {n} counted the Stalin busts."
            t0 = time.perf_counter()
            r = http.post(f"{base}api/v1/documents",
                          json={"documents": [{"name": name, "text": text}]})
            log.append(("upload", f"uploads/{name}", t0, time.perf_counter(), r.status_code))
            time.sleep(0.5)
            docs = http.get(f"{base}api/v1/documents", params={"limit": 500}).json()["documents"]
            ids = [d["id"] for d in docs if d["source"] == f"uploads/{name}"]
            for i in ids:
                t0 = time.perf_counter()
                r = http.delete(f"{base}api/v1/documents/{i}")
                log.append(("delete", f"uploads/{name}", t0, time.perf_counter(), r.status_code))


def consistent(answers: list, log: list) -> tuple[int, int]:
    """(answers citing an uploaded note, of those the ones asked outside its lifetime): a note
    exists from its upload's request to its delete's answer."""
    life: dict[str, list[float]] = {}
    for kind, source, sent, ack, _ in log:
        if kind == "upload":
            life[source] = [sent, float("inf")]
        elif source in life:
            life[source][1] = ack
    citing = bad = 0
    for start, end, data in answers:
        for c in (data or {}).get("citations", []):
            src = c["passage"]["source"]
            if src.startswith("uploads/"):
                citing += 1
                born, gone = life.get(src, (float("inf"), 0))
                if not (born <= end and start <= gone):
                    bad += 1
    return citing, bad


def kills(folder: Path, rounds: int, rng: random.Random) -> list[str]:
    """``kill -9`` of `rag api` during uploads; after each, a restart must serve a valid index
    holding every upload acknowledged before the kill."""
    import httpx

    outcomes = []
    with tempfile.TemporaryDirectory(prefix="rag-kill-") as tmp:
        docs, index = Path(tmp) / "docs", Path(tmp) / "idx"
        shutil.copytree(folder, docs)
        acked: list[str] = []
        for i in range(rounds):
            port = _port()
            proc = _start("api", docs, index, port)
            base = f"http://127.0.0.1:{port}/api/v1"
            stop = threading.Event()

            def upload(k: int = i) -> None:
                with httpx.Client(timeout=120) as http:
                    n = 0
                    while not stop.is_set():
                        name = f"kill-{k}-{n}.txt"
                        try:
                            r = http.post(f"{base}/documents", json={"documents": [
                                {"name": name, "text": f"Round {k}, note {n}: a lighthouse."}]})
                            if r.status_code == 200 and r.json()["added"] == 1:
                                acked.append(f"uploads/{name}")
                        except httpx.HTTPError:
                            return
                        n += 1

            t = threading.Thread(target=upload)
            t.start()
            time.sleep(rng.uniform(0.2, 3.0))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            stop.set()
            t.join()
            port = _port()
            proc = _start("api", docs, index, port)  # must open (or rebuild) and serve
            base = f"http://127.0.0.1:{port}/api/v1"
            listed = {d["source"] for d in httpx.get(f"{base}/documents", params={"limit": 500},
                                                       timeout=60).json()["documents"]}
            hits = httpx.post(f"{base}/search", json={"query": "lighthouse", "k": 3},
                              timeout=60).json()
            ok = set(acked) <= listed and len(hits) > 0
            outcomes.append("ok" if ok else f"missing {sorted(set(acked) - listed)[:3]}")
            _stop(proc)
    return outcomes


def api_waves(folder: Path, clients: int, questions: int) -> list[str]:
    """`rag api` alone: the first /ask once /health answers (the models must be loaded by
    then), then ``clients`` x ``questions`` twice: the first wave after start-up, and warm."""
    import httpx

    with tempfile.TemporaryDirectory(prefix="rag-api-load-") as tmp:
        port = _port()
        proc = _start("api", folder, Path(tmp) / "idx", port)
        base = f"http://127.0.0.1:{port}/"
        try:
            t0 = time.perf_counter()
            r = httpx.post(f"{base}api/v1/ask", json={"question": QUESTIONS[0]}, timeout=60)
            first = (time.perf_counter() - t0) * 1000
            rows = [f"first /ask after /health: {first:.0f} ms (HTTP {r.status_code})"]
            for n, wave in enumerate(("first wave", "warm")):
                plans = distinct_plans(clients, questions, seed=7 + n)
                row, _ = crowd(base, clients, questions, gradio=False, plans=plans)
                rows.append(row.replace("REST /api/v1/ask", f"`rag api` REST, {wave}"))
        finally:
            _stop(proc)
    return rows


def print_api(folder: Path, clients: int, questions: int) -> None:
    """The `rag api` part and its table."""
    first, *waves = api_waves(folder, clients, questions)
    print(f"\n{clients} clients x {questions} distinct questions on `rag api` alone; {first}")
    print("| part | requests | errors | p50 (ms) | p95 (ms) | questions/s |")
    print("|---|---:|---:|---:|---:|---:|")
    print("\n".join(waves))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--questions", type=int, default=10)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--api-questions", type=int, default=4,
                    help="questions per client against `rag api` alone (0: skip that part)")
    ap.add_argument("--api-only", action="store_true",
                    help="only the `rag api` part (the fairness figures)")
    args = ap.parse_args()
    if args.api_only:
        with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
            folder = Path(tmp) / "docs"
            shutil.copytree(ROOT / "seeds", folder)
            print_api(folder, args.clients, args.api_questions)
        return
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for f in (ROOT / "seeds").glob("*.txt"):
            shutil.copy(f, folder / f.name)
        port = _port()
        proc = _start("serve", folder, Path(tmp) / "idx", port)
        base = f"http://127.0.0.1:{port}/"
        try:
            rows = []
            for gradio in (False, True):
                row, _ = crowd(base, args.clients, args.questions, gradio)
                rows.append(row)
            stop, log = threading.Event(), []
            t = threading.Thread(target=churn, args=(base, stop, log))
            t.start()
            # Half the questions are about the notes being uploaded and deleted meanwhile.
            row, answers = crowd(base, args.clients, args.questions, gradio=False,
                                 extra=("What did the lighthouse keeper count?",))
            stop.set()
            t.join()
            rows.append(row.replace("REST /api/v1/ask", "REST, uploads + deletes meanwhile"))
        finally:
            _stop(proc)
        print(f"{args.clients} clients x {args.questions} questions, 127.0.0.1, `rag serve` "
              f"(chat + REST API), seed article:")
        print("| part | requests | errors | p50 (ms) | p95 (ms) | questions/s |")
        print("|---|---:|---:|---:|---:|---:|")
        print("\n".join(rows))
        uploads = sum(1 for e in log if e[0] == "upload" and e[4] == 200)
        deletes = sum(1 for e in log if e[0] == "delete" and e[4] == 200)
        failed = sum(1 for e in log if e[4] != 200)
        citing, bad = consistent(answers, log)
        print(f"\nuploads {uploads}, deletes {deletes}, failed {failed}; answers citing an "
              f"uploaded note: {citing}, citing one that did not exist then: {bad}")
        if args.api_questions:
            print_api(folder, args.clients, args.api_questions)
        if args.kills:
            outcomes = kills(folder, args.kills, rng)
            good = outcomes.count("ok")
            print(f"\nkill -9 of `rag api` during uploads, {args.kills} rounds: restarts serving "
                  f"a valid index with every acknowledged upload: {good} / {args.kills}")
            for o in outcomes:
                if o != "ok":
                    print(f"  {o}")


if __name__ == "__main__":
    main()
