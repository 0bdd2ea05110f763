"""The news embedder head: training pairs, MNRL steps, save -> load -> the same vectors."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from heads.embedder import (
    embedder_spec,
    is_embedder_head,
    load_sentence_model,
    lora_embedder,
    sentence_model,
)
from heads.loading import HeadLoadError
from training.embed_pairs import (
    Candidate,
    mine_negatives,
    near_copy,
    news_candidates,
    with_negatives,
)
from training.export import save_embedder

BACKBONE = "sentence-transformers/all-MiniLM-L6-v2"


def _article(i: int, topic: str) -> tuple[str, str, str]:
    sents = [
        f"The {topic} report number {i}.{r} was published on a quiet Monday in town. "
        f"Officials said the {topic} figures for region {i}.{r} had risen for three years. "
        f"Critics argued that the {topic} numbers {i}.{r} hid a deeper budget problem. "
        f"A spokesman declined to comment on the {topic} findings {i}.{r} when asked. "
        f"The next {topic} review {i}.{r} is expected before the end of the year, they said."
        for r in range(2)
    ]
    return f"art-{topic}-{i}", f"{topic.title()} headline {i}", " ".join(sents)


ARTICLES = [_article(i, t) for i in range(4) for t in ("health", "energy", "sport")]


def test_news_candidates_hide_what_the_query_gives_away():
    cands = news_candidates(ARTICLES, random.Random(0))
    assert {len(v) for v in cands.values()} == {len(ARTICLES)}
    for c in cands["headline"]:
        assert not c.positive.startswith(c.query)  # the headline is not in its positive
    for c in cands["ict"]:
        assert c.query not in c.positive  # the sentence is cut out of its passage
        assert c.positive.startswith(next(t for a, t, _ in ARTICLES if a == c.group))
    for c in cands["lead"]:
        assert c.query not in c.positive


def test_short_or_untitled_articles_give_no_pairs():
    cands = news_candidates([("a", "", "x " * 100), ("b", "T", "too short")], random.Random(0))
    assert all(not v for v in cands.values())


def test_hard_negatives_never_come_from_the_same_article_or_a_copy():
    cands = news_candidates(ARTICLES, random.Random(1))["ict"]
    pool = [(c.group, c.positive) for c in cands]
    pool.append(("copy", cands[0].positive + " extra"))  # a near-copy of a positive
    negatives = mine_negatives(cands, pool, depth=5, seed=0)
    by_text = {t: g for g, t in pool}
    for c, n in zip(cands, negatives):
        assert n, "a pool of other articles always has a negative"
        assert by_text[n] != c.group
        assert not near_copy(n, c.positive)


def test_with_negatives_caps_at_the_limit_and_zero_means_none():
    cands = [Candidate(f"q{i}", f"passage {i} about oil", f"g{i}") for i in range(6)]
    assert len(with_negatives("ict", "t", cands, None, seed=0)) == 6
    assert len(with_negatives("ict", "t", cands, 4, seed=0)) == 4
    assert with_negatives("ict", "t", cands, 0, seed=0) == []


def test_mine_negatives_returns_empty_when_nothing_qualifies():
    cands = [Candidate("cats purr", "cats purr loudly", "g")]
    assert mine_negatives(cands, [("g", "cats purr loudly"), ("g", "dogs")], seed=0) == [""]
    assert mine_negatives([], [("g", "cats purr loudly")], seed=0) == []


@pytest.fixture(scope="module")
def adapted(tmp_path_factory):
    """An embedder head with random (non-zero) adapters, saved; and the vectors of
    the unmerged LoRA model it was saved from."""
    torch.manual_seed(0)
    spec = embedder_spec(BACKBONE, lora_r=4, lora_alpha=8, max_length=64)
    model = sentence_model(BACKBONE, "cpu")
    lora_embedder(model, spec, trainable=True)
    with torch.no_grad():
        for name, p in model[0].auto_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.02)
    model.max_seq_length = 64
    texts = ["Oil prices rose after the storm.", "The striker scored twice in the final."]
    model.eval()
    with torch.inference_mode():
        vectors = model.encode(texts, normalize_embeddings=True)
    out = save_embedder(model, spec, tmp_path_factory.mktemp("head") / "emb")
    return out, texts, vectors


def test_saved_adapters_load_merged_and_give_the_same_vectors(adapted):
    path, texts, vectors = adapted
    assert is_embedder_head(str(path))
    loaded = load_sentence_model(str(path), device="cpu")
    with torch.inference_mode():
        again = loaded.encode(texts, normalize_embeddings=True)
        base = sentence_model(BACKBONE, "cpu").encode(texts, normalize_embeddings=True)
    assert np.allclose(again, vectors, atol=2e-3)  # adapters are stored in float16
    assert not np.allclose(base, vectors, atol=2e-3)  # and they change the vectors
    assert not any("lora_" in n for n, _ in loaded.named_parameters())  # merged


def test_the_index_embedder_loads_an_embedder_head(adapted):
    from indexer.dense import Embedder

    path, texts, vectors = adapted
    emb = Embedder(str(path), max_length=64, precision="fp32")
    assert emb.model_name == str(path) and emb.dim == 384
    assert np.allclose(emb.encode(texts, queries=True), vectors, atol=2e-3)


def test_another_heads_directory_is_no_embedder():
    assert not is_embedder_head("reranker")
    with pytest.raises(HeadLoadError, match="cross-encoder head, not an embedder"):
        load_sentence_model("reranker")


def test_a_missing_adapter_file_names_the_fix(adapted, tmp_path):
    path, _, _ = adapted
    (tmp_path / "head.json").write_text((path / "head.json").read_text())
    with pytest.raises(HeadLoadError, match="newsrank train embedder"):
        load_sentence_model(str(tmp_path))


def test_mnrl_steps_lower_the_loss():
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from training.config import TrainConfig
    from training.embed_pairs import EmbedPair
    from training.embedder import mnrl_loss, triple_collate
    from training.trainer import fit

    spec = embedder_spec(BACKBONE, lora_r=4, lora_alpha=8, max_length=48)
    model = sentence_model(BACKBONE, "cpu")
    lora_embedder(model, spec, trainable=True)
    model.max_seq_length = 48
    pairs = [
        EmbedPair("zebra count", "The park counted 40 zebras.", "Rain fell in Leeds.", "k", "s"),
        EmbedPair("bank rate", "The central bank cut rates.", "A zebra was born.", "k", "s"),
        EmbedPair("cup final", "Rovers won the cup final.", "Banks closed early.", "k", "s"),
    ]
    collate = triple_collate(model)
    loss_fn = mnrl_loss(MultipleNegativesRankingLoss(model, scale=20.0), bf16=False)
    batch = collate(pairs)
    with torch.no_grad():
        model.eval()
        before = float(loss_fn(model, batch))
    cfg = TrainConfig(
        epochs=5,
        lr=3e-3,
        batch_size=3,
        lora_r=4,
        lora_alpha=8,
        warmup=0.0,
        eval_every=10_000,
        patience=100,
        seed=3,
    )
    fit(
        model,
        pairs,
        collate,
        lambda m: {"m": 0.0},
        "m",
        cfg,
        torch.device("cpu"),
        loss_fn,
        lengths=[1, 1, 1],
    )
    with torch.no_grad():
        after = float(loss_fn(model, batch))
    assert after < before


def test_prepared_pairs_round_trip_with_their_validation_set(tmp_path):
    from training.embed_pairs import EmbedPair, read_prepared, write_prepared

    pairs = [
        EmbedPair("oil price", "Oil fell 3% on Monday.", "Rain fell.", "ict", "news"),
        EmbedPair("Ünïcode ✓", "Naïve café.", "", "headline", "agnews"),
    ]
    validation = (["q1"], ["p0", "p1"], [1])
    path = write_prepared(tmp_path / "sub" / "pairs.json.gz", pairs, validation, "cmd")
    assert read_prepared(path) == (pairs, validation)


def test_a_file_that_is_not_a_prepared_pair_file_names_the_fix(tmp_path):
    import gzip
    import json

    from training.embed_pairs import read_prepared

    plain = tmp_path / "plain.json.gz"
    plain.write_text("not gzip")
    with pytest.raises(ValueError, match="--write-data"):
        read_prepared(plain)
    other = tmp_path / "other.json.gz"
    with gzip.open(other, "wt") as fh:
        json.dump({"format": "something-else"}, fh)
    with pytest.raises(ValueError, match="not a prepared file"):
        read_prepared(other)
    with pytest.raises(ValueError, match="cannot be read"):
        read_prepared(tmp_path / "missing.json.gz")


def test_training_reads_a_prepared_file_alone_and_caps_it(tmp_path):
    import argparse

    from training.config import TrainConfig
    from training.embed_pairs import EmbedPair, write_prepared
    from training.embed_sources import training_data

    pairs = [EmbedPair(f"q{i}", f"p{i}", f"n{i}", "ict", "news") for i in range(5)]
    path = write_prepared(tmp_path / "p.json.gz", pairs, (["v"], ["x"], [0]))
    args = argparse.Namespace(data=f"prepared:{path}", passage_words=200, val_queries=300)
    got, validation = training_data(args, TrainConfig(max_examples=3))
    assert got == pairs[:3] and validation == (["v"], ["x"], [0])
    args.data = f"prepared:{path},news#10"
    with pytest.raises(ValueError, match="give it alone"):
        training_data(args, TrainConfig())
