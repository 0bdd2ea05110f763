"""Reranker groups mined from a newsrank index (training.index_groups, issue #14)."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from training.index_groups import hard_negatives, index_groups, pick_query


def test_hard_negatives_keep_ranking_order_and_skip_what_is_no_negative():
    ranked = [
        (5, "T. the positive article itself"),
        (1, "A. holds the remembered sentence word for word"),
        (2, "B. another outlet's report"),
        (3, "C. banned: a benchmark article"),
        (4, "P. the cat sat on the mat today"),  # a near-copy of the positive
        (6, "D. a third report"),
        (7, "E. a fourth"),
    ]
    got = hard_negatives(
        "the remembered sentence",
        "P. the cat sat on the mat",
        ranked,
        positive_article=5,
        banned={3},
        n=2,
    )
    assert got == [(2, "B. another outlet's report"), (6, "D. a third report")]


@given(st.lists(st.text(min_size=1, max_size=30), max_size=6), st.integers(0, 10**6))
def test_pick_query_cuts_a_sentence_out_of_its_passage(passages, seed):
    picked = pick_query("Title", passages, random.Random(seed))
    if picked is None:
        return
    query, positive = picked
    assert 8 <= len(query.split()) <= 60
    assert positive.startswith("Title. ")


def test_pick_query_needs_context_left_after_the_cut():
    one = "Only one sentence here has more than eight words in it."
    assert pick_query("T", [one], random.Random(0)) is None
    two = one + " A second sentence also has more than eight words in it."
    query, positive = pick_query("T", [two], random.Random(0))
    assert query in two and query not in positive


TOPICS = ["oil prices", "election count", "football final", "vaccine trial", "bank rates"]


def story_rows() -> list[dict[str, str]]:
    """Twenty articles of four sentences each, four outlets per topic (hard negatives)."""
    rows = []
    for i in range(20):
        topic = TOPICS[i % len(TOPICS)]
        body = " ".join(
            f"Outlet {i} reports sentence {j} on the {topic} with detail number {i * 10 + j} "
            f"and words {' '.join(f'w{i}x{j}x{k}' for k in range(3))}."
            for j in range(4)
        )
        rows.append({"id": f"a-{i}", "title": f"{topic.title()} story {i}", "text": body})
    return rows


@pytest.fixture(scope="module")
def story_index(tmp_path_factory, embedder):
    from indexer.build import build_index
    from indexer.ingest import read_articles

    path = tmp_path_factory.mktemp("stories") / "news.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in story_rows()) + "\n", encoding="utf-8")
    out = path.parent / "index"
    build_index(read_articles([path]).articles, out, embedder=embedder, progress=False)
    return out


def test_index_groups_mine_the_products_hybrid_ranking(story_index):
    excluded = "a-3"
    settings = dict(n_queries=12, n_val=3, n_hard=2, n_random=1, seed=3)
    mined = index_groups(story_index, **settings, exclude=lambda art: art == excluded)
    assert mined.groups and len(mined.validation) == 3
    assert all(len(g.negatives) == 3 for g in mined.groups)  # 2 hybrid-hard + 1 random
    val_queries = {q for q, _, _ in mined.validation}
    for g in mined.groups:
        assert g.query not in val_queries
        assert g.query not in g.positive  # the sentence is cut out
        assert all(g.query not in n for n in g.negatives)
        assert len({g.positive, *g.negatives}) == 4
    for query, texts, positives in mined.validation:
        assert positives == {0} and len(texts) >= 2
        assert query not in texts[0]
    every = [t for g in mined.groups for t in (g.positive, *g.negatives)]
    every += [t for _, texts, _ in mined.validation for t in texts]
    assert not any("Outlet 3 " in t for t in every)  # the excluded article is never shown
    for g in mined.groups:  # the hardest negatives are reports on the same topic
        topic = next(t for t in TOPICS if t in g.positive)
        assert topic in g.negatives[0]
    again = index_groups(story_index, **settings, exclude=lambda art: art == excluded)
    assert again == mined  # deterministic for a seed


def test_train_reranker_from_an_index_saves_a_head_that_loads(story_index, tmp_path):
    """``newsrank train reranker --data ict:INDEX``: mined groups train a head, early
    stopping reads the mined validation queries, and the saved head scores pairs."""
    import json

    from heads.cross_encoder import CrossEncoder
    from newsrank.cli import main

    out = tmp_path / "rr"
    argv = ["train", "reranker", "--data", f"ict:{story_index}#6", "--out", str(out)]
    argv += ["--epochs", "1", "--batch-size", "2", "--max-length", "64", "--hard", "2"]
    argv += ["--random", "1", "--val-queries", "3", "--threads", "1", "--lora-r", "4"]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"]["groups"] == {"ict": 6} and metrics["data"]["val_ict_queries"] == 3
    assert all("mrr_ict" in h for h in metrics["history"])
    scores = CrossEncoder(str(out)).predict([("oil prices", "Oil prices story. Oil rose.")] * 2)
    assert len(scores) == 2 and scores[0] == scores[1]


def test_embedder_pairs_from_an_index_read_as_the_index_embeds(story_index):
    """``newsrank train embedder --data ict:INDEX``: triples in the retrievers' text form
    (``title\\npassage``), the hard negative from another article."""
    from training.embed_sources import source_pairs

    pairs = source_pairs(f"ict:{story_index}#5", seed=1)
    assert len(pairs) == 5
    for p in pairs:
        assert p.kind == "ict" and p.source == "index"
        assert "\n" in p.positive and ". " not in p.positive.split("\n")[0][-2:]
        assert p.negative and p.negative != p.positive and p.query not in p.positive
        assert p.negative.split("\n")[0] != p.positive.split("\n")[0]  # another article


_WORDS = st.sampled_from(
    "the Qantas said 7,000 jobs abroad cut costs in Sydney on Monday it would move "
    "£500m 0.8% Lyons neighbour discovery found python Indonesia of a and".split()
)


@given(st.lists(_WORDS, max_size=25), st.lists(_WORDS, max_size=6), st.integers(0, 10**6))
def test_remembered_keeps_a_few_content_words_and_at_most_one_of_the_headline(
    words, title_words, seed
):
    from indexer.analysis import STOPWORDS, Tokenizer
    from training.index_groups import remembered

    sentence, title = " ".join(words) + ".", " ".join(title_words)
    got = remembered(sentence, title, random.Random(seed), low=3, high=7)
    if got is None:
        return
    kept = got.split()
    assert 3 <= len(kept) <= 7 and len(set(kept)) == len(kept)
    assert not {w.lower() for w in kept} & (STOPWORDS | {"said", "would", "it"})
    positions = [words.index(w) for w in kept]  # each a word of the sentence, in order
    assert positions == sorted(positions)
    stem = Tokenizer()
    assert sum(bool(set(stem(w)) & set(stem(title))) for w in kept) <= 1


def test_remembered_is_none_without_enough_content_words():
    from training.index_groups import remembered

    assert remembered("It was said to be so, he said.", "T", random.Random(0)) is None


def test_index_groups_terse_queries_are_remembered_forms_mined_as_shown(story_index):
    """``terse=1``: every query is a remembered form of a sentence of one article (that
    article is the positive); its negatives are other articles, and ``terse`` outside
    0-1 is refused."""
    settings = dict(n_queries=8, n_val=2, n_hard=2, n_random=1, seed=3)
    short = index_groups(story_index, **settings, terse=1.0)
    assert short.groups and short != index_groups(story_index, **settings)
    bodies = {f"{r['title']}. ": r["text"] for r in story_rows()}
    for g in short.groups:
        kept = g.query.rstrip(".").split()
        assert 3 <= len(kept) <= 7 and len(g.negatives) == 3
        title = next(t for t in bodies if g.positive.startswith(t))
        assert all(w in bodies[title].replace(".", " ").split() for w in kept)
        assert not any(n.startswith(title) for n in g.negatives)
    with pytest.raises(ValueError, match="terse=1.5"):
        index_groups(story_index, **settings, terse=1.5)
