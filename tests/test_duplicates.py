"""One entry per story (near-duplicates at index time, collapsed at search time), related
stories and the article page reached from a search.

The pure functions of ``indexer.duplicates`` are tested without a model; the rest builds
small indexes from the fixture news plus a few re-published copies made here (the
fixture file itself stays as other tests count it).
"""

from __future__ import annotations

import dataclasses
import re
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.article import Article
from indexer.build import build_index
from indexer.duplicates import (
    EMPTY,
    NUM_PERM,
    DuplicateGroups,
    commit_signatures,
    duplicate_groups,
    has_signature,
    lsh_bands,
    signature,
    signatures,
    similarity,
)
from indexer.reader import IndexReader
from indexer.segment import MINHASH
from indexer.writer import IndexWriter
from newsrank.config import HeadsConfig, IndexConfig, Settings
from ranker.collapse import collapse
from ranker.ranking import ArticleScore, Ranking
from ranker.related import nearest_articles
from ranker.request import SearchRequest
from ranker.search import Searcher
from tests.fakes import FakeReader
from web import create_app

THRESHOLD = IndexConfig().duplicate_threshold
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=9)


def recased(text: str) -> str:
    """The same words, other casing and punctuation (what a re-publisher changes)."""
    words = re.findall(r"\w+", text)
    return " -- ".join(w.upper() if i % 2 else w.capitalize() for i, w in enumerate(words)) + "!"


def copies(articles: list[Article]) -> list[Article]:
    """Re-published versions of two fixture stories: a wire copy of the oil story under a
    new headline and another source, a re-cased copy of it, and one of the mask story."""
    by_id = {a.id: a for a in articles}
    oil, mask = by_id["oil-1"], by_id["mask-1"]
    return [
        dataclasses.replace(oil, id="oil-1-wire", title="Crude slumps as virus hits fuel use",
                            source="Wire Copy"),
        dataclasses.replace(oil, id="oil-1-caps", title=oil.title.upper(), text=recased(oil.text),
                            source="Shouty Daily"),
        dataclasses.replace(mask, id="mask-1-copy", title="N95 makers speak out",
                            source="Wire Copy"),
    ]  # fmt: skip


# -- pure functions


def test_a_recased_repunctuated_copy_has_the_same_signature():
    text = "Brent crude fell below thirty dollars a barrel as airlines grounded fleets."
    assert similarity(signature(text), signature(recased(text))) == 1.0
    other = "The central bank cut interest rates to zero and promised to buy more bonds."
    assert similarity(signature(text), signature(other)) < 0.2


def test_short_and_empty_texts_have_no_signature_and_no_duplicates():
    sigs = np.stack([signature("-1"), signature("-1"), signature(""), signature("View Comments")])
    assert not has_signature(sigs).any()
    assert (duplicate_groups(sigs, THRESHOLD) == -1).all()
    assert similarity(signature("-1"), signature("-1")) == 0.0


def test_lsh_bands_catch_pairs_at_the_threshold():
    for threshold in (0.5, THRESHOLD, 0.8, 0.9):
        bands, rows = lsh_bands(threshold)
        assert bands * rows <= NUM_PERM
        assert 1 - (1 - threshold**rows) ** bands >= 0.99
    with pytest.raises(ValueError):
        lsh_bands(1.0)


def test_candidate_pairs_and_groups():
    a = signature("one two three four five six seven eight nine ten eleven twelve")
    b = signature("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu")
    sigs = np.stack([a, b, a, EMPTY, a])
    assert duplicate_groups(sigs, THRESHOLD).tolist() == [0, -1, 0, -1, 0]
    assert duplicate_groups(sigs, THRESHOLD, live=[True, True, False, True, True]).tolist() == [
        0, -1, -1, -1, 0,
    ]  # fmt: skip
    groups = DuplicateGroups.of(np.array([-1, 1, 1, -1]))
    assert groups.others(2) == [1] and groups.group(0) == [0] and groups.n_groups == 1


