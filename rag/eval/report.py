"""Eval reports: a Markdown summary and PNG plots (matplotlib)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..types import EvalResult

TABLE_METRICS = ("hit@1", "hit@5", "hit@10", "recall@10", "mrr@10", "ndcg@10", "evidence@500",
                 "evidence@1000", "evidence@3000", "answer_supported",
                 "citation_precision", "abstain_precision", "abstain_recall",
                 "abstain_recall_off_topic", "abstain_recall_near_topic",
                 "answered_answerable", "hedged_answerable", "abstained_answerable",
                 "answered_unanswerable", "hedged_unanswerable", "abstained_unanswerable",
                 "followup_hit@5",
                 "followup_answer_supported", "short_shown", "short_in_evidence",
                 "latency_p50_ms", "latency_p95_ms",
                 "llm_generated", "llm_fell_back", "llm_sentences_kept", "llm_sentences_dropped",
                 "llm_first_token_p50_ms")


def metrics_table(results: Sequence[EvalResult], names: Sequence[str] = TABLE_METRICS) -> str:
    """A Markdown table: one row per metric, one column per mode."""
    names = [n for n in names if all(n in r.metrics for r in results)]
    lines = ["| metric | " + " | ".join(r.mode for r in results) + " |",
             "|---|" + "---:|" * len(results)]
    for n in names:
        cells = [f"{r.metrics[n]:.1f}" if n.endswith("_ms") else f"{r.metrics[n]:.3f}"
                 for r in results]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_report(results: Sequence[EvalResult], out: str | Path, threshold: float) -> Path:
    """Write ``report.md``, ``hit_at_k.png`` and ``scores.png`` into ``out``; return the .md."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    fig, ax = plt.subplots(figsize=(6, 4))
    ks = list(range(1, 11))
    for r in results:
        ranks = [q.first_relevant_rank for q in r.questions if q.answerable]
        ax.plot(ks, [sum(1 for x in ranks if x is not None and x <= k) / max(1, len(ranks))
                     for k in ks], marker="o", label=r.mode)
    ax.set(xlabel="k", ylabel="hit@k", title="Share of questions with evidence in the top k",
           ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "hit_at_k.png", dpi=110)
    plt.close(fig)

    main = results[0]
    fig, ax = plt.subplots(figsize=(6, 4))
    ans = [q.confidence for q in main.questions if q.answerable]
    unans = [q.confidence for q in main.questions if not q.answerable]
    ax.hist([ans, unans], bins=20, label=["answerable", "unanswerable"], color=["C0", "C3"])
    ax.axvline(threshold, color="k", linestyle="--", label=f"abstain below {threshold:.2f}")
    ax.set(xlabel="answer confidence (probability)", ylabel="questions",
           title=f"Answer confidence ({main.mode})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "scores.png", dpi=110)
    plt.close(fig)

    lines = ["# Eval report", "", metrics_table(results), "",
             "![hit@k](hit_at_k.png) ![scores](scores.png)", ""]
    for r in results:
        failed = [q for q in r.questions if (q.answerable and (q.first_relevant_rank is None
                                                               or q.first_relevant_rank > 5
                                                               or not q.supported))
                  or (not q.answerable and not q.abstained)]
        lines += [f"## Failed questions ({r.mode}): {len(failed)}", ""]
        for q in failed:
            lines.append(f"- **{q.id}** {_md(q.question)} (first relevant rank: "
                         f"{q.first_relevant_rank}, answer "
                         f"{q.outcome}, confidence {q.confidence:.2f}"
                         f", supported: {q.supported})")
            for e in q.expected:
                lines.append(f"  - expected: {_md(e.quote)}")
            top = q.retrieved[0].text[:200] if q.retrieved else ""
            lines.append(f"  - retrieved #1: {_md(top)}")
            lines.append(f"  - answer: {_md(q.answer[:300])}")
        lines.append("")
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
