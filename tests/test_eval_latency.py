"""Latency evaluation on the tiny session index."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evaluation import latency
from newsrank.errors import NewsrankError


class ConstantScorer:
    def predict(self, pairs):
        return np.linspace(0, 1, len(pairs))


@pytest.fixture()
def queries(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("# demo\noil prices\n\nelection results\nfootball\n")
    return path


def test_percentiles_hand_computed():
    p = latency.percentiles([10.0, 20.0, 30.0, 40.0])
    # linear interpolation at positions 1.5, 2.85 and 2.97 of the sorted list
    assert p == {"p50_ms": 25.0, "p95_ms": 38.5, "p99_ms": 39.7, "mean_ms": 25.0}


def test_read_queries(queries):
    assert latency.read_queries(queries) == ["oil prices", "election results", "football"]
    assert latency.read_queries(queries, 1) == ["oil prices"]
    with pytest.raises(NewsrankError, match="not found"):
        latency.read_queries(queries.with_name("missing.txt"))


def test_latency_every_stage(index_dir, searcher, queries):
    r = latency.evaluate_latency(
        index_dir, queries, clients=(2,), repeats=1, reranker=ConstantScorer(), searcher=searcher
    )
    assert list(r.stages) == ["bm25", "dense", "fused", "rerank"]
    for stats in r.stages.values():
        assert 0 <= stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"]
        assert set(stats["qps"]) == {"2"} and all(v > 0 for v in stats["qps"].values())
    assert len(r.samples_ms["fused"]) == 3
    assert r.indexing["passages"] == searcher.manifest.passages
    assert r.indexing["passages_per_s"]["bm25"] > 0
    assert r.peak_rss_mb > 0
    assert "samples_ms" not in r.to_dict()


def test_latency_cli_writes_report(index_dir, queries, tmp_path, capsys):
    from newsrank.cli import main

    out = tmp_path / "lat"
    argv = ["eval", "latency", "--index", str(index_dir), "--queries", str(queries)]
    assert main([*argv, "--repeats", "1", "--clients", "1", "--json", "--out", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_queries"] == 3 and set(data["stages"]) == {"bm25", "dense", "fused"}
    assert (out / "latency_hist.png").stat().st_size > 1000
    assert "p99 ms" in (out / "latency.md").read_text()


def test_time_pass_collects_each_response_stage_timings(searcher):
    stages: dict[str, list[float]] = {}
    ms = latency.time_pass(searcher, ["oil prices", "football"], 5, stages)
    assert len(ms) == 2 and all(m > 0 for m in ms)
    assert {"fuse", "facets"} <= set(stages)
    assert all(len(v) == 2 and min(v) >= 0 for v in stages.values())
    assert latency.time_pass(searcher, ["oil prices"], 5) and stages["fuse"][2:] == []


def test_time_interleaved_times_each_engine_every_pass(searcher):
    stages: dict[str, dict[str, list[float]]] = {}
    engines = {"a": searcher, "b": searcher}
    samples = latency.time_interleaved(engines, ["oil prices", "football"], 5, 3, stages)
    assert {name: len(ms) for name, ms in samples.items()} == {"a": 6, "b": 6}
    assert set(stages) == {"a", "b"} and all(len(v["fuse"]) == 6 for v in stages.values())
    assert latency.time_interleaved(engines, ["oil prices"], 5, 0) == {"a": [], "b": []}
