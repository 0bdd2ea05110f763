"""Long and odd inputs: every shipped head answers them itself, and no page or API call
turns them into a 500 (the 400-character pasted paragraph that crashed the reader).

The heads are the real shipped ones (tests/shipped.py loads each once per session).
"""

import json

import pytest

from heads.base import truncate_tokens
from heads.reader import encode_windows, question_token_limit
from newsrank.text import REPLACEMENT, replace_surrogates
from tests import shipped
from tests.shipped import PASTED, one_torch_thread
from web import create_app

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)

CONTEXT = (
    "Oil prices fell sharply on Monday after OPEC and Russia agreed to cut production "
    "by a record 9.7 million barrels a day, Angela Merkel said in Berlin."
)
#: Odd inputs every head must take: empty, blank, control characters, a lone surrogate
#: (not encodable as UTF-8), right-to-left and zero-width marks, 10k characters.
ODD = {
    "empty": "",
    "blank": " \t\n ",
    "control": "\x00\x01\x1b[31m oil \x7f",
    "surrogate": "oil \ud800 prices \udfff",
    "rtl": "\u200f\u202e OPEC \u202c\u200e النفط",
    "zero-width": "\u200b\ufeff\u200d" * 50,
    "10k": "word " * 2000,
    "cjk": "石油价格" * 100,
}


def test_replace_surrogates_keeps_length_and_real_characters():
    text = "a\ud800b\udfffc \U0001f6e2 é"
    clean = replace_surrogates(text)
    assert clean == f"a{REPLACEMENT}b{REPLACEMENT}c \U0001f6e2 é" and len(clean) == len(text)
    clean.encode("utf-8")  # encodable now
    assert replace_surrogates(clean) == clean and replace_surrogates("plain") == "plain"


def test_the_pasted_paragraph_is_longer_than_the_reader_window_allowed():
    reader = shipped.reader()
    tokens = reader.tokenizer(PASTED, add_special_tokens=False)["input_ids"]
    assert len(PASTED) <= 500 and len(tokens) > reader.max_length - reader.stride - 3


@pytest.mark.parametrize("question", [PASTED, "why " * 300, "石油" * 250, "word " * 2000])
def test_reader_reads_a_long_question_with_windows_left_for_the_context(question):
    reader = shipped.reader()
    context = CONTEXT * 8  # several windows
    answers = reader.answer(question, [context], top_k=3)
    assert 1 <= len(answers) <= 3
    assert all(context[a.start : a.end] == a.text and 0 <= a.score <= 1 for a in answers)
    enc = encode_windows(reader.tokenizer, [question], [context], reader.max_length, reader.stride)
    limit = question_token_limit(reader.max_length, reader.stride)
    assert limit == reader.max_length // 4 == 64
    for w in range(len(enc["input_ids"])):
        seq = enc.sequence_ids(w)
        assert seq.count(0) == limit  # the question's first 64 tokens
        assert seq.count(1) > reader.stride  # and more than a stride of context


def test_reader_encodes_a_normal_question_exactly_as_before():
    reader = shipped.reader()
    tok, q = reader.tokenizer, "Who agreed to cut production?"
    enc = encode_windows(tok, [q], [CONTEXT], reader.max_length, reader.stride)
    plain = tok([q], [CONTEXT], truncation="only_second", max_length=256, stride=64)
    assert enc["input_ids"][0][: len(plain["input_ids"][0])].tolist() == plain["input_ids"][0]
    assert truncate_tokens(tok, q, 5) == "Who agreed to cut production"


@pytest.mark.parametrize("name", sorted(ODD))
def test_reader_answers_or_declines_odd_questions_and_contexts(name):
    reader, text = shipped.reader(), ODD[name]
    if text.strip():
        answers = reader.answer(text, [CONTEXT])
        assert all(CONTEXT[a.start : a.end] == a.text for a in answers)
        if name == "zero-width":  # no token: nothing is asked, nothing answered
            assert answers == []
    else:
        with pytest.raises(ValueError, match="question is empty"):
            reader.answer(text, [CONTEXT])
    answers = reader.answer("Who cut production?", [text], top_k=2)
    assert all(text[a.start : a.end] == a.text and 0 <= a.score <= 1 for a in answers)


@pytest.mark.parametrize("name", sorted(ODD))
def test_tagger_classifier_and_reranker_take_odd_texts(name):
    text = ODD[name]
    entities = shipped.tagger().tag([text])[0]
    assert all(text[e.start : e.end] == e.text and e.start < e.end for e in entities)
    labels = shipped.classifier().predict([text])[0]
    assert sorted(x.label for x in labels) == sorted(shipped.classifier().labels)
    assert sum(x.score for x in labels) == pytest.approx(1.0, abs=1e-4)
    scores = shipped.reranker().predict([(text, CONTEXT), ("oil prices", text)])
    assert scores.shape == (2,) and all(0 <= s <= 1 for s in scores)


