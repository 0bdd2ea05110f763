import numpy as np
import pytest

from indexer.dense import DenseIndex, choose_kind


def _vectors(n=300, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, dim)).astype("float32")
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_flat_search_is_exact_inner_product():
    vectors = _vectors()
    index = DenseIndex(kind="flat")
    index.index(vectors)
    query = vectors[7] + 0.01
    hits = index.search(query, k=5)
    expected = np.argsort(-(vectors @ query))[:5]
    assert hits.ids.tolist() == expected.tolist()
    np.testing.assert_allclose(hits.scores, (vectors @ query)[expected], rtol=1e-5)


def test_hnsw_finds_the_same_neighbours_on_a_small_set():
    vectors = _vectors()
    flat, hnsw = DenseIndex(kind="flat"), DenseIndex(kind="hnsw")
    flat.index(vectors)
    hnsw.index(vectors)
    for i in range(0, 300, 37):
        assert (
            hnsw.search(vectors[i], k=10).ids.tolist() == flat.search(vectors[i], k=10).ids.tolist()
        )


@pytest.mark.parametrize("kind", ["flat", "hnsw", "hnsw-fp16"])
def test_mask_restricts_results(kind):
    vectors = _vectors()
    index = DenseIndex(kind=kind)
    index.index(vectors)
    mask = np.zeros(len(vectors), dtype=bool)
    mask[[3, 50, 299]] = True
    hits = index.search(vectors[0], k=10, mask=mask)
    assert sorted(hits.ids.tolist()) == [3, 50, 299]


@pytest.mark.parametrize("kind", ["flat", "hnsw", "hnsw-fp16"])
def test_save_load_round_trip(kind, tmp_path):
    vectors = _vectors()
    index = DenseIndex(kind=kind)
    index.index(vectors)
    index.save(tmp_path / "d.faiss")
    loaded = DenseIndex.load(tmp_path / "d.faiss")
    assert loaded.kind == kind and len(loaded) == 300
    assert loaded.search(vectors[5], k=3).ids.tolist() == index.search(vectors[5], k=3).ids.tolist()


def test_float16_hnsw_keeps_neighbours_and_scores_in_half_the_memory(tmp_path):
    vectors = _vectors(n=2000, dim=64)
    flat, half, full = DenseIndex("flat"), DenseIndex("hnsw-fp16"), DenseIndex("hnsw")
    for index in (flat, half, full):
        index.index(vectors)
    agree = 0
    for i in range(0, 2000, 50):
        exact = flat.search(vectors[i] + 0.05, k=10)
        found = half.search(vectors[i] + 0.05, k=10)
        agree += len(set(exact.ids.tolist()) & set(found.ids.tolist()))
        common = [j for j, x in enumerate(found.ids) if x in exact.ids]
        by_id = dict(zip(exact.ids.tolist(), exact.scores.tolist()))
        for j in common:  # float16 codes: scores within 1e-3 of the exact ones
            assert abs(found.scores[j] - by_id[int(found.ids[j])]) < 1e-3
    assert agree / (40 * 10) >= 0.95
    np.testing.assert_allclose(half.vectors(), vectors, atol=1e-3)
    half.save(tmp_path / "half.faiss")
    full.save(tmp_path / "full.faiss")
    saved = (tmp_path / "half.faiss").stat().st_size, (tmp_path / "full.faiss").stat().st_size
    vector_bytes = vectors.size * 4
    assert saved[1] - saved[0] >= 0.45 * vector_bytes  # the codes are half the floats


def test_kind_choice_and_errors():
    assert choose_kind("auto", 10, 100) == "flat"
    assert choose_kind("auto", 100, 100) == "hnsw"
    assert choose_kind("flat", 10**7, 100) == "flat"
    assert choose_kind("hnsw-fp16", 10, 100) == "hnsw-fp16"  # never chosen by auto
    with pytest.raises(ValueError, match="'ivf'"):
        choose_kind("ivf", 1, 1)
    with pytest.raises(ValueError, match="hnsw-fp16"):
        DenseIndex("hnsw16")


def test_embedder_gives_unit_vectors_and_sensible_similarity(embedder):
    v = embedder.encode(["oil prices fall", "crude oil gets cheaper", "football match results"])
    assert v.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]


