from ranker.snippet import make_snippet, term_spans
from web.pages import highlight


def test_terms_match_by_stem():
    text = "Prices rose; the price of oil was priced higher."
    spans = term_spans(text, {"price"})
    assert [text[a:b] for a, b in spans] == ["Prices", "price", "priced"]


def test_long_passage_window_holds_the_terms_and_is_marked():
    text = ("filler " * 100) + "the oil industry suffered during the outbreak " + ("tail " * 100)
    snip = make_snippet(text, {"oil", "outbreak"}, max_chars=120)
    assert len(snip.text) <= 122 and snip.text.startswith("…") and snip.text.endswith("…")
    assert [snip.text[a:b] for a, b in snip.highlights] == ["oil", "outbreak"]


def test_short_text_is_kept_whole():
    snip = make_snippet("Oil falls.", {"oil"}, max_chars=100)
    assert snip.text == "Oil falls." and snip.highlights == [(0, 3)]


def test_highlight_escapes_everything_but_the_marks():
    html = str(highlight('<script>alert("x")</script> oil', [(28, 31)]))
    assert html == "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; <mark>oil</mark>"
