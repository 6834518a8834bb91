"""The sentence verifier on eval/claims.jsonl: sentences that restate a fact of the seed article
in other words (supported), and the same with a number, date, name, negation or meaning changed
or a fact added (not); many written as models write replies (``written``: a reply whose
sentence at ``index`` is judged; ``style``: how it is written).

    .venv/bin/python -m eval.claims [--claims eval/claims.jsonl] [--json]

Each claim is checked citing [1], the index passage that holds its evidence ([2] and [3], cited
by some replies, are two other passages); each supported one also citing two other passages (a
wrong citation, never supported). The similarity threshold is chosen on the dev half (what best
tells its supported claims from its unsupported ones) and the figures are reported on the test
half (and on its rounds written later, ``"round": "second" | "fresh" | "third"``), and on all
claims with the threshold in force, in all and by style.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from rag import Retriever
from rag.dev import SUPPORT_THRESHOLD, Claim, check_claims, split_reply


def _passage_hit(r: Retriever, source: str, start: int, end: int):
    from rag import Hit

    passages = r.passages_of([source])
    holding = [p for p in passages if p.start <= start and end <= p.end] or \
              [p for p in passages if p.start <= start < p.end]
    return Hit(rank=1, score=1.0, passage=holding[0])


def _others(r: Retriever, row: dict, n: int, seed: int) -> list:
    """``n`` passages of the row's document that do not hold its evidence (seeded draws)."""
    import random

    own = _passage_hit(r, row["source"], row["start"], row["end"]).passage
    others = [p for p in r.passages_of([row["source"]])
              if not (p.start <= row["start"] < p.end) and p.id != own.id]
    return random.Random(f"{seed}-{row['id']}").sample(others, min(n, len(others)))


def miscited(r: Retriever, rows: list[dict], per_claim: int = 2, seed: int = 7) -> list[dict]:
    """The supported claims again, each citing ``per_claim`` other passages (seeded draws):
    what a model that cites the wrong passage writes. None of them is supported. A written
    reply cites them in place of its own passages, all of them other ones."""
    out = []
    for row in rows:
        if not row["supported"]:
            continue
        for p in _others(r, row, per_claim + 2, seed)[:per_claim]:
            out.append({**row, "id": f"{row['id']}-mis-{p.start}", "supported": False,
                        "change": "miscited", "passage": p})
    return out


def claims_of(row: dict) -> tuple[list[Claim], int]:
    """The claims a row's reply is read as, and the index of the one it judges: a written
    reply's sentence at ``index`` (as rag splits the reply), else the plain claim citing [1]."""
    if row.get("written"):
        claims = split_reply(row["written"])
        return claims, row.get("index", -1) % len(claims)
    return [Claim(text=row["claim"], markers=(1,), written=row["claim"] + " [1]")], 0


def run(r: Retriever, rows: list[dict], threshold: float) -> list[dict]:
    """Each claim with ``kept`` (and ``score``, the claim's best cosine in its passage when its
    facts check out at some threshold, else -inf) under ``threshold``. Passage [1] holds the
    claim's evidence (or, miscited, is another passage); [2] and [3], cited by replies written
    with several markers, are two other passages of the article."""
    from rag import Hit

    out = []
    encode = r.read_context().encode  # the retriever's cached sentence encoder
    for row in rows:
        first = (row["passage"] if "passage" in row
                 else _passage_hit(r, row["source"], row["start"], row["end"]).passage)
        hits = [Hit(rank=n, score=1.0, passage=p) for n, p in
                enumerate([first, *_others(r, row, 2, seed=11)], start=1)]
        claims, at = claims_of(row)
        _, support, why = check_claims(claims, hits, r.documents, encode, threshold)[at]
        # The claim's score with no threshold: does any quote pass the facts check?
        _, free, _ = check_claims(claims, hits, r.documents, encode, -1.0)[at]
        out.append({**row, "claim": claims[at].text, "kept": support is not None, "why": why,
                    "score": free.score if free is not None else -math.inf})
    return out


def choose_threshold(dev: list[dict]) -> float:
    """The threshold that best tells the dev half's supported claims from its unsupported ones
    (changed facts whose facts check passes, and the supported claims citing another passage):
    the largest true-positive minus false-positive rate, the highest such threshold on ties,
    in steps of 0.01."""
    pos = [x["score"] for x in dev if x["supported"]]
    neg = [x["score"] for x in dev if not x["supported"]]
    best, chosen = -1.0, SUPPORT_THRESHOLD
    for t in (i / 100 for i in range(0, 100)):
        j = sum(v >= t for v in pos) / len(pos) - sum(v >= t for v in neg) / len(neg)
        if j >= best - 1e-12:
            best, chosen = max(best, j), t
    return chosen


def figures(results: list[dict]) -> dict:
    kept = [x for x in results if x["kept"]]
    supported = [x for x in results if x["supported"]]
    out = {"claims": len(results),
           "precision": sum(x["supported"] for x in kept) / len(kept) if kept else 0.0,
           "recall": sum(x["kept"] for x in supported) / len(supported) if supported else 0.0}
    for change in sorted({x["change"] for x in results if not x["supported"]}):
        altered = [x for x in results if x["change"] == change]
        out[f"caught_{change}"] = sum(not x["kept"] for x in altered) / len(altered)
    return out


