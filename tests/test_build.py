import json

import pytest

from indexer.article import Article
from indexer.build import build_index, restore_interrupted
from indexer.manifest import aside_path, read_manifest
from indexer.reader import IndexReader
from indexer.store import ArticleStore
from newsrank.config import IndexConfig
from newsrank.errors import IndexNotFoundError, NewsrankError


def test_index_directory_has_manifest_and_files(index_dir, news_articles, embedder):
    manifest = read_manifest(index_dir)
    assert manifest.embedder_dtype == embedder.precision  # the vectors' arithmetic
    assert manifest.articles == len(news_articles) == 25
    assert manifest.passages >= 25 and manifest.embedding_dim == 384
    assert manifest.dense_kind == "flat" and manifest.format_version == 1
    assert manifest.settings["passage_words"] == 200
    assert {p.name for p in index_dir.iterdir()} == {
        "manifest.json",
        "store.sqlite",
        "bm25",
        "dense.faiss",
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
    store = ArticleStore(out / "store.sqlite")
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
    with pytest.raises(RuntimeError, match="power cut"):
        build_index([Article("b", "Second", "two")], out, embedder=Exploding(), progress=False)
    assert (out / "manifest.json").read_text() == before
    # no temporary leftovers (the lock file stays: an empty file the OS unlocks on exit)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".idx.lock", "idx"]


def test_rebuild_replaces_and_interrupted_swap_is_restored(tmp_path, embedder):
    out = tmp_path / "idx"
    build_index([Article("a", "First", "one")], out, embedder=embedder, progress=False)
    build_index(
        [Article("b", "Second", "two"), Article("c", "Third", "3")],
        out,
        embedder=embedder,
        progress=False,
    )
    assert read_manifest(out).articles == 2
    out.rename(aside_path(out))  # a crash between the swap's two renames
    restore_interrupted(out)
    assert read_manifest(out).articles == 2


def test_a_reader_never_renames_it_reads_the_set_aside_copy(tmp_path, embedder):
    out = tmp_path / "idx"
    build_index([Article("a", "First", "one two")], out, embedder=embedder, progress=False)
    out.rename(aside_path(out))  # a build killed between its two renames
    reader = IndexReader.open(out)
    assert reader.recovered_from == aside_path(out) and reader.manifest.articles == 1
    assert not out.exists() and aside_path(out).is_dir()  # nothing moved
    # the next writer restores the old copy, then swaps its new index in
    build_index([Article("b", "Second", "three")], out, embedder=embedder, progress=False)
    assert read_manifest(out).articles == 1 and not aside_path(out).exists()
    assert IndexReader.open(out).recovered_from is None


def test_manifest_errors_name_the_fix(tmp_path):
    with pytest.raises(IndexNotFoundError, match="newsrank index build"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(IndexNotFoundError, match="unreadable|rebuild"):
        read_manifest(tmp_path)


def test_empty_input_is_an_error(tmp_path):
    with pytest.raises(NewsrankError, match="no articles"):
        build_index([], tmp_path / "idx", IndexConfig())


def test_store_without_label_tables_reads_as_unlabelled(tmp_path):
    import sqlite3

    from indexer.store import write_store

    path = tmp_path / "store.sqlite"
    write_store(path, [Article("a", "T", "one two", source="X")], [[(0, 7)]])
    with sqlite3.connect(path) as conn:  # a store written before enrichment existed
        conn.execute("DROP TABLE topics")
        conn.execute("DROP TABLE entities")
    store = ArticleStore(path)
    assert not store.has_labels
    assert store.labels([0])[0].topic is None
    facets = store.facet_counts([0])
    assert facets == {"topic": {}, "source": {"X": 1}, "entity": {}, "entity_labels": {}}
    assert not store.article_mask(topics=("World",)).any()
