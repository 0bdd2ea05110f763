"""The shipped heads in models/ load offline and behave on worked examples.

These are the heads the search engine loads by default; each is skipped only if its
directory is missing (a checkout without the trained weights).
"""

from pathlib import Path

import pytest

from heads.registry import resolve_head

CHAPTER_CONTEXT = (
    "Some experts report that a mask's efficacy is inconclusive. However, mask makers "
    "insist that their products, such as N95 respirator masks, can guard against the virus."
)


def shipped(name: str) -> str:
    if not Path(resolve_head(name)).is_dir():
        pytest.skip(f"models/{name} is not in this checkout (make models)")
    return name


def test_reader_answers_the_chapter_example():
    from heads.reader import Reader

    reader = Reader(shipped("reader"))
    question = "Who say that N95 respirator masks can guard against the virus?"
    best = reader.answer(question, [CHAPTER_CONTEXT])[0]
    assert best.text == "mask makers"
    assert CHAPTER_CONTEXT[best.start : best.end] == "mask makers" and best.score > 0.5


def test_tagger_finds_people_places_organisations():
    from heads.tagger import EntityTagger

    text = "OPEC and Russia agreed to cut oil production, Angela Merkel said in Berlin."
    found = {(e.type, e.text) for e in EntityTagger(shipped("tagger")).tag([text])[0]}
    assert {("LOC", "Russia"), ("PER", "Angela Merkel"), ("LOC", "Berlin")} <= found


@pytest.mark.parametrize(
    "name,text,label",
    [
        ("topic-agnews", "Liverpool beat Chelsea to win the Premier League title", "Sports"),
        ("topic-bbc", "Liverpool beat Chelsea to win the Premier League title", "sports"),
        ("topic-agnews", "Oil prices fell as OPEC failed to agree on production cuts", "Business"),
    ],
)
def test_topic_heads(name, text, label):
    from heads.classifier import TextClassifier

    assert TextClassifier(shipped(name)).predict([text])[0][0].label == label


def test_reranker_prefers_the_relevant_passage():
    from heads.cross_encoder import CrossEncoder

    model = CrossEncoder(shipped("reranker"))
    ranked = model.rank(
        "who insists N95 masks guard against the virus",
        ["Liverpool won the league title after thirty years.", CHAPTER_CONTEXT],
    )
    assert ranked[0].index == 1


def test_loading_is_quiet_and_leaves_transformers_settings_alone(capfd):
    from transformers.utils import logging as hf_logging

    from heads.classifier import TextClassifier

    before = (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled())
    TextClassifier(shipped("topic-bbc"))
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "MISSING" not in err, err
    assert (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()) == before