def reference_groups(sigs: np.ndarray, threshold: float, live=None) -> list[int]:
    """The groups by the book: every pair sharing an LSH band, checked, then connected
    components by a plain union-find (slow; small inputs only)."""
    n = len(sigs)
    ok = has_signature(sigs) if n else np.zeros(0, bool)
    if live is not None:
        ok &= np.asarray(live, bool)
    bands, rows = lsh_bands(threshold, sigs.shape[1])
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for i in range(n):
        for j in range(i + 1, n):
            if not (ok[i] and ok[j]):
                continue
            bands_equal = (sigs[i, : bands * rows] == sigs[j, : bands * rows]).reshape(bands, rows)
            if bands_equal.all(axis=1).any() and (sigs[i] == sigs[j]).mean() >= threshold:
                ri, rj = root(i), root(j)
                parent[max(ri, rj)] = min(ri, rj)
    labels = [root(i) for i in range(n)]
    return [g if labels.count(g) > 1 else -1 for g in labels]


def planted(draw_seed: int, n_stories: int, copies: list[int], noise: float) -> np.ndarray:
    """Random signatures: ``n_stories`` stories, story ``s`` with ``copies[s]`` copies,
    each position of a copy redrawn with probability ``noise``; rows shuffled."""
    rng = np.random.default_rng(draw_seed)
    base = rng.integers(0, 2**31, size=(n_stories, NUM_PERM)).astype(np.uint32)
    rows = np.repeat(base, copies, axis=0)
    flip = rng.random(rows.shape) < noise
    rows[flip] = rng.integers(0, 2**31, size=int(flip.sum())).astype(np.uint32)
    return rows[rng.permutation(len(rows))]


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 2**31),
    st.lists(st.integers(1, 7), min_size=1, max_size=8),
    st.sampled_from([0.0, 0.2, 0.35, 0.5]),
    st.sampled_from([0.5, 0.65, 0.8]),
    st.booleans(),
)
def test_property_groups_equal_the_pairwise_definition(seed, copies, noise, threshold, deletes):
    sigs = planted(seed, len(copies), copies, noise)
    if len(sigs) > 2:
        sigs[seed % len(sigs)] = EMPTY  # a row without a signature
    live = None
    if deletes:
        live = np.random.default_rng(seed + 1).random(len(sigs)) > 0.2
    assert duplicate_groups(sigs, threshold, live=live).tolist() == reference_groups(
        sigs, threshold, live
    )


def test_many_copies_of_one_story_cost_linear_memory_and_form_one_group():
    # 3,000 copies of one story (bigger than a bucket's pairwise check) and 2,000 others
    sigs = np.concatenate([planted(1, 1, [3000], 0.1), planted(2, 2000, [1] * 2000, 0.0)])
    labels = duplicate_groups(sigs, THRESHOLD)
    assert (labels[:3000] == 0).all() and (labels[3000:] == -1).all()


def test_a_segment_without_signatures_reads_as_no_duplicates():
    sigs = commit_signatures([None, signatures(["a b c d e f g h i j k"] * 2)], [3, 2])
    assert sigs.shape == (5, NUM_PERM)
    assert duplicate_groups(sigs, THRESHOLD).tolist() == [-1, -1, -1, 3, 3]


@settings(max_examples=40, deadline=None)
@given(st.lists(WORDS, min_size=12, max_size=60))
def test_property_a_text_and_its_recased_copy_land_in_one_group(words):
    text = " ".join(words)
    other = "completely unrelated report about rates markets bonds and the budget deficit today"
    labels = duplicate_groups(signatures([text, recased(text), other]), THRESHOLD)
    assert labels[0] == labels[1] == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(WORDS, min_size=15, max_size=40, unique=True), min_size=2, max_size=5))
def test_property_unrelated_random_texts_are_not_duplicates(texts):
    # texts with no word in common share no shingle
    seen: set[str] = set()
    unique = []
    for words in texts:
        words = [w for w in words if w not in seen]
        seen.update(words)
        if len(words) >= 12:
            unique.append(" ".join(words))
    assert (duplicate_groups(signatures(unique), THRESHOLD) == -1).all()


