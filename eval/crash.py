"""Crash safety of indexing: `kill -9` of `rag index` at random moments, ROUNDS times. After each
kill the index must open, `rag search` must work, and it must hold the folder as it was before
that run or as it is after it, nothing in between.

    .venv/bin/python -m eval.crash [--rounds 20] [--seed 1]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAG = str(Path(sys.executable).with_name("rag"))
ARTICLE = next((ROOT / "seeds").glob("*.txt"))


def state(folder: Path) -> dict[str, str]:
    """source -> SHA-256 of the text, as the index manifest records it."""
    return {p.name: hashlib.sha256(p.read_text(encoding="utf-8").encode()).hexdigest()
            for p in sorted(folder.glob("*.txt"))}


def indexed(index: Path) -> dict[str, str]:
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    return {src: d["sha256"] for src, d in manifest["documents"].items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_INDEX": ""}
    paragraphs = [p for p in ARTICLE.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    outcomes = {"before": 0, "after": 0, "bad": 0}
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        folder, index = Path(tmp) / "docs", Path(tmp) / "ix"
        folder.mkdir()
        shutil.copy(ARTICLE, folder / ARTICLE.name)
        t0 = time.perf_counter()
        subprocess.run([RAG, "index", str(folder), "--index", str(index)], env=env, check=True,
                       capture_output=True)
        full = time.perf_counter() - t0
        for i in range(args.rounds):
            before = indexed(index)
            # Something to do each round: a new document, and one earlier document changed.
            (folder / f"note-{i}.txt").write_text(
                "\n\n".join(rng.sample(paragraphs, 3)) + f"\n\nRound {i}.", encoding="utf-8")
            if i:
                (folder / f"note-{i - 1}.txt").write_text(f"Changed in round {i}.",
                                                          encoding="utf-8")
            after = state(folder)
            proc = subprocess.Popen([RAG, "index", str(folder), "--index", str(index)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, full * 1.2))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            search = subprocess.run([RAG, "search", "Secret Speech", "--index", str(index),
                                     "--json"], env=env, capture_output=True, text=True)
            ok = search.returncode == 0 and json.loads(search.stdout)
            now = indexed(index) if (index / "manifest.json").exists() else None
            kind = "before" if now == before else "after" if now == after else "bad"
            outcomes[kind if ok else "bad"] += 1
            if kind == "bad" or not ok:
                failures.append(f"round {i}: search rc {search.returncode} "
                                f"{search.stderr.strip()[:200]}")
            # Bring the index up to date for the next round (a clean run).
            subprocess.run([RAG, "index", str(folder), "--index", str(index)], env=env,
                           check=True, capture_output=True)
    print(f"kill -9 of `rag index` at a random moment in 0-{full * 1.2:.1f} s, "
          f"{args.rounds} rounds:")
    print(f"| index opens and `rag search` works | {args.rounds - outcomes['bad']} / "
          f"{args.rounds} |")
    print(f"| index as before the killed run | {outcomes['before']} |")
    print(f"| index as after it (the save had finished) | {outcomes['after']} |")
    print(f"| anything else | {outcomes['bad']} |")
    for f in failures:
        print(f)
    sys.exit(1 if outcomes["bad"] else 0)


if __name__ == "__main__":
    main()