def test_bfloat16_embeddings_match_float32_ones(news_articles):
    from indexer.dense import Embedder
    from newsrank.config import IndexConfig

    texts = [f"{a.title}\n{a.text}" for a in news_articles[:16]]
    fp32 = Embedder(IndexConfig().embedder, precision="fp32")
    bf16 = Embedder(IndexConfig().embedder, precision="bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    a, b = fp32.encode(texts), bf16.encode(texts)
    assert a.dtype == b.dtype == np.float32
    cosines = (a * b).sum(axis=1)
    assert cosines.min() > 0.999  # measured: 0.99997 on 384 demo passages
    assert not np.array_equal(a, b)  # bf16 really ran
    # neighbourhoods agree within tolerances that hold on any CPU's bfloat16 kernels (an
    # AMD EPYC without AMX reorders near-ties that an Intel Xeon with AMX keeps)
    sim_a, sim_b = a @ a.T, b @ b.T
    np.fill_diagonal(sim_a, -1.0)
    np.fill_diagonal(sim_b, -1.0)
    assert np.abs(sim_a - sim_b).max() < 0.01
    nearest = sim_a.argmax(axis=1)
    top3_b = np.argsort(-sim_b, axis=1)[:, :3]
    assert all(nearest[i] in top3_b[i] for i in range(len(texts)))
    assert np.mean([spearman(sim_a[i], sim_b[i]) for i in range(len(texts))]) > 0.98
    # below min_bf16_batch texts (a query), or for queries, the arithmetic stays float32
    assert len(texts) == bf16.min_bf16_batch
    np.testing.assert_array_equal(fp32.encode(texts[:1]), bf16.encode(texts[:1]))
    np.testing.assert_allclose(fp32.encode(texts), bf16.encode(texts, queries=True), atol=1e-5)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation of two score vectors (no ties expected)."""
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


@pytest.mark.parametrize("bad", ["half", "FP32", ""])
def test_precision_settings_name_the_choices(bad):
    from newsrank.config import HeadsConfig, IndexConfig

    for make in (lambda: IndexConfig(embed_precision=bad), lambda: HeadsConfig(precision=bad)):
        with pytest.raises(ValueError, match="choose 'auto', 'fp32' or 'bf16'"):
            make()


def test_an_index_built_with_float16_vectors_searches_adds_and_merges(
    tmp_path, news_articles, embedder
):
    from indexer.build import build_index
    from indexer.reader import IndexReader
    from indexer.writer import IndexWriter
    from newsrank.config import IndexConfig
    from ranker.request import SearchRequest
    from ranker.search import Searcher

    half, exact = tmp_path / "half", tmp_path / "exact"
    build_index(news_articles[:20], half, IndexConfig(dense_kind="hnsw-fp16"), embedder=embedder)
    build_index(news_articles[:20], exact, IndexConfig(dense_kind="flat"), embedder=embedder)
    with IndexWriter(half, embedder=embedder) as writer:  # the index's own settings
        writer.add(news_articles[20:])
        writer.commit()
        writer.merge(force=True)
    reader = IndexReader.open(half)
    assert reader.manifest.dense_kind == "hnsw-fp16" and len(reader.manifest.segments) == 1
    assert [p.kind for p in reader.dense.parts] == ["hnsw-fp16"]
    build_index(news_articles, exact, IndexConfig(dense_kind="flat"), embedder=embedder)
    other = IndexReader.open(exact)
    for query in ("oil prices coronavirus", "election results", "football"):
        vector = embedder.encode([query], queries=True)[0]

        def top(index, vector=vector):
            hits = index.dense.search(vector, 5)
            nums = [int(index.store.passage_article[p]) for p in hits.ids]
            return list(index.store.ids(nums).values())[:3], hits.scores[:3]

        (ids_a, scores_a), (ids_b, scores_b) = top(reader), top(other)
        assert ids_a == ids_b, query
        np.testing.assert_allclose(scores_a, scores_b, atol=1e-3)
    response = Searcher(reader, embedder=embedder).search(SearchRequest("oil prices"))
    assert response.results