def test_collapse_keeps_the_best_ranked_and_lists_the_rest():
    groups = DuplicateGroups.of(np.array([2, -1, 2, -1, 2]))
    ranking = Ranking([ArticleScore(n, 1.0 - n / 10, n) for n in (4, 1, 0, 3, 2)])
    out = collapse(ranking, groups)
    assert [a.article for a in out.ranking.articles] == [4, 1, 3]
    assert out.duplicates == {4: [0, 2]}
    assert collapse(ranking, DuplicateGroups.none(5)).ranking is ranking


# -- index time: signatures in segments, groups per commit


@pytest.fixture(scope="module")
def dup_articles(news_articles):
    return list(news_articles) + copies(list(news_articles))


@pytest.fixture(scope="module")
def dup_index(tmp_path_factory, dup_articles, embedder):
    out = tmp_path_factory.mktemp("dups") / "index"
    build_index(dup_articles, out, embedder=embedder, progress=False)
    return out


@pytest.fixture(scope="module")
def dup_searcher(dup_index, embedder):
    return Searcher.open(dup_index, embedder=embedder, reader=FakeReader())


def id_groups(reader: IndexReader) -> set[frozenset[str]]:
    """The commit's duplicate groups as sets of article ids."""
    groups = reader.duplicates()
    return {frozenset(reader.store.ids(m).values()) for m in groups.members.values()}


OIL = frozenset({"oil-1", "oil-1-wire", "oil-1-caps"})
MASK = frozenset({"mask-1", "mask-1-copy"})


def test_signatures_are_written_with_each_segment(dup_index, dup_articles):
    reader = IndexReader.open(dup_index)
    (segment,) = reader.segments.values()
    assert segment.minhash is not None and segment.minhash.shape == (len(dup_articles), NUM_PERM)
    assert (dup_index / reader.manifest.segments[0].name / MINHASH).exists()
    assert id_groups(reader) == {OIL, MASK}
    assert reader.duplicate_seconds is not None


def test_groups_follow_adds_deletes_and_survive_a_merge(tmp_path, news_articles, embedder):
    out = tmp_path / "live"
    extra = copies(list(news_articles))
    build_index(news_articles[:15], out, embedder=embedder, progress=False)
    with IndexWriter(out, embedder=embedder) as writer:
        writer.add(news_articles[15:] + extra[:1])
        writer.commit()
    reader = IndexReader.open(out)
    assert id_groups(reader) == {frozenset({"oil-1", "oil-1-wire"})}
    with IndexWriter(out, embedder=embedder) as writer:
        writer.add(extra[1:])  # a newly added copy joins its story
        writer.commit()
    reader = reader.reopen()
    assert id_groups(reader) == {OIL, MASK}
    with IndexWriter(out, embedder=embedder) as writer:
        writer.merge(force=True)
        writer.commit()
    merged = reader.reopen()
    assert len(merged.segments) == 1 and id_groups(merged) == {OIL, MASK}
    with IndexWriter(out, embedder=embedder) as writer:
        writer.delete(["oil-1-caps", "mask-1"])
        writer.commit()
    after = merged.reopen()
    assert id_groups(after) == {frozenset({"oil-1", "oil-1-wire"})}  # deleted: in no group
    searcher = Searcher(after, embedder=embedder)
    hit = next(h for h in searcher.search(SearchRequest("oil coronavirus demand")).results
               if h.id.startswith("oil-1"))  # fmt: skip
    assert "oil-1-caps" not in hit.duplicates and len(hit.duplicates) == 1


