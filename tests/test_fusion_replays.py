"""The fusion replay scripts of benchmarks/ (fit_fusion.py, fusion_gate.py) on tiny dumps."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
fit_fusion = importlib.import_module("fit_fusion")
fusion_gate = importlib.import_module("fusion_gate")


def cand(doc, fused, bm25, dense, ce):
    return {"doc": doc, "ce": ce, "fused": fused, "bm25": bm25, "dense": dense}


QUERIES = [
    {  # BM25 is sure of d1; the fused order puts d2 first
        "qid": str(n),
        "query": "q",
        "qrels": {"d1": 1},
        "cands": [
            cand("d2", [1, 0.03], [2, 4.0], [1, 0.9], 0.2),
            cand("d1", [2, 0.02], [1, 12.0], None, 0.9),
            cand("d3", [3, 0.01], None, [2, 0.5], 0.1),
        ],
    }
    for n in range(6)
]


@pytest.fixture()
def dump(tmp_path):
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    return path


def test_halves_split_a_dump_in_two(dump):
    even, odd = fit_fusion.load(f"{dump}#even"), fit_fusion.load(f"{dump}#odd")
    assert sorted(q["qid"] for q in even + odd) == [q["qid"] for q in QUERIES]
    assert not {q["qid"] for q in even} & {q["qid"] for q in odd}
    assert fit_fusion.name_of(f"{dump}#even") == "tiny#even"
    assert fit_fusion.load(f"{dump}#dev") == even and fit_fusion.load(f"{dump}#test") == odd
    with pytest.raises(SystemExit, match="FILE#dev"):
        fit_fusion.load(f"{dump}#first")


def test_replay_orders_as_the_product_mix(dump):
    q = QUERIES[0]
    fused_first = fit_fusion.ranked(q, 3, (0.2, 0.8, 0.0, 0.0))
    bm25_heavy = fit_fusion.ranked(q, 3, (0.4, 0.0, 0.6, 0.0))
    assert max(fused_first, key=fused_first.get) == "d2"
    assert max(bm25_heavy, key=bm25_heavy.get) == "d1"


def test_bm25_lead_and_gate_table(dump, capsys):
    assert fusion_gate.bm25_lead(QUERIES[0]) == pytest.approx((12.0 - 4.0) / 12.0)
    assert fusion_gate.main([str(dump), "--taus", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "6 queries, BM25 lead quartiles 0.667 0.667 0.667" in out
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("|")}
    assert rows["stage bm25"].split("|")[2].strip() == "1.0000"
    assert "lead >= 0.5: 0.4:0:0.6:0, else 0.2:0.8:0:0" in rows


def test_baseline_names_the_best_setting_no_collection_loses(dump, tmp_path, capsys):
    # the baseline head's cross-encoder prefers the wrong article on four of six queries
    folder = tmp_path / "baseline"
    folder.mkdir()
    worse = json.loads(json.dumps(QUERIES))
    for q in worse[:4]:
        q["cands"][0]["ce"], q["cands"][1]["ce"] = 0.9, 0.1
    (folder / "tiny.jsonl").write_text("".join(json.dumps(q) + "\n" for q in worse))
    args = [str(dump), "--depths", "3", "--step", "0.5", "--baseline", str(folder)]
    args += ["--baseline-mix", "0.4:0:0.4:0.2@10"]  # not the product's default: it may change
    assert fit_fusion.main(args) == 0
    out = capsys.readouterr().out
    # baseline: d1 second on four queries (1 / log2(3)), first on two: (4 * 0.6309 + 2) / 6
    assert "at 0.4:0:0.4:0.2@10 (mean ndcg@10 0.7540)" in out
    best = [line for line in out.splitlines() if line.startswith("best admissible:")]
    assert best == ["best admissible: mix 0.4 depth 3, mean 1.0000, above the baseline's 0.7540"]

    (folder / "tiny.jsonl").write_text(json.dumps(QUERIES[0]) + "\n")
    with pytest.raises(SystemExit, match="other queries than tiny"):
        fit_fusion.main(args)
    other = tmp_path / "other.jsonl"
    other.write_text(dump.read_text())
    with pytest.raises(SystemExit, match="no other.jsonl for other"):
        fit_fusion.main([str(other), *args[1:]])
