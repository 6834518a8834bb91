"""Two evaluation runs side by side (``rag eval --compare A.json B.json``): the metric deltas of
each run both files hold, and the questions whose outcome moved (id, question, before -> after)."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConfigError


def load_run(path: str | Path) -> dict:
    """A file written by ``rag eval --out``: {run label: {"metrics", "questions"}} (a file of
    one run, {"metrics", "questions"}, is the run "run")."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: not a readable `rag eval --out` file ({e}); write one with "
                          "`rag eval --out FILE`") from e
    if isinstance(data, dict) and "metrics" in data:
        data = {"run": data}
    if not isinstance(data, dict) or not data or not all(isinstance(v, dict) and "metrics" in v
                                             for v in data.values()):
        raise ConfigError(f"{path}: not a `rag eval --out` file (no runs with metrics); write "
                          "one with `rag eval --out FILE`")
    return data


def outcome(q: dict) -> str:
    """What a question's answer did: "abstained", "answered (supported)", "hedged (not
    supported)"..., with the rank of the first relevant passage for an answerable one."""
    if q.get("abstained"):
        what = "abstained"
    else:
        what = "hedged" if q.get("hedged") else "answered"
        what += " (supported)" if q.get("supported") else " (not supported)"
    if q.get("answerable"):
        rank = q.get("first_relevant_rank")
        what += f", evidence at rank {rank}" if rank else ", evidence not retrieved"
    return what


def _better(q: dict) -> bool:
    """For an answerable question: supported; for an unanswerable one: not answered as if
    known (abstained or hedged)."""
    if q.get("answerable"):
        return bool(q.get("supported"))
    return bool(q.get("abstained") or q.get("hedged"))


def compare(before: dict, after: dict) -> dict:
    """{run label: {"metrics": {name: (before, after, delta)}, "moved": [...]}} for every run
    label in both."""
    out = {}
    for label in [k for k in before if k in after]:
        a, b = before[label], after[label]
        metrics = {name: (a["metrics"][name], b["metrics"][name],
                          b["metrics"][name] - a["metrics"][name])
                   for name in a["metrics"] if name in b["metrics"]}
        old = {q["id"]: q for q in a.get("questions", [])}
        moved = []
        for q in b.get("questions", []):
            p = old.get(q["id"])
            if p is not None and outcome(p) != outcome(q):
                moved.append({"id": q["id"], "question": q["question"], "before": outcome(p),
                              "after": outcome(q),
                              "change": ("better" if _better(q) and not _better(p) else
                                         "worse" if _better(p) and not _better(q) else "moved")})
        out[label] = {"metrics": metrics, "moved": moved}
    if not out:
        raise ConfigError("the two files share no run (compare runs of the same mode and "
                          f"reader): {sorted(before)} against {sorted(after)}")
    return out


def markdown(result: dict) -> str:
    """The comparison as Markdown: a metrics table and the questions that moved, per run."""
    lines = []
    for label, r in result.items():
        lines += [f"## {label}", "", "| metric | before | after | delta |", "|---|---:|---:|---:|"]
        for name, (a, b, d) in r["metrics"].items():
            lines.append(f"| {name} | {a:.3f} | {b:.3f} | {d:+.3f} |")
        lines += ["", f"{len(r['moved'])} questions moved"
                  + (":" if r["moved"] else "."), ""]
        if r["moved"]:
            lines += ["| id | question | before | after | |", "|---|---|---|---|---|"]
            for m in r["moved"]:
                question = m["question"].replace("|", "\\|")
                lines.append(f"| {m['id']} | {question} | {m['before']} | {m['after']} | "
                             f"{m['change']} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