def test_a_reopened_commit_answers_with_carried_groups_until_its_own_are_ready(
    tmp_path, news_articles, embedder
):
    out = tmp_path / "live"
    extra = copies(list(news_articles))
    build_index(list(news_articles) + extra[:2], out, embedder=embedder, progress=False)
    reader = IndexReader.open(out)
    before = id_groups(reader)
    assert frozenset({"oil-1", "oil-1-wire", "oil-1-caps"}) in before
    with IndexWriter(out, embedder=embedder) as writer:
        writer.add(extra[2:])  # the mask copy: joins its story once groups are computed
        writer.delete(["oil-1-caps"])
        writer.commit()
    after = reader.reopen()
    carried = after.duplicates(wait=False)  # not computed yet: the carried groups
    ids = {frozenset(after.store.ids(m).values()) for m in carried.members.values()}
    assert frozenset({"oil-1", "oil-1-wire"}) in ids  # the deleted copy left out
    assert not any("oil-1-caps" in g or "mask-1-copy" in g for g in ids)
    assert id_groups(after) == {frozenset({"oil-1", "oil-1-wire"}), MASK}  # computed
    assert after.duplicates(wait=False) is after.duplicates()


def test_a_warming_commit_collapses_nothing_until_its_groups_are_ready(dup_index, embedder):
    reader = IndexReader.open(dup_index)
    searcher = Searcher(reader, embedder=embedder)
    request = SearchRequest("oil coronavirus")
    with reader._lazy_lock:  # hold the computation back, as a slow one would be
        warming = reader.warm_duplicates()
        assert reader.duplicates(wait=False).n_groups == 0
        early = searcher.search(request)  # answered at once, copies not collapsed
        assert warming.is_alive() and reader.duplicate_seconds is None
    warming.join(timeout=30)
    assert reader.duplicates(wait=False) is reader.duplicates()
    assert MASK in id_groups(reader)
    late = searcher.search(request)
    assert all(not h.duplicates for h in early.results)
    assert any(h.duplicates for h in late.results)
    assert len(late.results) <= len(early.results)


def test_the_server_computes_the_groups_at_start(dup_index, monkeypatch):
    import web.engine as engine_module

    started = []
    original = IndexReader.warm_duplicates
    monkeypatch.setattr(
        IndexReader, "warm_duplicates", lambda self: started.append(self) or original(self)
    )
    no_heads = HeadsConfig(reranker=None, reader=None, tagger=None, topic=None)
    app = create_app(
        {"TESTING": True, "INDEX_DIR": str(dup_index), "SETTINGS": Settings(heads=no_heads)}
    )
    with app.app_context():
        engine = engine_module.get_engine()
    assert started and started[0] is engine.current().index
    response = app.test_client().get("/api/search?q=mask")
    assert response.status_code == 200


def test_an_index_without_signature_files_has_no_duplicates(tmp_path, dup_index, embedder):
    copy = tmp_path / "old"
    shutil.copytree(dup_index, copy)
    for path in copy.glob(f"seg-*/{MINHASH}"):
        path.unlink()
    reader = IndexReader.open(copy)
    assert reader.duplicates().n_groups == 0
    response = Searcher(reader, embedder=embedder).search(SearchRequest("oil coronavirus"))
    assert all(not h.duplicates for h in response.results)


# -- search time: collapse on and off


def test_collapse_on_by_default_and_off_with_collapse_false(dup_searcher):
    query = "oil producers coronavirus fuel demand"
    on = dup_searcher.search(SearchRequest(query, k=50))
    off = dup_searcher.search(SearchRequest(query, k=50, collapse=False))
    on_ids = [h.id for h in on.results]
    off_ids = [h.id for h in off.results]
    assert len(set(on_ids) & OIL) == 1
    kept = next(h for h in on.results if h.id in OIL)
    assert set(kept.duplicates) == OIL - {kept.id}
    assert kept.id == next(i for i in off_ids if i in OIL)  # the best-ranked version
    assert OIL <= set(off_ids) and all(not h.duplicates for h in off.results)
    assert off.total - on.total == len(set(off_ids) & OIL) - 1 + len(set(off_ids) & MASK) - (
        1 if set(off_ids) & MASK else 0
    )
    assert sum(on.facets["source"].values()) == on.total  # facets count stories


@pytest.fixture()
def dup_client(dup_index, dup_searcher):
    app = create_app({"TESTING": True, "INDEX_DIR": str(dup_index), "SEARCHER": dup_searcher})
    return app.test_client()


