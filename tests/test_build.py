"""``build_index``: a writer that replaces the whole index in one commit."""

import json

import pytest

from indexer.article import Article
from indexer.build import build_index
from indexer.manifest import read_manifest
from indexer.reader import IndexReader
from newsrank.config import IndexConfig
from newsrank.errors import IndexNotFoundError, NewsrankError


def test_index_directory_has_a_commit_and_one_segment(index_dir, news_articles, embedder):
    manifest = read_manifest(index_dir)
    assert manifest.embedder_dtype == embedder.precision  # the vectors' arithmetic
    assert manifest.articles == len(news_articles) == 25
    assert manifest.passages >= 25 and manifest.embedding_dim == 384
    assert manifest.dense_kind == "flat" and manifest.format_version == 2
    assert manifest.settings["passage_words"] == 200
    assert manifest.generation == 1 and manifest.progress == {}
    [segment] = manifest.segments
    assert (segment.articles, segment.deleted) == (25, 0)
    names = {p.name for p in index_dir.iterdir()} - {"fulltext-entities.sqlite"}
    assert names == {"manifest.json", segment.name}
    assert {p.name for p in (index_dir / segment.name).iterdir()} == {
        "store.sqlite",
        "lexical",
        "dense.faiss",
        "minhash.npy",
        "segment.json",
    }


def test_long_article_is_split_and_mapped_back(tmp_path, embedder):
    text = " ".join(f"word{i}" for i in range(500))
    out = tmp_path / "idx"
    build_index(
        [Article("long", "Long one", text), Article("short", "Short", "tiny")],
        out,
        embedder=embedder,
        progress=False,
    )
    store = IndexReader.open(out).store
    assert store.passage_article.tolist() == [0, 0, 0, 1]
    assert store.passage_text(1).startswith("word150 ")
    assert store.passage_text(3) == "tiny"


class Exploding:
    dim = 384

    def encode(self, texts, show_progress=False):
        raise RuntimeError("power cut")


def test_failed_rebuild_keeps_the_old_index(tmp_path, embedder):
    out = tmp_path / "idx"
    build_index([Article("a", "First", "one")], out, embedder=embedder, progress=False)
    before = (out / "manifest.json").read_text()
    segments = sorted(p.name for p in out.iterdir())
    with pytest.raises(RuntimeError, match="power cut"):
        build_index([Article("b", "Second", "two")], out, embedder=Exploding(), progress=False)
    assert (out / "manifest.json").read_text() == before
    # nothing left behind (the lock file stays: an empty file the OS unlocks on exit)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".idx.lock", "idx"]
    assert sorted(p.name for p in out.iterdir()) == segments


def test_rebuild_replaces_everything_in_one_commit(tmp_path, embedder):
    out = tmp_path / "idx"
    build_index([Article("a", "First", "one")], out, embedder=embedder, progress=False)
    first = read_manifest(out).segments[0].name
    build_index(
        [Article("b", "Second", "two"), Article("c", "Third", "3")],
        out,
        embedder=embedder,
        progress=False,
    )
    manifest = read_manifest(out)
    assert manifest.articles == 2 and manifest.generation == 2
    assert [s.name for s in manifest.segments] != [first]
    assert first in manifest.retired  # kept for readers still on the old commit
    store = IndexReader.open(out).store
    assert store.num_of("a") is None and store.num_of("b") is not None


def test_progressive_build_commits_each_segment(tmp_path, embedder):
    out = tmp_path / "idx"
    articles = [Article(f"a{i}", f"Title {i}", f"text number {i}") for i in range(5)]
    seen = []
    build_index(
        articles,
        out,
        embedder=embedder,
        progress=False,
        segment_articles=2,
        commit_every=True,
        on_commit=lambda m: seen.append((m.articles, m.progress)),
    )
    assert seen == [
        (2, {"done": 2, "total": 5}),
        (4, {"done": 4, "total": 5}),
        (5, {}),
    ]
    assert IndexReader.open(out).store.n_live == 5


def test_manifest_errors_name_the_fix(tmp_path):
    with pytest.raises(IndexNotFoundError, match="newsrank index build"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(IndexNotFoundError, match="unreadable|rebuild"):
        read_manifest(tmp_path)


def test_an_old_format_index_must_be_rebuilt_and_a_build_replaces_it(tmp_path, embedder):
    out = tmp_path / "idx"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"format_version": 1}))
    (out / "store.sqlite").write_text("old")
    (out / "bm25").mkdir()
    with pytest.raises(IndexNotFoundError, match="format 1.*newsrank index build"):
        IndexReader.open(out)
    build_index([Article("a", "First", "one")], out, embedder=embedder, progress=False)
    assert not (out / "store.sqlite").exists() and not (out / "bm25").exists()
    assert IndexReader.open(out).store.n_live == 1


def test_empty_input_is_an_error(tmp_path):
    with pytest.raises(NewsrankError, match="no articles"):
        build_index([], tmp_path / "idx", IndexConfig())
