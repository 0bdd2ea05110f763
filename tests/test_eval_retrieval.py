"""Retrieval evaluation on tiny fixtures, checked against hand-computed metrics.

``tests/fixtures/beir_tiny``: 8 documents, 4 queries (3 judged). BM25 finds only the
documents holding the query word:

- q1 "volcano": [d3]; relevant d3 -> nDCG@10 1, RR 1, recall 1, AP 1
- q2 "glacier": [d4]; relevant d4, d7 -> nDCG@10 1 / (1 + 1/log2 3), RR 1, recall 1/2, AP 1/2
- q3 "submarine": [d2 (twice), d5]; relevant d5 -> nDCG@10 1/log2 3, RR 1/2, recall 1, AP 1/2
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from corpora.beir import read_beir
from evaluation import eval_index, knownitem, options, pair_scoring, retrieval, scoring
from indexer.article import Article
from indexer.demo import is_heldout
from newsrank.errors import NewsrankError

L3 = math.log2(3)
BM25_EXPECTED = {
    "ndcg@10": (1 + 1 / (1 + 1 / L3) + 1 / L3) / 3,
    "mrr@10": (1 + 1 + 0.5) / 3,
    "recall@100": (1 + 0.5 + 1) / 3,
    "map": (1 + 0.5 + 0.5) / 3,
}
ORACLE = {"volcano": ("erupted",), "glacier": ("glacier", "sea levels"), "submarine": ("cable",)}


class OracleScorer:
    """A fake cross-encoder: 1 for passages holding the query's relevant words, else 0."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, pairs):
        self.calls += 1
        return np.array([float(any(w in p.lower() for w in ORACLE.get(q, ()))) for q, p in pairs])


@pytest.fixture(scope="module")
def tiny(fixtures):
    return fixtures / "beir_tiny"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("eval-cache")


def test_bm25_metrics_match_hand_computed(tiny, cache, embedder, tmp_path):
    r = retrieval.evaluate_collection(
        tiny, ["bm25"], cache=cache, embedder=embedder, progress=False, out=tmp_path
    )
    assert r.n_queries == 3 and r.n_docs == 8
    for metric, value in BM25_EXPECTED.items():
        assert r.stages["bm25"][metric] == pytest.approx(value, abs=1e-4), metric
    run = (tmp_path / "run.bm25.trec").read_text().splitlines()
    assert run[0].split()[:4] == ["q1", "Q0", "d3", "1"]
    assert [ln.split()[2] for ln in run if ln.startswith("q3")] == ["d2", "d5"]
    assert json.loads((tmp_path / "results.json").read_text())["collection"] == "beir_tiny"


def test_index_cache_is_reused(tiny, cache, embedder):
    _, first = eval_index.ensure_index(tiny, cache, embedder=embedder, progress=False)
    created = (first / "manifest.json").stat().st_mtime_ns
    _, second = eval_index.ensure_index(tiny, cache, embedder=embedder, progress=False)
    assert first == second and (second / "manifest.json").stat().st_mtime_ns == created


