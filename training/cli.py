"""``newsrank train {classifier,reranker,tagger,reader,embedder}``: fine-tune a head.

    newsrank train reader --data ../shared/data/squad_v1.1/dev-v1.1.json.gz \\
        --out heads/shipped/reader --epochs 2 --lr 8e-4 --lora

Every head shares the options of :func:`_common` and adds its own (:data:`OPTIONS`);
its module (:data:`HEADS`) implements ``train(args, cfg)``. The modules import torch
and transformers, so they are imported only when a head trains (``newsrank --help``
stays fast); a module that cannot be imported is an error naming the module and the
missing dependency, never a missing subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Callable
from types import ModuleType

from newsrank.errors import NewsrankError

HEADS = {
    "classifier": "training.classifier",
    "reranker": "training.reranker",
    "tagger": "training.tagger",
    "reader": "training.reader",
    "embedder": "training.embedder",
}


def _classifier_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--val-fraction", type=float, default=0.1, help="held out of train")


def _write_data_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--write-data",
        metavar="FILE",
        default=None,
        help="write the mined training examples and held-out set to FILE (.json.gz) and "
        "stop; train on them elsewhere (a GPU without the corpora) with --data prepared:FILE",
    )


def _reranker_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--per-source", type=int, default=1000, help="queries per source at most")
    p.add_argument("--hard", type=int, default=2, help="BM25-hard negatives per query")
    p.add_argument("--random", type=int, default=1, help="random negatives per query")
    p.add_argument("--val-queries", type=int, default=60)
    p.add_argument(
        "--ict-terse",
        type=float,
        default=0.0,
        help="share of the ict: queries shown in a reader's words (0-1; 0: sentences)",
    )
    _write_data_option(p)


def _tagger_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--val-sentences", type=int, default=1500, help="of valid.txt, for early stop")
    p.add_argument(
        "--no-case-segment",
        dest="case_segment",
        action="store_false",
        help="do not pass capitalisation as the token type (the backbone is uncased)",
    )


def _reader_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stride", type=int, default=64, help="tokens shared by windows")
    p.add_argument("--train-articles", default="0:37", help="article slice to train on")
    p.add_argument("--val-articles", default="37:38", help="held-out articles (early stop)")
    p.add_argument(
        "--test-articles", default="38:", help="test articles, scored once at the end ('' skips)"
    )


def _embedder_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--val-queries", type=int, default=300, help="validation queries")
    p.add_argument("--scale", type=float, default=20.0, help="MNRL similarity scale")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (CPU with AMX, GPU)")
    p.add_argument(
        "--side",
        choices=("query", "both"),
        default="query",
        help="adapt the query encoder only (passages keep the backbone's vectors) or both",
    )
    p.add_argument("--passage-words", type=int, default=200, help="news passage window")
    _write_data_option(p)


#: Optional libraries a head's training needs (checked before it starts, newsrank.extras).
REQUIRES = {"tagger": ("seqeval",)}

#: The options of each head, beside the common ones.
OPTIONS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "classifier": _classifier_options,
    "reranker": _reranker_options,
    "tagger": _tagger_options,
    "reader": _reader_options,
    "embedder": _embedder_options,
}


def _common(p: argparse.ArgumentParser) -> None:
    from training.config import TrainConfig

    d = TrainConfig()
    p.add_argument("--data", required=True, help="training data (see docs/heads.md)")
    p.add_argument("--out", required=True, help="directory of the trained head")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--max-length", type=int, default=d.max_length)
    p.add_argument("--seed", type=int, default=d.seed)
    m = p.add_mutually_exclusive_group()
    m.add_argument("--full", dest="method", action="store_const", const="full")
    m.add_argument("--lora", dest="method", action="store_const", const="lora")
    p.set_defaults(method="lora")
    p.add_argument("--lora-r", type=int, default=d.lora_r)
    p.add_argument("--lora-alpha", type=int, default=d.lora_alpha)
    p.add_argument("--eval-every", type=int, default=0, help="steps (0: 4 per epoch)")
    p.add_argument("--patience", type=int, default=d.patience)
    p.add_argument("--max-examples", type=int, default=None, help="train on a subset")
    p.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="stop after N steps, keeping the schedule of the full run (a run cut short)",
    )
    p.add_argument("--threads", type=int, default=None, help="CPU threads (torch)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: auto)")
    p.add_argument("--backbone", default=d.backbone, help="HF model id or local path")
    p.add_argument("--init", default=None, help="LoRA head dir to continue training from")


def head_module(head: str) -> ModuleType:
    """The training module of ``head``; a missing dependency is a :class:`NewsrankError`."""
    module = HEADS[head]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise NewsrankError(
            f"newsrank train {head}: cannot import {module}: it needs {exc.name or exc}, "
            "which is not installed (pip install 'newsrank[train]')"
        ) from exc


def _run(args: argparse.Namespace) -> int:
    from training.config import TrainConfig

    cfg = TrainConfig(
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        max_length=args.max_length,
        seed=args.seed,
        method=args.method,
        lora_r=args.lora_r,
        lora_alpha=args.lora_alpha,
        eval_every=args.eval_every,
        patience=args.patience,
        max_examples=args.max_examples,
        max_steps=args.max_steps,
        threads=args.threads,
        device=args.device,
        backbone=args.backbone,
        init=args.init,
    )
    try:
        summary = head_module(args.head).train(args, cfg)
    except FileNotFoundError as exc:  # a --data or --init path that is not there
        raise NewsrankError(f"newsrank train {args.head}: {exc}") from exc
    print(json.dumps(summary, indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train", help="fine-tune a head (classifier, reranker, tagger, reader, embedder)"
    )
    parser.set_defaults(func=lambda args: parser.error("choose a head to train"))
    heads = parser.add_subparsers(dest="head", metavar="HEAD")
    for name in HEADS:
        p = heads.add_parser(name, help=f"train the {name} head")
        _common(p)
        OPTIONS[name](p)
        p.set_defaults(func=_run, requires=REQUIRES.get(name, ()))
