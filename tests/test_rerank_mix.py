"""The rerank stage's ordering (ranker.rerank.rerank_articles): pure, no model."""

from hypothesis import given
from hypothesis import strategies as st

from ranker.ranking import ArticleScore
from ranker.rerank import rerank_articles

scores = st.floats(min_value=-50, max_value=50, allow_nan=False)


@st.composite
def rankings(draw):
    n = draw(st.integers(min_value=1, max_value=12))
    fused = sorted(draw(st.lists(scores, min_size=n, max_size=n)), reverse=True)
    articles = [ArticleScore(i, s, 100 + i) for i, s in enumerate(fused)]
    depth = draw(st.integers(min_value=1, max_value=n))
    ce = {i: draw(scores) for i in range(depth)}
    bm25 = {i: draw(scores) for i in range(n) if draw(st.booleans())}
    dense = {i: draw(scores) for i in range(n) if draw(st.booleans())}
    mix = draw(st.tuples(st.floats(0.01, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)))
    return articles, ce, {"bm25": bm25, "dense": dense}, mix


@given(rankings())
def test_a_rerank_is_a_permutation_with_the_reranked_first(case):
    articles, ce, stages, mix = case
    out = rerank_articles(articles, ce, mix, stages)
    assert sorted(a.article for a in out) == [a.article for a in articles]
    assert {a.article for a in out[: len(ce)]} == set(ce)
    assert out[len(ce) :] == articles[len(ce) :]  # the rest keep fused order and score
    assert all(a.best_passage == 100 + a.article for a in out)


@given(rankings())
def test_the_cross_encoder_alone_orders_by_its_raw_score(case):
    articles, ce, stages, _ = case
    out = rerank_articles(articles, ce, (1.0, 0.0, 0.0, 0.0), stages)
    head = [a.score for a in out[: len(ce)]]
    assert head == sorted(ce.values(), reverse=True)


@given(rankings())
def test_a_mixed_score_lies_between_0_and_1_and_orders_the_head(case):
    articles, ce, stages, mix = case
    head = rerank_articles(articles, ce, mix, stages)[: len(ce)]
    assert all(-1e-9 <= a.score <= 1 + 1e-9 for a in head) or mix[1:] == (0, 0, 0)
    if mix[1:] != (0, 0, 0):
        assert [a.score for a in head] == sorted((a.score for a in head), reverse=True)


def test_a_retriever_that_is_sure_outweighs_a_split_cross_encoder():
    fused = [ArticleScore(0, 0.03, 0), ArticleScore(1, 0.03, 1), ArticleScore(2, 0.02, 2)]
    ce = {0: 1.0, 1: 0.9, 2: 0.0}
    bm25 = {0: 5.0, 1: 20.0, 2: 4.0}  # BM25 has article 1 far ahead
    assert [a.article for a in rerank_articles(fused, ce, (1, 0, 0, 0), {"bm25": bm25})] == [
        0,
        1,
        2,
    ]
    mixed = rerank_articles(fused, ce, (0.4, 0, 0.4, 0.2), {"bm25": bm25})
    assert [a.article for a in mixed] == [1, 0, 2]
    # a retriever that returned none of them scales to ones: it changes nothing
    assert [a.article for a in rerank_articles(fused, ce, (0.4, 0, 0, 0.6), {})] == [0, 1, 2]