def test_tagger_keeps_tags_on_their_words_when_the_tokenizer_drops_a_word():
    # "\x00" and the zero-width space are words to split_words but have no token; the
    # tags of the words after them must not shift onto their neighbours
    text = "\x00 \u200b Angela Merkel visited Paris."
    found = {(e.type, e.text) for e in shipped.tagger().tag([text])[0]}
    assert ("PER", "Angela Merkel") in found and ("LOC", "Paris") in found


def test_tagger_windows_reach_the_end_of_a_long_text():
    text = "word " * 2000 + "Angela Merkel visited Paris."
    entities = shipped.tagger().tag([text])[0]
    assert ("PER", "Angela Merkel") in {(e.type, e.text) for e in entities}
    assert all(text[e.start : e.end] == e.text for e in entities)


def test_reranker_cuts_a_long_query_so_the_passage_keeps_half_the_window():
    ce = shipped.reranker()
    passage, short = CONTEXT * 10, "Oil fell."
    assert ce.query_token_limit() == 125 and ce.passage_token_floor() == 62
    assert ce.truncate("oil price " * 1000, ce.query_token_limit()).count("oil") == 63
    enc = ce.encode([("oil price " * 1000, passage), ("oil price " * 1000, short)])
    for b, text in enumerate([passage, short]):
        own = len(ce.tokenizer(text, add_special_tokens=False)["input_ids"])
        seq = enc.sequence_ids(b)
        assert seq.count(1) == min(own, ce.passage_token_floor() + 1)
        assert seq.count(0) + seq.count(1) == ce.max_length - 3
    short = [("oil prices after the OPEC deal", passage)]
    plain = ce.tokenizer(
        [short[0][0]],
        [short[0][1]],
        truncation="longest_first",
        max_length=ce.max_length,
        return_tensors="pt",
    )
    assert ce.encode(short)["input_ids"].tolist() == plain["input_ids"].tolist()


@pytest.fixture(scope="module")
def real_client(tmp_path_factory, news_articles, embedder):
    from ranker.search import Searcher

    index = shipped.long_index(tmp_path_factory, news_articles, embedder)
    searcher = Searcher.open(index, embedder=embedder)
    app = create_app({"TESTING": True, "ENGINE": shipped.engine(searcher)})
    return app.test_client()


ODD_QUERIES = [PASTED, "石油价格" * 120, "?" * 495 + " oil", "\u200b" * 5 + "oil prices"]


@pytest.mark.parametrize("path", ["/api/search", "/"])
@pytest.mark.parametrize("query", ODD_QUERIES)
def test_search_with_real_reader_takes_long_and_odd_queries(real_client, path, query):
    response = real_client.get(path, query_string={"q": query})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    if path == "/api/search":
        data = response.get_json()
        assert data["results"] and "read" in data["timings_ms"]


@pytest.mark.parametrize("path", ["/api/search", "/"])
@pytest.mark.parametrize("query", ["?" * 500, "\u200b" * 5])
def test_a_query_with_no_word_is_refused_before_the_models(real_client, path, query):
    """Only punctuation or invisible characters: a 400 naming why, not results the
    embedder found near nothing (ranker.request.validate_request)."""
    response = real_client.get(path, query_string={"q": query})
    assert response.status_code == 400
    assert "no letter or digit" in response.get_data(as_text=True)


def test_the_pasted_paragraph_finds_the_long_article_and_reads_it(real_client):
    data = real_client.get("/api/search", query_string={"q": PASTED, "k": 3}).get_json()
    assert "long-oil" in [hit["id"] for hit in data["results"]]
    assert {"rerank", "read"} <= set(data["timings_ms"])


def test_head_apis_take_surrogates_and_offsets_point_into_the_text_as_sent(real_client):
    text = "\ud800 Angela Merkel visited Paris \udfff."
    body = json.dumps({"text": text})  # json escapes the surrogates: "\ud800"
    headers = {"Content-Type": "application/json"}
    tagged = real_client.post("/api/tag", data=body, headers=headers)
    assert tagged.status_code == 200
    entities = tagged.get_json()["entities"]
    assert {"type": "PER", "text": "Angela Merkel", "start": 2, "end": 15} in entities
    assert real_client.post("/api/classify", data=body, headers=headers).status_code == 200
    answer = {"question": "Who visited \udfff Paris?" + "?" * 450, "context": text}
    answered = real_client.post("/api/answer", data=json.dumps(answer), headers=headers)
    assert answered.status_code == 200
    for a in answered.get_json()["answers"]:
        assert replace_surrogates(text)[a["start"] : a["end"]] == a["text"]


def test_deeply_nested_json_and_too_many_filters_are_400(real_client):
    deep = "[" * 100_000 + "]" * 100_000
    response = real_client.post("/api/tag", data=deep, content_type="application/json")
    assert response.status_code == 400 and "nested" in response.get_json()["error"]
    many = [("q", "oil")] + [("entity", f"ORG=x{i}") for i in range(51)]
    response = real_client.get("/api/search", query_string=many)
    assert response.status_code == 400 and "at most 50" in response.get_json()["error"]
    huge = real_client.get("/api/search", query_string={"q": "oil", "k": "9" * 5000})
    assert huge.status_code == 400 and len(huge.get_json()["error"]) < 100