def test_collapse_through_the_api(dup_client):
    on = dup_client.get("/api/search?q=oil+producers+coronavirus+fuel+demand&k=50").get_json()
    off = dup_client.get("/api/search?q=oil+producers+coronavirus+fuel+demand&k=50"
                         "&collapse=false").get_json()  # fmt: skip
    hit = next(h for h in on["results"] if h["id"] in OIL)
    assert len(hit["duplicates"]) == 2 and set(hit["duplicates"]) | {hit["id"]} == OIL
    assert OIL <= {h["id"] for h in off["results"]}
    assert all(h["duplicates"] == [] for h in off["results"])
    bad = dup_client.get("/api/search?q=oil&collapse=perhaps")
    assert bad.status_code == 400 and "collapse" in bad.get_json()["error"]


def test_the_page_shows_more_versions_and_links_carry_the_query(dup_client):
    html = dup_client.get("/?q=oil+producers+coronavirus+fuel+demand").get_data(as_text=True)
    assert "2 more versions" in html
    assert "/article/oil-1-wire?q=" in html or "/article/oil-1?q=" in html
    assert "Crude slumps as virus hits fuel use" in html or "Wire Copy" in html
    plain = dup_client.get("/?q=oil+producers+coronavirus&collapse=false").get_data(as_text=True)
    assert "more versions" not in plain


# -- related stories


def test_related_stories_exclude_itself_duplicates_and_deleted(dup_client, dup_searcher):
    data = dup_client.get("/api/articles/oil-1").get_json()
    related = [r["id"] for r in data["related"]]
    assert len(related) >= 5
    assert not set(related) & OIL
    assert set(data["duplicates"]) == OIL - {"oil-1"}
    assert all(set(r) == {"id", "title", "source", "date", "score"} for r in data["related"])
    scores = [r["score"] for r in data["related"]]
    assert scores == sorted(scores, reverse=True)
    assert len([r for r in related if r in MASK]) <= 1  # one entry per story here too
    html = dup_client.get("/article/oil-1").get_data(as_text=True)
    assert "Related stories" in html and "2 more versions of this story" in html


def test_related_stories_never_list_a_deleted_article(tmp_path, dup_articles, embedder):
    out = tmp_path / "rel"
    build_index(dup_articles, out, embedder=embedder, progress=False)
    reader = IndexReader.open(out)
    num = reader.store.num_of("oil-2")
    first = [reader.store.ids([n])[n] for n, _ in nearest_articles(reader, num, 6)]
    with IndexWriter(out, embedder=embedder) as writer:
        writer.delete(first[:2])
        writer.commit()
    after = reader.reopen()
    num = after.store.num_of(reader.store.ids([num])[num])
    now = [after.store.ids([n])[n] for n, _ in nearest_articles(after, num, 6)]
    assert len(now) >= 5 and not set(now) & set(first[:2])


# -- the article page reached from a search


def test_the_article_page_marks_the_query_and_shows_the_answer(dup_client):
    html = dup_client.get("/article/mask-1?q=who+are+the+mask+makers").get_data(as_text=True)
    assert "<mark>makers</mark>" in html or "<mark>Makers</mark>" in html
    assert 'class="answer-box"' in html and "mask makers" in html
    data = dup_client.get("/api/articles/mask-1?q=mask+makers").get_json()
    assert data["query"] == "mask makers" and data["answer"]["text"] == "mask makers"
    text = data["text"]
    marked = {text[a:b].lower() for a, b in data["highlights"]["text"]}
    assert marked <= {"mask", "masks", "makers"}  # by stem, as snippets mark them
    assert data["highlights"]["text"]
    plain = dup_client.get("/api/articles/mask-1").get_json()
    assert plain["answer"] is None and plain["highlights"] == {"title": [], "text": []}
    hostile = dup_client.get("/article/mask-1?q=<script>alert(1)</script>+mask")
    assert "<script>alert" not in hostile.get_data(as_text=True)


def test_the_cli_turns_collapse_off_with_no_collapse():
    import argparse

    from ranker.cli import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    assert parser.parse_args(["search", "oil", "--index", "x", "--no-collapse"]).no_collapse
    assert not parser.parse_args(["search", "oil", "--index", "x"]).no_collapse
