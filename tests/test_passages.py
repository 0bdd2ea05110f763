import pytest

from indexer.passages import retrieval_text, split_passages


def test_windows_overlap_and_cover_the_text():
    words = [f"w{i}" for i in range(450)]
    text = " ".join(words)
    windows = split_passages(text, words=200, overlap=50)
    chunks = [text[s:e].split() for s, e in windows]
    assert [len(c) for c in chunks] == [200, 200, 150]
    assert chunks[0][-50:] == chunks[1][:50]
    assert chunks[-1][-1] == "w449"


def test_short_and_empty_texts_make_one_passage():
    assert split_passages("just a few words") == [(0, 16)]
    assert split_passages("   ") == [(0, 0)]


def test_offsets_point_into_the_original_text():
    text = "  Alpha  beta\n\ngamma delta  "
    (start, end), *_ = split_passages(text, words=20, overlap=5)
    assert text[start:end] == "Alpha  beta\n\ngamma delta"


def test_bad_overlap_raises():
    with pytest.raises(ValueError, match="overlap"):
        split_passages("a b c", words=10, overlap=10)


def test_title_counts_in_every_passage():
    assert retrieval_text("Title", "body") == "Title\nbody"
    assert retrieval_text("Title", "") == "Title"


def test_the_writer_embeds_exactly_the_passages_passage_texts_gives(tmp_path, news_articles):
    """A Ray build embeds ``passage_texts`` on the cluster and hands the writer the
    vectors (``PrecomputedEmbedder``, which refuses any other text): a build from them
    succeeds without a model, and every passage the index stores is one of them."""
    import numpy as np

    from indexer.build import build_index
    from indexer.distributed import PrecomputedEmbedder
    from indexer.passages import passage_texts
    from indexer.reader import IndexReader
    from newsrank.config import IndexConfig

    config = IndexConfig(passage_words=20, passage_overlap=5)  # several passages an article
    texts = passage_texts(news_articles, config)
    rng = np.random.default_rng(0)
    vectors = {t: rng.standard_normal(8).astype(np.float32) for t in texts}
    embedder = PrecomputedEmbedder(vectors, config.embedder, "fp32")
    build_index(news_articles, tmp_path / "idx", config, embedder=embedder, progress=False)
    reader = IndexReader.open(tmp_path / "idx")
    assert len(reader.bm25) == len(texts) > len(news_articles)