def by_style(results: list[dict]) -> dict[str, dict]:
    """Per style a reply is written in ("plain": the sentence alone citing [1]): true
    sentences kept and false ones caught, as counts."""
    out: dict[str, dict] = {}
    for x in results:
        f = out.setdefault(x.get("style", "plain"), {"true_kept": 0, "true": 0,
                                                     "false_caught": 0, "false": 0})
        if x["supported"]:
            f["true"] += 1
            f["true_kept"] += x["kept"]
        else:
            f["false"] += 1
            f["false_caught"] += not x["kept"]
    return out


def bench(r: Retriever, rows: list[dict], rounds: int = 5) -> dict:
    """Milliseconds to verify a 5-sentence reply citing 5 passages: with the sentence cache
    cold (every passage sentence embedded) and warm (as after the extractive reader read them)."""
    from rag.dev import split_reply

    picked = [x for x in rows if x["supported"]][:5]
    hits = [_passage_hit(r, x["source"], x["start"], x["end"]) for x in picked]
    reply = " ".join(f"{x['claim'].rstrip('.')} [{n}]." for n, x in enumerate(picked, start=1))
    claims = split_reply(reply)
    times = {"cold": [], "warm": []}
    for _ in range(rounds):
        cache: dict = {}

        def cached(texts, cache=cache):
            import numpy as np

            missing = [t for t in texts if t not in cache]
            if missing:
                cache.update(zip(missing, r.embedder.encode(missing)))
            return np.stack([cache[t] for t in texts])

        for kind in ("cold", "warm"):
            t0 = time.perf_counter()
            check_claims(claims, hits, r.documents, cached)
            times[kind].append((time.perf_counter() - t0) * 1000)
    return {k: round(sorted(v)[len(v) // 2], 1) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", default=str(ROOT / "eval" / "claims.jsonl"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [json.loads(line) for line in Path(args.claims).read_text(encoding="utf-8")
            .splitlines() if line.strip()]
    r = Retriever.from_folder(ROOT / "seeds")
    t0 = time.perf_counter()
    dev_rows = [x for x in rows if x["split"] == "dev"]
    test_rows = [x for x in rows if x["split"] == "test"]
    dev = run(r, dev_rows + miscited(r, dev_rows), SUPPORT_THRESHOLD)
    chosen = choose_threshold(dev)
    test = run(r, test_rows, chosen)
    test_mis = run(r, miscited(r, test_rows), chosen)
    everything = run(r, rows, SUPPORT_THRESHOLD)
    all_mis = run(r, miscited(r, rows), SUPPORT_THRESHOLD)
    report = {"threshold_in_force": SUPPORT_THRESHOLD, "threshold_chosen_on_dev": chosen,
              "test_at_chosen": figures(test),
              # the rounds written later, each run once before the changes that followed it
              # ("second", "fresh", then "third": eval/README.md says which code saw them)
              **{f"{name}_at_chosen": figures([x for x in test if x.get("round") == name] or
                                              [{"supported": False, "kept": False,
                                                "change": "-"}])
                 for name in ("third", "fresh", "second")},
              "all_at_in_force": figures(everything),
              "test_by_style": by_style(test), "all_by_style": by_style(everything),
              "miscited_caught_test": sum(not x["kept"] for x in test_mis) / len(test_mis),
              "miscited_caught_all": sum(not x["kept"] for x in all_mis) / len(all_mis),
              "seconds": round(time.perf_counter() - t0, 1),
              "verify_5_sentences_ms": bench(r, rows)}
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"threshold in force {SUPPORT_THRESHOLD:.2f}; chosen on the dev half {chosen:.2f}")
    for name in ("test_at_chosen", "second_at_chosen", "fresh_at_chosen", "third_at_chosen",
                 "all_at_in_force"):
        f = report[name]
        caught = ", ".join(f"{k[7:]} {v:.2f}" for k, v in f.items() if k.startswith("caught_"))
        print(f"{name}: {f['claims']} claims, precision {f['precision']:.3f}, recall "
              f"{f['recall']:.3f}; changed facts caught: {caught}")
    for name in ("test_by_style", "all_by_style"):
        print(f"{name}: " + "; ".join(
            f"{style} true kept {f['true_kept']}/{f['true']}, false caught "
            f"{f['false_caught']}/{f['false']}" for style, f in sorted(report[name].items())))
    ms = report["verify_5_sentences_ms"]
    print(f"verifying a 5-sentence reply citing 5 passages: {ms['cold']:.0f} ms with the "
          f"sentence cache cold, {ms['warm']:.0f} ms warm (median of 5)")
    print(f"the same supported claims citing another passage, dropped: test "
          f"{report['miscited_caught_test']:.3f}, all {report['miscited_caught_all']:.3f}")
    for x in everything + [x for x in all_mis if x["kept"]]:
        if x["kept"] != x["supported"]:
            print(f"  wrong: {x['id']} ({x['change']}) kept={x['kept']} score={x['score']:.2f}"
                  f" {x['claim']!r} {x['why']}")


if __name__ == "__main__":
    main()