def test_a_second_folder_with_the_same_corpus_reuses_the_index(tiny, cache, embedder, tmp_path):
    _, first = eval_index.ensure_index(tiny, cache, embedder=embedder, progress=False)
    twin = tmp_path / "tiny-other-queries"
    (twin / "qrels").mkdir(parents=True)
    (twin / "corpus.jsonl").write_text((tiny / "corpus.jsonl").read_text())
    (twin / "queries.jsonl").write_text((tiny / "queries.jsonl").read_text())
    (twin / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td3\t1\n")
    collection, second = eval_index.ensure_index(twin, cache, embedder=embedder, progress=False)
    assert second == first and collection.name == "tiny-other-queries"
    assert list(collection.qrels) == ["q1"]
    (twin / "corpus.jsonl").write_text((tiny / "corpus.jsonl").read_text() + "\n")
    _, third = eval_index.ensure_index(twin, cache, embedder=embedder, progress=False)
    assert third != first and third.name.startswith("tiny-other-queries-")


def test_open_eval_set_chooses_the_judged_queries(tiny, cache, embedder, tmp_path):
    _, index_dir = eval_index.ensure_index(tiny, cache, embedder=embedder, progress=False)
    opened = eval_index.open_eval_set(tiny, cache, embedder=embedder, progress=False)
    assert opened.index_dir == index_dir and opened.embedder is embedder
    assert opened.judged == ["q1", "q2", "q3"]  # q4 has no judgment
    first = eval_index.open_eval_set(tiny, cache, embedder=embedder, max_queries=2, progress=False)
    assert first.judged == ["q1", "q2"]
    unjudged = tmp_path / "unjudged"
    (unjudged / "qrels").mkdir(parents=True)
    for name in ("corpus.jsonl", "queries.jsonl"):
        (unjudged / name).write_text((tiny / name).read_text())
    (unjudged / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n")
    with pytest.raises(NewsrankError, match="no query has a relevant document"):
        eval_index.open_eval_set(unjudged, cache, embedder=embedder, progress=False)


def test_halves_split_the_judged_queries_in_two(tiny, cache, embedder):
    from corpora.splits import half_of

    every = eval_index.open_eval_set(tiny, cache, embedder=embedder, progress=False).judged
    halves = {
        h: eval_index.open_eval_set(tiny, cache, embedder=embedder, half=h, progress=False).judged
        for h in ("dev", "test")
    }
    assert sorted(halves["dev"] + halves["test"]) == sorted(every)
    assert all(half_of(q) == h for h, qs in halves.items() for q in qs)
    with pytest.raises(NewsrankError, match="half='train': choose one of dev, test"):
        eval_index.open_eval_set(tiny, cache, embedder=embedder, half="train", progress=False)


def test_measure_hand_made_runs():
    qrels = {"a": {"x": 1}, "b": {"y": 1, "z": 1}}
    runs = {"r": {"a": {"w": 2.0, "x": 1.0}, "b": {"y": 3.0, "v": 2.0, "z": 1.0}}}
    m = scoring.measure(qrels, runs)["r"]
    ndcg_b = (1 + 1 / 2) / (1 + 1 / L3)  # relevant at ranks 1 and 3
    assert m["ndcg@10"] == pytest.approx(((1 / L3) + ndcg_b) / 2, abs=1e-4)
    assert m["mrr@10"] == pytest.approx((0.5 + 1) / 2, abs=1e-4)
    assert m["map"] == pytest.approx((0.5 + (1 + 2 / 3) / 2) / 2, abs=1e-4)
    assert m["recall@100"] == 1.0


def test_rerank_with_injected_scorer(tiny, cache, embedder):
    scorer = OracleScorer()
    r = retrieval.evaluate_collection(
        tiny,
        ["bm25", "hybrid", "rerank"],
        cache=cache,
        embedder=embedder,
        progress=False,
        reranker=scorer,
        rerank_mix=(1, 0, 0, 0),  # the oracle alone: a perfect ranking
    )
    assert scorer.calls == 3
    assert r.stages["rerank"] == {"ndcg@10": 1.0, "mrr@10": 1.0, "recall@100": 1.0, "map": 1.0}
    assert set(r.p_values) == {"hybrid", "rerank"}
    assert set(r.p_rerank_vs_hybrid) == {"ndcg@10", "mrr@10", "recall@100", "map"}
    assert r.rerank_vs_best["stage"] in ("bm25", "hybrid") and r.rerank_vs_best["delta"] >= 0
    assert [c["depth"] for c in r.rerank_curve] == [10, 30, 50, 100]
    assert all(c["ndcg@10"] == 1.0 for c in r.rerank_curve)


def test_rerank_mix_and_weight_sweep(tiny, cache, embedder):
    """``rerank_mix`` orders the rerank stage and is recorded; the weight sweep's 0 is the
    fused order and its 1 the cross-encoder alone (the oracle: perfect)."""
    common = dict(cache=cache, embedder=embedder, progress=False, curve_depths=())
    r = retrieval.evaluate_collection(
        tiny,
        ["hybrid", "rerank"],
        **common,
        reranker=OracleScorer(),
        weights=[0, 1],
        rerank_mix=(1, 0, 0, 0),
    )
    assert r.rerank_mix == [1.0, 0.0, 0.0, 0.0]
    assert r.stages["rerank"]["ndcg@10"] == 1.0
    sweep = {w["weight"]: w["ndcg@10"] for w in r.rerank_weights}
    assert sweep == {0: pytest.approx(r.stages["hybrid"]["ndcg@10"]), 1: 1.0}
    default = retrieval.evaluate_collection(
        tiny, ["hybrid", "rerank"], **common, reranker=OracleScorer()
    )
    assert default.rerank_mix == list(retrieval.HeadsConfig().rerank_mix)
    with pytest.raises(ValueError, match="--rerank-mix"):
        options.parse_rerank_mix("0:1:0:0")


def test_fusion_weight_sweep_reproduces_the_stages(tiny, cache, embedder, tmp_path):
    """1:1 is the hybrid stage (plain RRF), 1:0 BM25 alone, 0:1 dense alone."""
    r = retrieval.evaluate_collection(
        tiny,
        ["bm25", "dense", "hybrid"],
        cache=cache,
        embedder=embedder,
        progress=False,
        out=tmp_path,
        fusion_weights=[(1, 1), (1, 0), (0, 1), (2, 1)],
    )
    rows = {(w["bm25"], w["dense"]): w for w in r.fusion_weights}
    assert list(rows) == [(1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (2.0, 1.0)]
    for pair, stage in (((1.0, 1.0), "hybrid"), ((1.0, 0.0), "bm25"), ((0.0, 1.0), "dense")):
        for metric in ("ndcg@10", "mrr@10", "recall@100"):
            assert rows[pair][metric] == pytest.approx(r.stages[stage][metric]), (pair, metric)
    for metric, value in BM25_EXPECTED.items():
        assert rows[(1.0, 0.0)][metric] == pytest.approx(value, abs=1e-4), metric
    assert rows[(1.0, 1.0)]["p_vs_hybrid"]["ndcg@10"] is None  # the same run: no test
    assert set(rows[(2.0, 1.0)]["p_vs_bm25"]) == {"ndcg@10", "mrr@10", "recall@100", "map"}
    assert (tmp_path / "run.rrf-2:1.trec").read_text().split()[5] == "rrf-2:1"
    saved = json.loads((tmp_path / "results.json").read_text())["fusion_weights"]
    assert [(w["bm25"], w["dense"]) for w in saved] == list(rows)


def test_rrf_weights_set_the_hybrid_stages_fusion(tiny, cache, embedder):
    """``rrf_weights`` is the fusion of the hybrid stage itself: 1:0 makes it BM25's
    ranking, 2:1 equals that setting's row of a sweep, and the result records it."""
    common = dict(cache=cache, embedder=embedder, progress=False)
    sweep = retrieval.evaluate_collection(
        tiny, ["bm25", "hybrid"], **common, fusion_weights=[(2, 1)]
    )
    for pair in ((1.0, 0.0), (2.0, 1.0)):
        r = retrieval.evaluate_collection(tiny, ["bm25", "hybrid"], **common, rrf_weights=pair)
        assert r.rrf_weights == list(pair)
        want = r.stages["bm25"] if pair == (1.0, 0.0) else sweep.fusion_weights[0]
        for metric in ("ndcg@10", "mrr@10", "recall@100"):
            assert r.stages["hybrid"][metric] == pytest.approx(want[metric]), (pair, metric)
    assert sweep.rrf_weights == [1.0, 1.0]


def test_fusion_weights_need_no_other_stage(tiny, cache, embedder):
    r = retrieval.evaluate_collection(
        tiny, ["bm25"], cache=cache, embedder=embedder, progress=False, fusion_weights=[(3, 1)]
    )
    (row,) = r.fusion_weights
    assert "p_vs_hybrid" not in row and set(row["p_vs_bm25"]) == set(BM25_EXPECTED)
    assert 0 <= row["ndcg@10"] <= 1 and row["recall@100"] > 0


def test_bad_fusion_weights_fail_before_searching(tiny, cache):
    with pytest.raises(ValueError, match=r"rrf_weights=\(0.0, 0.0\)"):
        retrieval.evaluate_collection(tiny, ["bm25"], cache=cache, fusion_weights=[(0, 0)])
    assert options.parse_fusion_weights("1:1,1.5:1, 1:0") == [(1, 1), (1.5, 1), (1, 0)]
    for text in ("2", "1:2:3", "a:1", "-1:1"):
        with pytest.raises(ValueError, match="--fusion-weights|rrf_weights"):
            options.parse_fusion_weights(text)


def test_cached_scorer_counts_and_reuses():
    scorer = pair_scoring.CachedScorer(OracleScorer())
    assert scorer.predict([("volcano", "it erupted"), ("volcano", "calm")]).tolist() == [1.0, 0.0]
    assert scorer.predict([("volcano", "calm")]).tolist() == [0.0]
    assert scorer.scorer.calls == 1 and scorer.pairs == 2 and scorer.ms_per_pair >= 0


def break_store(index_dir) -> None:
    """Make a cached index stale: its first segment's store loses the passages table."""
    import sqlite3

    from indexer.manifest import read_manifest

    segment = read_manifest(index_dir).segments[0].name
    with sqlite3.connect(index_dir / segment / "store.sqlite") as conn:
        conn.execute("DROP TABLE passages")


def test_stale_cached_index_is_rebuilt(tiny, cache, embedder):
    _, index_dir = eval_index.ensure_index(tiny, cache, embedder=embedder, progress=False)
    break_store(index_dir)
    r = retrieval.evaluate_collection(
        tiny, ["bm25"], cache=cache, embedder=embedder, progress=False
    )
    assert r.stages["bm25"]["map"] == pytest.approx(BM25_EXPECTED["map"], abs=1e-4)


def test_open_searcher_rebuilds_a_stale_index(tiny, cache, embedder):
    from newsrank.config import SearchConfig
    from ranker.request import SearchRequest

    opened = eval_index.open_eval_set(tiny, cache, embedder=embedder, progress=False)
    break_store(opened.index_dir)
    searcher = eval_index.open_searcher(opened, SearchConfig(stages=("bm25",)), progress=False)
    hits = searcher.search(SearchRequest("volcano", k=3)).results
    assert [h.id for h in hits] == ["d3"]


def test_query_time_bm25_settings_reuse_the_cached_index(tiny, cache, embedder):
    import dataclasses

    from corpora.beir import corpus_file
    from indexer.lexical import BM25Index
    from indexer.manifest import read_manifest
    from newsrank.config import SearchConfig

    opened = eval_index.open_eval_set(tiny, cache, embedder=embedder, progress=False)
    built = opened.index_config
    other = dataclasses.replace(built, bm25_k1=0.3, bm25_b=1.0)
    corpus = corpus_file(tiny)
    assert eval_index.cache_key(corpus, other) == eval_index.cache_key(corpus, built)
    reshaped = dataclasses.replace(built, passage_words=120)
    assert eval_index.cache_key(corpus, reshaped) != eval_index.cache_key(corpus, built)
    config = SearchConfig(stages=("bm25",))
    own = eval_index.open_searcher(opened, config, progress=False)
    assert (own.index.bm25.k1, own.index.bm25.b) == (built.bm25_k1, built.bm25_b)
    viewed = eval_index.open_searcher(
        dataclasses.replace(opened, index_config=other), config, progress=False
    )
    bm25 = viewed.index.bm25
    assert (bm25.k1, bm25.b) == (0.3, 1.0) and viewed.config == config
    fresh = BM25Index.over(bm25.segments, k1=0.3, b=1.0)
    for query in ("volcano", "submarine navy", "shares banks london"):
        np.testing.assert_allclose(bm25.scores(query), fresh.scores(query))
    recorded = read_manifest(opened.index_dir).settings
    assert (recorded["bm25_k1"], recorded["bm25_b"]) == (built.bm25_k1, built.bm25_b)


def test_missing_reranker_is_a_clear_error(monkeypatch, tmp_path):
    from heads import registry

    monkeypatch.setattr(registry, "shipped_dir", lambda: tmp_path)
    with pytest.raises(NewsrankError, match="does not exist"):
        pair_scoring.load_reranker("reranker")


def test_unknown_stage(tiny, cache):
    with pytest.raises(NewsrankError, match="unknown stages"):
        retrieval.evaluate_collection(tiny, ["bm42"], cache=cache)


def test_title_rule():
    assert eval_index.title_of("", "a b c") == "a b c"
    assert eval_index.title_of("Headline", "a b c") == "Headline"


def test_knownitem_split_and_headline_removal(tmp_path):
    articles = [
        Article(f"tmt-{i}", f"Headline number {i} here", f"Headline number {i} here\nBody {i}.")
        for i in range(40)
    ]
    info = knownitem.build_knownitem(tmp_path, max_queries=None, articles=articles)
    c = read_beir(tmp_path)
    test_ids = {a.id for a in articles if is_heldout(a.id)}
    assert info["queries"] == len(test_ids) == len(c.queries) > 0
    assert {d for docs in c.qrels.values() for d in docs} == test_ids
    assert c.corpus["tmt-3"] == ("", "Body 3.")
    assert c.queries["h-tmt-6"] == "Headline number 6 here"
    again = knownitem.knownitem_collection(articles, max_queries=2)
    assert list(again.queries) == list(
        knownitem.knownitem_collection(articles, max_queries=2).queries
    )


def test_cli_json_report_and_summary(tiny, cache, tmp_path, capsys):
    from newsrank.cli import main

    out = tmp_path / "runs" / "tiny"
    out.mkdir(parents=True)
    (out / "rerank_depth.png").write_bytes(b"a plot of an earlier run with a depth curve")
    argv = ["eval", "retrieval", "--collection", str(tiny), "--stages", "bm25", "--json"]
    assert main([*argv, "--cache", str(cache), "--quiet", "--out", str(out)]) == 0
    assert not (out / "rerank_depth.png").exists()  # this run has no depth curve
    data = json.loads(capsys.readouterr().out)
    assert data["n_queries"] == 3
    assert data["stages"]["bm25"]["map"] == pytest.approx(BM25_EXPECTED["map"], abs=1e-4)
    assert (out / "stages.png").stat().st_size > 1000
    assert "| bm25 | 0.748 |" in (out / "report.md").read_text()
    argv = ["eval", "retrieval", "--collection", str(tiny), "--stages", "bm25", "--quiet"]
    assert main([*argv, "--cache", str(cache), "--fusion-weights", "1:0,2:1"]) == 0
    printed = capsys.readouterr().out
    assert "| 1:0 | 0.748 | 0.833 | 0.833 | 0.667 |" in printed
    assert "| 2:1 |" in printed and "judged in qrels/test.tsv:" in printed
    assert main([*argv, "--cache", str(cache), "--fusion-weights", "2"]) != 0
    assert "--fusion-weights: '2' is not a pair w_bm25:w_dense" in capsys.readouterr().err
    assert main([*argv, "--cache", str(cache), "--rrf-weights", "2"]) != 0
    assert "--rrf-weights: '2' is not a pair w_bm25:w_dense" in capsys.readouterr().err
    assert main([*argv, "--cache", str(cache), "--rrf-weights", "1:1,2:1"]) != 0
    assert "give one W_BM25:W_DENSE pair" in capsys.readouterr().err
    fused_out = tmp_path / "runs" / "tiny-fused"
    argv += ["--cache", str(cache), "--out", str(fused_out), "--fusion-weights", "1:0"]
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fusion_weights"][0]["bm25"] == 1.0
    assert "| 1:0 | 0.748 |" in (fused_out / "report.md").read_text()
    argv = ["eval", "retrieval", "--collection", str(tiny), "--stages", "bm25", "--json"]
    assert main([*argv, "--cache", str(cache), "--quiet", "--half", "test"]) == 0
    half = json.loads(capsys.readouterr().out)
    assert (half["collection"], half["n_queries"], half["half"]) == ("beir_tiny-test", 2, "test")
    doc = tmp_path / "docs" / "results.md"
    stale = doc.parent / "results" / "tiny" / "rerank_depth.png"  # an earlier run's plot
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old plot")
    (stale.parent / "notes.txt").write_text("not a report file")
    argv = ["eval", "summary", "--runs", str(out.parent), "--out", str(doc)]
    assert main([*argv, "--copy-reports", "results"]) == 0
    assert "| beir_tiny | 3 | 0.748 |" in doc.read_text()
    copied = doc.parent / "results" / "tiny"
    assert {p.name for p in copied.iterdir()} == {
        "report.md",
        "results.json",
        "stages.png",
        "notes.txt",
    }


@pytest.mark.slow
def test_med_end_to_end(shared_data, tmp_path, embedder):
    """MED through the whole pipeline (about 2 minutes on 2 CPUs); docs/results.md: 0.708."""
    r = retrieval.evaluate_collection(
        shared_data / "classic_ir" / "med",
        ["bm25", "hybrid"],
        cache=tmp_path,
        embedder=embedder,
        progress=False,
    )
    assert r.n_queries == 30
    assert r.stages["bm25"]["ndcg@10"] == pytest.approx(0.708, abs=0.01)
    assert r.stages["hybrid"]["ndcg@10"] > r.stages["bm25"]["ndcg@10"]


def test_rerank_vs_hybrid_is_a_paired_t_test_and_runs_round_trip(tmp_path):
    from scipy.stats import ttest_rel

    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}, "q3": {"d3": 1}}
    # hybrid puts every relevant document second; rerank lifts two of them to first
    hybrid = {q: {"x": 2.0, f"d{q[1]}": 1.0} for q in qrels}
    rerank = {"q1": {"d1": 2.0, "x": 1.0}, "q2": {"d2": 2.0, "x": 1.0}, "q3": hybrid["q3"]}
    second = 1 / math.log2(3)  # nDCG@10 of a single relevant document at rank 2
    expected = ttest_rel([1.0, 1.0, second], [second] * 3).pvalue
    p = scoring.rerank_vs_hybrid(qrels, {"bm25": hybrid, "hybrid": hybrid, "rerank": rerank})
    assert p["ndcg@10"] == pytest.approx(expected, abs=1e-4)
    assert p["recall@100"] is None  # same recall on every query: no test, not NaN
    assert scoring.rerank_vs_hybrid(qrels, {"hybrid": hybrid}) == {}

    scoring.write_trec(rerank, tmp_path / "run.trec", "rerank")
    assert scoring.read_trec(tmp_path / "run.trec") == rerank


def test_rerank_vs_best_tests_against_the_best_single_stage():
    """The pipeline is measured against whichever first stage is best on the collection
    (here dense, ahead of BM25 and hybrid), with a paired t-test against that one."""
    from scipy.stats import ttest_rel

    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}, "q3": {"d3": 1}}
    first = {q: {f"d{q[1]}": 2.0, "x": 1.0} for q in qrels}  # every relevant one first
    second = {q: {"x": 2.0, f"d{q[1]}": 1.0} for q in qrels}  # every one second
    rerank = {"q1": first["q1"], "q2": second["q2"], "q3": second["q3"]}
    runs = {"bm25": second, "dense": first, "hybrid": second, "rerank": rerank}
    stages = scoring.measure(qrels, runs)
    best = scoring.rerank_vs_best(qrels, runs, stages)
    at2 = 1 / math.log2(3)
    assert best["stage"] == "dense"
    assert best["delta"] == pytest.approx(stages["rerank"]["ndcg@10"] - 1.0, abs=1e-4)
    expected = ttest_rel([1.0, at2, at2], [1.0, 1.0, 1.0]).pvalue
    assert best["p"]["ndcg@10"] == pytest.approx(expected, abs=1e-4)
    assert scoring.rerank_vs_best(qrels, {"bm25": second}, stages) == {}
    from evaluation.report import retrieval_table, versus_best

    data = {"stages": stages, "rerank_vs_best": best}
    assert versus_best(data).startswith(f"{best['delta']:+.3f} (dense, p = ")
    assert "rerank vs the best single stage (dense): " in retrieval_table(data)
