"""Property-based tests (hypothesis): request parsing, the pure stage functions, and
the real shipped heads' handling of any input.

Every test is derandomized (the same examples on every run, so CI is deterministic)
and bounded: the heads' properties take 25 examples each, since a call costs tens of
milliseconds; the pure functions take more.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from heads.base import truncate_tokens
from heads.decoding import best_span, bio_to_entities, top_spans
from heads.reader import encode_windows, question_token_limit
from newsrank.config import SearchConfig
from newsrank.errors import QueryError
from newsrank.text import replace_surrogates
from ranker.fuse import aggregate, linear, minmax, rrf
from ranker.read import FoundAnswer
from ranker.render import answer_context
from ranker.request import SearchRequest, parse_entity, validate_request
from ranker.snippet import make_snippet, term_spans
from tests import shipped
from tests.shipped import one_torch_thread
from web.params import MAX_FILTER_VALUES, search_request, text_field

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)

PURE = settings(max_examples=150, derandomize=True, deadline=None, database=None)
TOKENIZER = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
HEADS = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: characters that have broken tokenizers, encoders or offsets somewhere
ODD_CHARS = st.sampled_from(
    [
        "\ud800",  # lone surrogates: not encodable as UTF-8
        "\udfff",
        "\x00",
        "\x1b",
        "\u200f",  # right-to-left mark
        "\u202e",  # right-to-left override
        "\u200b",  # zero-width space
        "\ufeff",
        "\ufffd",
        "\u0301",  # a lone combining accent
        "İ",  # lower() makes it two characters
        "ß",
        "石",
        "🛢",
        "\n",
        " ",
        "=",
    ]
)
CHARS = st.one_of(st.characters(), ODD_CHARS, st.sampled_from("abc OPEC oil "))
odd_text = st.text(CHARS, max_size=200)
#: up to about 10,000 characters: a short piece repeated
long_text = st.builds(
    lambda s, n: s * n, st.text(CHARS, min_size=1, max_size=12), st.integers(1, 800)
)
#: a text with one of ODD_CHARS surely inside
spiked_text = st.builds(lambda a, odd, b: a + odd + b, odd_text, ODD_CHARS, odd_text)
any_text = st.one_of(odd_text, long_text, spiked_text)


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- request parsing -------------------------------------------------------------

PARAM_VALUES = st.one_of(
    odd_text,
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(
        ["", " ", "10", "ORG=OPEC", "=x", "org = Opec ", "2017-01-05", "2017/1/5", "2017-02-30"]
        + ["9" * 5000, "1_0", "１２", "nan", "1e3", "-0", "0x10", "٣"]
    ),
)
PARAMS = st.lists(
    st.tuples(
        st.sampled_from(["q", "k", "page", "source", "topic", "entity", "from", "to", "x"]),
        PARAM_VALUES,
    ),
    max_size=10,
)


@PURE
@given(PARAMS)
def test_search_request_parses_every_parameter_or_says_which_is_wrong(pairs):
    args = MultiDict(pairs)
    try:
        request = search_request(args, default_k=10)
    except QueryError as exc:
        assert str(exc) and encodable(str(exc)) and len(str(exc)) < 1000
        return
    assert request.query == replace_surrogates(args["q"])
    assert isinstance(request.k, int) and isinstance(request.page, int)
    for values in (request.sources, request.topics):
        assert len(values) <= MAX_FILTER_VALUES
        assert all(v and v == v.strip() and encodable(v) for v in values)
    for type_, text in request.entities:
        assert type_ and text and "=" not in type_ and encodable(type_ + text)
    for value in (request.query, request.date_from or "", request.date_to or ""):
        assert encodable(value)


DATES = st.one_of(
    st.none(),
    st.dates().map(dt.date.isoformat),
    st.dates().map(lambda d: f"{d.year}/{d.month}/{d.day}"),
    st.from_regex(r"\A\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(T[0-9:]*Z?)?\Z"),
    odd_text,
)


@PURE
@given(
    query=st.one_of(odd_text, long_text),
    k=st.integers(-5, 150),
    page=st.integers(-5, 120),
    date_from=DATES,
    date_to=DATES,
)
def test_a_validated_request_raises_query_error_or_is_normalised(
    query, k, page, date_from, date_to
):
    config = SearchConfig()
    raw = SearchRequest(query, k=k, page=page, date_from=date_from, date_to=date_to)
    try:
        request = validate_request(raw, config)
    except QueryError as exc:
        assert str(exc)
        return
    assert request.query == " ".join(query.split())
    assert any(ch.isalnum() for ch in request.query)  # a query without words is refused
    assert 1 <= len(request.query) <= config.max_query_chars
    assert 1 <= request.k <= config.max_k
    assert request.page >= 1 and request.page * request.k <= config.max_candidates
    for value in (request.date_from, request.date_to):
        assert value is None or dt.date.fromisoformat(value).isoformat() == value
    assert validate_request(request, config) == request  # normalised: a fixed point


@PURE
@given(st.text(st.characters(exclude_categories=("L", "N")), max_size=30), st.text(max_size=20))
def test_only_a_query_without_letters_or_digits_is_refused_for_it(symbols, words):
    config = SearchConfig()
    with pytest.raises(QueryError, match="no letter or digit|empty query"):
        validate_request(SearchRequest(symbols), config)
    query = f"{symbols} oil{words}"[: config.max_query_chars]
    assert "oil" in validate_request(SearchRequest(query), config).query


@PURE
@given(st.one_of(odd_text, st.builds(lambda a, b: f"{a}={b}", odd_text, odd_text)))
def test_parse_entity_splits_type_and_text_or_raises(value):
    type_, sep, text = value.partition("=")
    try:
        parsed = parse_entity(value)
    except ValueError as exc:
        assert "TYPE=TEXT" in str(exc)
        assert not sep or not type_.strip() or not text.strip()
        return
    assert parsed == (type_.strip().upper(), text.strip()) and all(parsed)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_text,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["text", "x"]) | odd_text, inner, max_size=3)
    ),
    max_leaves=8,
)


@PURE
@given(st.one_of(JSON_VALUES, st.dictionaries(st.just("text"), JSON_VALUES | odd_text)))
def test_text_field_returns_a_clean_bounded_string_or_raises_query_error(data):
    try:
        value = text_field(data, "text", max_chars=50)
    except QueryError as exc:
        raw = data.get("text") if isinstance(data, dict) else None
        assert not (isinstance(raw, str) and raw.strip() and len(raw) <= 50), exc
        return
    assert value == replace_surrogates(data["text"]) and len(value) == len(data["text"])
    assert 0 < len(value) <= 50 and value.strip() and encodable(value)


# --- fusion ----------------------------------------------------------------------

RANKINGS = st.dictionaries(
    st.sampled_from(["bm25", "dense", "third"]),
    st.lists(st.integers(0, 40), unique=True, max_size=20),
    max_size=3,
)


def _rank(item: int, ids: list[int]) -> float:
    return ids.index(item) + 1 if item in ids else float("inf")


@PURE
@given(RANKINGS, st.integers(1, 100))
def test_rrf_scores_are_positive_sums_and_monotone_in_rank(rankings, k):
    fused = rrf(rankings, k=k)
    assert set(fused) == set(itertools.chain.from_iterable(rankings.values()))
    for item, score in fused.items():
        expected = sum(1 / (k + _rank(item, ids)) for ids in rankings.values() if item in ids)
        assert score == pytest.approx(expected) and 0 < score <= len(rankings) / (k + 1)
    for ids in rankings.values():
        if len(rankings) == 1:  # one stage: strictly decreasing down its list
            assert all(fused[a] > fused[b] for a, b in itertools.pairwise(ids))
    for a, b in itertools.permutations(fused, 2):
        ra = [_rank(a, ids) for ids in rankings.values()]
        rb = [_rank(b, ids) for ids in rankings.values()]
        if all(x <= y for x, y in zip(ra, rb)) and ra != rb:  # a ranks above b everywhere
            assert fused[a] > fused[b]


@PURE
@given(st.lists(st.floats(-1e9, 1e9), max_size=30))
def test_minmax_scales_to_the_unit_interval_keeping_order(values):
    scaled = minmax(values)
    assert len(scaled) == len(values) and all(0.0 <= x <= 1.0 for x in scaled)
    if values and max(values) == min(values):
        assert scaled.tolist() == [1.0] * len(values)
    elif values:
        assert scaled[int(np.argmin(values))] == 0.0 and scaled[int(np.argmax(values))] == 1.0
    for i, j in itertools.permutations(range(len(values)), 2):
        if values[i] < values[j]:
            assert scaled[i] <= scaled[j]


STAGE = st.lists(st.integers(0, 30), unique=True, max_size=15).flatmap(
    lambda ids: st.tuples(
        st.just(ids), st.lists(st.floats(-1e6, 1e6), min_size=len(ids), max_size=len(ids))
    )
)


@PURE
@given(
    st.dictionaries(st.sampled_from(["bm25", "dense"]), STAGE, max_size=2),
    st.tuples(st.floats(0, 5), st.floats(0, 5)),
)
def test_linear_fusion_is_a_weighted_sum_of_unit_scores(stages, weights):
    named = dict(zip(("bm25", "dense"), weights))
    fused = linear(stages, named)
    assert set(fused) == {i for ids, _ in stages.values() for i in ids}
    total = sum(named[name] for name in stages)
    assert all(-1e-9 <= s <= total + 1e-9 for s in fused.values())
    if stages:
        with pytest.raises(ValueError, match="no weight"):
            linear(stages, {})


@PURE
@given(
    st.dictionaries(st.integers(0, 29), st.floats(-1e6, 1e6), max_size=30),
    st.lists(st.integers(0, 6), min_size=30, max_size=30),
)
def test_aggregate_scores_each_article_by_its_best_passage(passage_scores, owners):
    passage_article = np.array(owners)
    articles = aggregate(passage_scores, passage_article)
    assert {a.article for a in articles} == {owners[p] for p in passage_scores}
    assert len({a.article for a in articles}) == len(articles)
    for a in articles:
        mine = [s for p, s in passage_scores.items() if owners[p] == a.article]
        assert a.score == max(mine) and passage_scores[a.best_passage] == a.score
        assert owners[a.best_passage] == a.article
    keys = [(-a.score, a.article) for a in articles]
    assert keys == sorted(keys)


# --- decoding --------------------------------------------------------------------

LOGITS = st.integers(1, 24).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(-20, 20), min_size=n, max_size=n),
        st.lists(st.floats(-20, 20), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
    )
)


@PURE
@given(LOGITS, st.integers(1, 8), st.integers(1, 6))
def test_top_spans_are_the_best_allowed_spans_within_the_length_bound(logits, max_len, k):
    s, e, allowed = logits
    n = len(s)
    brute = sorted(
        (
            s[i] + e[j]
            for i in range(n)
            for j in range(i, min(n, i + max_len))
            if allowed[i] and allowed[j]
        ),
        reverse=True,
    )
    spans = top_spans(s, e, allowed, max_len, k)
    assert len(spans) == min(k, len(brute))
    for span in spans:
        assert 0 <= span.start <= span.end < min(n, span.start + max_len)
        assert allowed[span.start] and allowed[span.end]
        assert span.score == pytest.approx(s[span.start] + e[span.end])
    assert [x.score for x in spans] == pytest.approx(brute[: len(spans)])
    best = best_span(s, e, allowed, max_len)
    assert (best is None) == (not brute) and (best is None or best == spans[0])


TAGS = st.sampled_from(["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "I-LOC", "B-MISC"])
WORDS = st.lists(
    st.tuples(st.text("abcXYZé石", min_size=1, max_size=6), TAGS, st.floats(0, 1)),
    max_size=25,
)


@PURE
@given(WORDS, st.sampled_from([" ", ", ", "\n", "  "]))
def test_bio_to_entities_spans_runs_of_tags_inside_the_text(words, sep):
    text, offsets, at = "", [], 0
    for word, _, _ in words:
        offsets.append((at, at + len(word)))
        text += word + sep
        at = len(text)
    tags = [t for _, t, _ in words]
    scores = [p for _, _, p in words]
    entities = bio_to_entities(tags, offsets, text, scores)
    starts = [
        k
        for k, t in enumerate(tags)
        if t != "O" and (t[0] == "B" or k == 0 or tags[k - 1][2:] != t[2:])
    ]
    assert len(entities) == len(starts)
    assert {e.type for e in entities} <= {t[2:] for t in tags if t != "O"}
    for e, k in zip(entities, starts):
        assert e.text == text[e.start : e.end] and e.start == offsets[k][0] < e.end
        assert min(scores) - 1e-9 <= e.score <= max(scores) + 1e-9
    assert all(a.end <= b.start for a, b in itertools.pairwise(entities))


# --- snippets and answers ----------------------------------------------------------

SNIPPET_WORDS = st.lists(st.text("abcoilé石", min_size=1, max_size=10), min_size=1, max_size=80)


@PURE
@given(SNIPPET_WORDS, st.sampled_from([" ", ", ", "  ", " - "]), st.integers(20, 200), st.data())
def test_snippet_highlights_lie_inside_it_and_cover_the_query_words(words, sep, width, data):
    text = sep.join(words)
    terms = {w.lower() for w in data.draw(st.lists(st.sampled_from(words), max_size=4))}
    snippet = make_snippet(text, terms, max_chars=width, normalize=str.lower)
    out = snippet.text
    assert len(out) <= width + 2  # the window and at most two ellipses
    prefix = 1 if out.startswith("…") else 0
    suffix = 1 if out.endswith("…") and len(out) > prefix else 0
    core = out[prefix : len(out) - suffix]
    assert core in text
    for a, b in snippet.highlights:
        assert prefix <= a < b <= len(out) - suffix and out[a:b].lower() in terms
    found = term_spans(out, terms, str.lower)
    assert set(snippet.highlights) <= set(found)
    for a, b in set(found) - set(snippet.highlights):  # only words cut at the ends
        assert a == prefix or b == len(out) - suffix
    if len(text) <= width:
        assert out == text and snippet.highlights == term_spans(text, terms, str.lower)
    elif terms and max(map(len, words)) < width // 3:
        assert snippet.highlights  # a window is chosen around the query words


@PURE
@given(st.text("ab c石é.\n", max_size=400), st.integers(10, 400), st.data())
def test_answer_context_holds_the_answer_at_its_offsets(text, width, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    answer = FoundAnswer(text[start:end], 0.9, "doc", start, end, 0)
    ctx = answer_context(text, answer, width)
    assert ctx.context[ctx.start : ctx.end] == text[start:end] and ctx.score == 0.9
    prefix = 1 if ctx.context.startswith("…") else 0
    suffix = 1 if ctx.context.endswith("…") and len(ctx.context) > prefix else 0
    assert ctx.context[prefix : len(ctx.context) - suffix] in text
    assert len(ctx.context) <= (end - start) + width + 2 * (width // 3) + 2
    assert answer_context(text, None, width) is None


# --- the shipped heads on any input ----------------------------------------------------


@TOKENIZER
@given(any_text, st.integers(1, 80))
def test_truncate_tokens_keeps_a_prefix_of_at_most_that_many_tokens(text, max_tokens):
    tok, clean = shipped.reader().tokenizer, replace_surrogates(text)
    cut = truncate_tokens(tok, clean, max_tokens)
    whole = len(tok(clean, add_special_tokens=False)["input_ids"])
    if whole <= max_tokens:
        assert cut == clean  # what fits is not touched
    else:
        n = len(tok(cut, add_special_tokens=False)["input_ids"])
        assert clean.startswith(cut) and 1 <= n <= max_tokens < whole


@TOKENIZER
@given(any_text, any_text, st.sampled_from([(8, 3), (32, 8), (64, 16), (256, 64), (384, 128)]))
def test_encode_windows_always_leaves_room_for_the_context(question, context, window):
    max_length, stride = window
    enc = encode_windows(shipped.reader().tokenizer, [question], [context], max_length, stride)
    limit = question_token_limit(max_length, stride)
    for w in range(len(enc["input_ids"])):
        seq = enc.sequence_ids(w)
        assert seq.count(0) <= limit and len(seq) <= max_length
        assert max_length - 3 - seq.count(0) > stride  # what a window leaves the context


@HEADS
@given(any_text, st.lists(any_text, min_size=1, max_size=2))
def test_reader_answers_any_question_or_declines(question, contexts):
    reader = shipped.reader()
    if not question.strip():
        with pytest.raises(ValueError, match="empty"):
            reader.answer(question, contexts)
        return
    answers = reader.answer(question, contexts, top_k=3)
    assert len(answers) <= 3
    assert [a.score for a in answers] == sorted((a.score for a in answers), reverse=True)
    for a in answers:
        assert contexts[a.context_index][a.start : a.end] == a.text and 0 <= a.score <= 1


@HEADS
@given(st.lists(any_text, min_size=1, max_size=3))
def test_tagger_entities_point_into_any_text(texts):
    found = shipped.tagger().tag(texts)
    assert len(found) == len(texts)
    for text, entities in zip(texts, found):
        for e in entities:
            assert 0 <= e.start < e.end <= len(text) and text[e.start : e.end] == e.text
            assert e.type in {"PER", "ORG", "LOC", "MISC"} and 0 <= e.score <= 1
        assert all(a.end <= b.start for a, b in itertools.pairwise(entities))


@HEADS
@given(st.lists(any_text, min_size=1, max_size=3))
def test_classifier_gives_any_text_a_distribution(texts):
    clf = shipped.classifier()
    for labels in clf.predict(texts):
        assert sorted(x.label for x in labels) == sorted(clf.labels)
        assert sum(x.score for x in labels) == pytest.approx(1.0, abs=1e-4)
        assert [x.score for x in labels] == sorted((x.score for x in labels), reverse=True)


@HEADS
@given(st.lists(st.tuples(any_text, any_text), min_size=1, max_size=3))
def test_reranker_scores_any_pair_and_never_starves_the_passage(pairs):
    ce = shipped.reranker()
    scores = ce.predict(pairs)
    assert scores.shape == (len(pairs),) and all(0 <= s <= 1 for s in scores)
    enc = ce.encode(pairs)
    for b, (_, passage) in enumerate(pairs):
        seq = enc.sequence_ids(b)
        own = len(ce.tokenizer(replace_surrogates(passage), add_special_tokens=False)["input_ids"])
        assert seq.count(0) <= ce.query_token_limit() and len(seq) <= ce.max_length
        assert seq.count(1) >= min(own, ce.passage_token_floor())


def test_the_strategies_reach_surrogates_and_long_texts():
    # the heads' properties mean something only if odd input is really generated
    seen = []

    @settings(max_examples=60, derandomize=True, database=None)
    @given(any_text)
    def collect(text):
        seen.append(text)

    collect()
    assert any("\ud800" in t or "\udfff" in t for t in seen)
    assert max(map(len, seen)) > 2000
