"""``newsrank train {classifier,reranker,tagger,reader}``: fine-tune a head.

    newsrank train reader --data ../shared/data/squad_v1.1/dev-v1.1.json.gz \\
        --out models/reader --epochs 2 --lr 8e-4 --lora

Every head shares the options below; each head module adds its own through
``add_arguments`` and implements ``train(args, cfg)``.
"""

from __future__ import annotations

import argparse
import importlib
import json

HEADS = {
    "classifier": "training.classifier",
    "reranker": "training.reranker",
    "tagger": "training.tagger",
    "reader": "training.reader",
}


def _common(p: argparse.ArgumentParser) -> None:
    from training.trainer import TrainConfig

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
    p.add_argument("--threads", type=int, default=None, help="CPU threads (torch)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: auto)")
    p.add_argument("--backbone", default=d.backbone, help="HF model id or local path")
    p.add_argument("--init", default=None, help="LoRA head dir to continue training from")


def _run(args: argparse.Namespace) -> int:
    from training.trainer import TrainConfig

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
        threads=args.threads,
        device=args.device,
        backbone=args.backbone,
        init=args.init,
    )
    summary = importlib.import_module(HEADS[args.head]).train(args, cfg)
    print(json.dumps(summary, indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train", help="fine-tune a head (classifier, reranker, tagger, reader)")
    parser.set_defaults(func=lambda args: parser.error("choose a head to train"))
    heads = parser.add_subparsers(dest="head", metavar="HEAD")
    for name, module in HEADS.items():
        p = heads.add_parser(name, help=f"train the {name} head")
        _common(p)
        try:
            importlib.import_module(module).add_arguments(p)
        except ModuleNotFoundError:
            continue
        p.set_defaults(func=_run)
