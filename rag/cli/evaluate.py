"""`rag eval`: a question set, BEIR, a graded set, or two runs compared."""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from .. import paths
from ..settings import MODES, READERS
from .common import _eval_settings, _progress, _store


def _eval_json(result) -> dict:
    from ..types import to_dict

    block = {"metrics": result.metrics}
    if result.questions:
        block["questions"] = to_dict(list(result.questions))
    return block

def cmd_eval(args) -> int:
    from ..eval import evaluation
    from ..errors import ConfigError
    from ..eval.report import metrics_table, write_report
    from ..retriever import Retriever

    if args.compare:
        from ..eval.compare import compare, load_run, markdown

        result = compare(load_run(args.compare[0]), load_run(args.compare[1]))
        print(json.dumps(result, indent=1) if args.json else markdown(result), end="")
        return 0

    modes = list(MODES) if args.mode == "all" else [args.mode]
    progress = _progress(args)
    if args.beir:
        docs, queries, qrels = evaluation.load_beir(args.beir, args.split)
        # One saved index per backend: each embeds the corpus its own way.
        uri = _store(args)
        index = uri or args.index or (f".rag-beir-{Path(args.beir).resolve().name}"
                                      + (f"-{args.backend}" if args.backend else ""))
        where = {"store": uri} if uri else {"index": index}
        r = Retriever.from_documents(docs, settings=_eval_settings(args), progress=progress,
                                     **where)
        print(f"{len(docs)} documents, {r.passage_count()} passages, {len(queries)} {args.split} "
              f"queries (index {index})", file=sys.stderr)
        results = [evaluation.evaluate_beir(r, queries, qrels, mode, rerank=rerank)
                   for mode in modes for rerank in ((False, True) if args.rerank else (False,))]
        table = metrics_table(results, ("ndcg@10", "recall@100", "mrr@10", "latency_p50_ms",
                                        "latency_p95_ms"))
    else:
        from ..eval.feedback import eval_set_path

        graded = eval_set_path(args.index) if args.index else None
        # No set given: the answers graded in the chat of --index, else the seed set.
        qpath = (Path(args.questions) if args.questions else graded
                 if graded is not None and graded.exists()
                 else paths.project_file(paths.DEFAULT_QUESTIONS))
        conversations = evaluation.is_conversation_set(qpath)
        if conversations:
            convs = evaluation.load_conversations(qpath)
            questions = [t for c in convs for t in c.turns]
        else:
            questions = evaluation.load_questions(qpath)
        # Its own index, never the chat's: uploads cannot change the figures.
        uri = _store(args)
        index = Path(args.index) if args.index else paths.eval_index(qpath)
        folder = paths.documents_folder(args.folder, index if args.index else None)
        where = {"store": uri} if uri else {"index": index}
        # Its private index follows --folder; an index given with --index is guarded.
        # An index given with --index keeps the chat's uploads (its graded answers cite them).
        uploads = paths.indexed_folders(index).get("uploads") if args.index else None
        r = Retriever.from_folder(folder, settings=_eval_settings(args), progress=progress,
                                  replace=not args.index, uploads=uploads, **where)
        problems = evaluation.check_questions(questions, list(r.documents.values()))
        if problems:
            raise ConfigError(f"{len(problems)} labels do not match the documents in "
                              f"{str(folder)!r}, first: {problems[0]}")
        readers = (list(READERS) if args.reader == "all"
                   else [args.reader or r.settings.reader])
        results = []
        for reader in readers:
            read = r.with_settings(reader=reader)
            for mode in modes:
                if conversations:
                    runs = [evaluation.evaluate_conversations(read, convs, args.k, mode,
                                                              history=h) for h in (True, False)]
                else:
                    runs = [evaluation.evaluate(read, questions, k=args.k, mode=mode,
                                                progress=progress)]
                for run in runs:
                    label = run.mode if len(readers) == 1 else f"{run.mode} · {reader}"
                    results.append(dataclasses.replace(run, mode=label))
        table = metrics_table(results)
        if args.report:
            path = write_report(results, args.report,
                                r.with_settings(reader=readers[0]).abstain_threshold)
            print(f"report: {path}", file=sys.stderr)
    data = ({res.mode: _eval_json(res) for res in results} if len(results) > 1
            else _eval_json(results[0]))
    if args.out:
        Path(args.out).write_text(json.dumps(data, ensure_ascii=False, indent=1))
        print(f"results: {args.out}", file=sys.stderr)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        print(table)
    return 0
