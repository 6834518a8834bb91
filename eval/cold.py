"""Cold `rag ask`: a new process per question, as a person at a terminal runs it. Prints the
median and minimum wall time of ``--runs`` runs of `rag ask` and where one cold start spends
its time (imports, opening the index, loading the models, the first answer).

    .venv/bin/python -m eval.cold [--runs 5] [--index DIR]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Who gave the Secret Speech?"

# One cold start, timed stage by stage, in a fresh interpreter.
STAGES = """
import json, sys, time
t0 = time.perf_counter()
import rag.cli  # what `rag` imports before it reads its arguments
t1 = time.perf_counter()
from rag import Retriever
r = Retriever.load(sys.argv[1])
t2 = time.perf_counter()
r.embedder.encode(["warm"])
t3 = time.perf_counter()
r.ask(sys.argv[2])
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "open index": t2 - t1, "load embedder": t3 - t2,
                  "first answer (reader models load here)": t4 - t3}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--index", default=None, help="an index (default: the seed's, built here)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-cold-") as tmp:
        index = args.index or str(Path(tmp) / "idx")
        if args.index is None:
            subprocess.run([sys.executable, "-m", "rag.cli", "index", str(ROOT / "seeds"),
                            "--index", index], check=True, capture_output=True)
        walls = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "rag.cli", "ask", QUESTION, "--index", index],
                           check=True, capture_output=True)
            walls.append(time.perf_counter() - t0)
        out = subprocess.run([sys.executable, "-c", STAGES, index, QUESTION], check=True,
                             capture_output=True, text=True)
        stages = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"cold `rag ask`, {args.runs} runs: median {statistics.median(walls):.2f} s, "
          f"min {min(walls):.2f} s")
    print("| stage of one cold start | seconds |")
    print("|---|---:|")
    for name, seconds in stages.items():
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
