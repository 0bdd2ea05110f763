"""``newsrank eval reader|tagger|classifier``: the head evaluations of evaluation.heads."""

from __future__ import annotations

import argparse

from newsrank.errors import NewsrankError

#: The shipped head each evaluation scores unless --model names another.
DEFAULT_MODEL = {"reader": "reader", "tagger": "tagger", "classifier": "topic-agnews"}


def _run(args: argparse.Namespace) -> int:
    from evaluation import heads
    from evaluation.cli import emit

    model = args.model or DEFAULT_MODEL[args.target]
    try:
        if args.target == "reader":
            result = heads.eval_reader(
                args.data, model, args.articles, args.max_answer_len, precision=args.precision
            )
        elif args.target == "tagger":
            result = heads.eval_tagger(args.data, model, precision=args.precision)
        else:
            result = heads.eval_classifier(args.data, model, precision=args.precision)
    except (FileNotFoundError, ValueError) as exc:
        raise NewsrankError(str(exc)) from exc
    if args.out:
        from pathlib import Path

        from evaluation.report import head_report, provenance
        from newsrank.invocation import current

        record = {
            "model": model,
            "data": args.data,
            **result,
            "provenance": provenance(current()),
        }
        head_report(args.target, record, Path(args.out))
    if args.target == "classifier" and not args.json:
        _print_confusion(result)
    else:
        emit(result, args.json)
    return 0


def _print_confusion(r: dict) -> None:
    print(f"accuracy {r['accuracy']:.4f}  macro_f1 {r['macro_f1']:.4f}  n {r['n']}")
    width = max(len(lab) for lab in r["labels"]) + 2
    print("gold \\ pred".ljust(width) + "".join(lab[:10].rjust(12) for lab in r["labels"]))
    for lab, row in zip(r["labels"], r["confusion"], strict=True):
        print(lab.ljust(width) + "".join(str(v).rjust(12) for v in row))


#: Optional libraries each evaluation needs (checked before it starts, newsrank.extras):
#: seqeval scores entities; matplotlib draws the reports' plots.
REQUIRES = {"reader": (), "tagger": ("seqeval", "matplotlib"), "classifier": ("matplotlib",)}


def register(targets: argparse._SubParsersAction) -> None:
    helps = {
        "reader": "SQuAD exact match / F1 (0-100); the shared dev file's test split by default",
        "tagger": "entity precision / recall / F1 (seqeval) on a CoNLL-2003 file",
        "classifier": "accuracy, macro F1 and confusion matrix on a text,label CSV",
    }
    for name, text in helps.items():
        p = targets.add_parser(name, help=text)
        p.add_argument("--data", required=True)
        p.add_argument("--model", default=None, help="head dir or shipped name")
        p.add_argument("--json", action="store_true", help="JSON on stdout")
        p.add_argument(
            "--out", default=None, help="write <target>.json and report.md (with plots) here"
        )
        if name == "reader":
            p.add_argument("--articles", default=None, help="article slice, e.g. 38:")
            p.add_argument("--max-answer-len", type=int, default=30)
        p.set_defaults(func=_run, requires=REQUIRES[name])
