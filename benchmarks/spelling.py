"""Did you mean: how often the suggester fires rightly, wrongly and misses, and its cost.

    python benchmarks/spelling.py                      # over the demo corpus' words
    python benchmarks/spelling.py --index var/index    # over an index (its entities too)
    python benchmarks/spelling.py --rare-factor 30 --json

Reads ``benchmarks/spelling_queries.tsv`` (``query<TAB>expected suggestion``, the
expected column empty for a query that is spelled right). Rows alternate between two
halves: rows 1, 3, 5, ... are the tuning half ("tune"), 2, 4, 6, ... the held-out half
("test"); the factors of :class:`ranker.suggest.Suggester` were chosen on "tune" only.

For each half: misspelled queries corrected exactly (``right``), given another
suggestion (``wrong``) or none (``missed``); correct queries given a suggestion
(``false alarms``). It also prints the vocabulary's size, the time to build the
suggester, and the time per query of ``suggest`` (every query, ``--repeats`` times).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from evaluation.report import provenance
from indexer.demo import read_demo_news
from indexer.reader import IndexReader
from newsrank.invocation import current
from ranker.suggest import Suggester

HERE = Path(__file__).parent


def read_queries(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, _, expected = line.partition("\t")
        rows.append((query.strip(), expected.strip()))
    return rows


def score(suggester: Suggester, rows: list[tuple[str, str]]) -> dict:
    out = {"misspelled": 0, "right": 0, "wrong": 0, "missed": 0, "correct": 0}
    out["false_alarms"] = 0
    mistakes = []
    for query, expected in rows:
        got = suggester.suggest(query)
        if expected:
            out["misspelled"] += 1
            kind = "right" if got == expected else "missed" if got is None else "wrong"
        else:
            out["correct"] += 1
            kind = "false_alarms" if got is not None else None
        if kind is not None:
            out[kind] += 1
        if kind not in (None, "right"):
            mistakes.append({"query": query, "expected": expected or None, "got": got})
    out["mistakes"] = mistakes
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", help="an index directory (default: the demo corpus)")
    parser.add_argument("--queries", default=str(HERE / "spelling_queries.tsv"))
    parser.add_argument("--rare-factor", type=float, default=None)
    parser.add_argument("--min-count", type=int, default=None)
    parser.add_argument("--long-word", type=int, default=None)
    parser.add_argument("--names-capitalised-only", action="store_true")
    parser.add_argument("--no-english", action="store_true", help="without the word list")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = {
        name: value
        for name, value in (
            ("rare_factor", args.rare_factor),
            ("min_count", args.min_count),
            ("long_word", args.long_word),
        )
        if value is not None
    }
    if args.names_capitalised_only:
        settings["names_any_case"] = False
    if args.no_english:
        settings["english"] = ()
    rows = read_queries(Path(args.queries))
    read_s = 0.0  # reading the demo corpus (with --index: part of the build)
    t = time.perf_counter()
    if args.index:
        store = IndexReader.open(args.index).store
        suggester = Suggester.from_store(store, **settings)
        source = f"index {args.index}"
    else:
        articles = read_demo_news().articles
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        suggester = Suggester.from_texts((f"{a.title}\n{a.text}" for a in articles), **settings)
        source = f"demo corpus ({len(articles)} articles)"
    build_s = time.perf_counter() - t
    for query, _ in rows:  # warm-up
        suggester.suggest(query)
    times = []
    for _ in range(args.repeats):
        for query, _ in rows:
            t = time.perf_counter()
            suggester.suggest(query)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    report = {
        **provenance(current()),
        "source": source,
        "settings": {
            "rare_factor": suggester.rare_factor,
            "min_count": suggester.min_count,
            "min_letters": suggester.min_letters,
            "long_word": suggester.long_word,
            "names_any_case": suggester.names_any_case,
            "english_words": len(suggester.english),
        },
        "vocabulary": len(suggester),
        "names": len(suggester.names),
        "read_corpus_s": round(read_s, 2),
        "build_s": round(build_s, 2),
        "suggest_ms": {
            "mean": round(statistics.fmean(times), 3),
            "p50": round(times[len(times) // 2], 3),
            "p95": round(times[int(len(times) * 0.95)], 3),
            "max": round(times[-1], 3),
        },
        "tune": score(suggester, rows[0::2]),
        "test": score(suggester, rows[1::2]),
    }
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0
    print(f"{report['machine']}; commit {report['commit']}; {source}")
    print(f"settings {report['settings']}")
    print(
        f"vocabulary {report['vocabulary']} words ({report['names']} names), "
        f"built in {report['build_s']} s (+ {report['read_corpus_s']} s reading the corpus); "
        f"suggest per query: {report['suggest_ms']} ms"
    )
    print("half   misspelled right wrong missed   correct false-alarms")
    for half in ("tune", "test"):
        r = report[half]
        print(
            f"{half:6} {r['misspelled']:10} {r['right']:5} {r['wrong']:5} {r['missed']:6}"
            f"   {r['correct']:7} {r['false_alarms']:12}"
        )
    for half in ("tune", "test"):
        for m in report[half]["mistakes"]:
            print(f"  {half}: {m['query']!r}: expected {m['expected']!r}, got {m['got']!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
