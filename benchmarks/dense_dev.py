"""The dense stage alone on development queries, for choosing among embedder heads.

A trained embedder is only worth an index rebuild if its dense stage beats the
packaged MiniLM's. This script scores that quickly, on *development* queries only, and
on a machine without the product's retrieval stack (a borrowed GPU has torch,
sentence-transformers and peft, but neither faiss, bm25s nor the corpora):

    # here, where the data lives: passages of every development set, in one file
    python benchmarks/dense_dev.py pack --out runs/dense-dev.json.gz
    # anywhere: the backbone against trained heads
    python benchmarks/dense_dev.py score --pack runs/dense-dev.json.gz \\
        --embedder sentence-transformers/all-MiniLM-L6-v2 runs/embedder/both2 --device cuda

``pack`` splits each corpus into the index's passages (:class:`newsrank.config.IndexConfig`
windows, the title in front: what the index writer embeds) and keeps the development
queries: the re-finding and topical development halves (``data/beir``, written by
``newsrank eval build-newsbench --split dev``), SciFact's 60 reranker-validation
*train* queries, and the development halves (:func:`corpora.splits.half_of`) of MED,
TIME, CRAN and CISI. No test query is packed.

``score`` embeds every passage with each embedder (a head's passage model, the
backbone for a query-side head), scores an article by its best passage (exact inner
products of unit vectors, as the flat index does) and prints MRR@10, nDCG@10 (linear
gains) and recall@100 per set. It is a proxy of the product's dense stage (which
searches through faiss and keeps the top passages), used to choose; the chosen head is
then measured with ``newsrank eval retrieval``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newsrank.errors import TrainingInputError  # noqa: E402
from training.prepared import read_record, write_record  # noqa: E402

PACK_FORMAT = "newsrank-dense-dev/1"
FIX = "write one with python benchmarks/dense_dev.py pack --out FILE"


def mrr_at_10(ranked: list[str], qrels: dict[str, int]) -> float:
    """Reciprocal rank of the first relevant article in the top 10.

    >>> mrr_at_10(["a", "b"], {"b": 1})
    0.5
    """
    for i, doc in enumerate(ranked[:10]):
        if qrels.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def ndcg_at_10(ranked: list[str], qrels: dict[str, int]) -> float:
    """nDCG@10 with linear gains (ranx's ``ndcg``).

    >>> round(ndcg_at_10(["a", "b"], {"b": 1}), 4)
    0.6309
    """
    dcg = sum(qrels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at_100(ranked: list[str], qrels: dict[str, int]) -> float:
    relevant = {d for d, g in qrels.items() if g > 0}
    return len(relevant & set(ranked[:100])) / len(relevant) if relevant else 0.0


def _passages(corpus: dict[str, tuple[str, str]]) -> list[list[str]]:
    from indexer.article import Article
    from indexer.passages import article_passages
    from newsrank.config import IndexConfig

    docs = [Article(doc, title, text) for doc, (title, text) in corpus.items()]
    spans, texts = article_passages(docs, IndexConfig())
    owners = [a.id for a, windows in zip(docs, spans, strict=True) for _ in windows]
    return [[doc, text] for doc, text in zip(owners, texts, strict=True)]


def pack(args: argparse.Namespace) -> int:
    from corpora.beir import read_beir
    from corpora.splits import half_of, reranker_validation

    beir, data = Path(args.beir), Path(args.data)
    sources = {
        "news-refind-dev": (beir / "news-refind-dev", "test", None),
        "news-topical-dev": (beir / "news-topical-dev", "test", None),
        "scifact-train60": (data / "beir" / "scifact", "train", "train60"),
        "med-dev": (data / "classic_ir" / "med", "test", "half"),
        "time-dev": (data / "classic_ir" / "time", "test", "half"),
        "cran-dev": (data / "classic_ir" / "cran", "test", "half"),
        "cisi-dev": (data / "classic_ir" / "cisi", "test", "half"),
    }
    corpora: dict[str, list[list[str]]] = {}
    sets = {}
    for name, (root, split, pick) in sources.items():
        c = read_beir(root, split)
        qrels = {q: {d: int(g) for d, g in ds.items()} for q, ds in c.qrels.items()}
        judged = [
            q for q, ds in qrels.items() if q in c.queries and any(g > 0 for g in ds.values())
        ]
        if pick == "train60":
            judged = reranker_validation(list(c.qrels), set(judged))
        elif pick == "half":
            judged = [q for q in judged if half_of(q) == "dev"]
        key = "news" if root.name.startswith("news-") else name
        if key not in corpora:
            corpora[key] = _passages(c.corpus)
        sets[name] = {
            "corpus": key,
            "queries": {q: c.queries[q] for q in judged},
            "qrels": {q: qrels[q] for q in judged},
        }
        print(f"{name}: {len(judged)} queries, {len(corpora[key])} passages", flush=True)
    out = write_record(args.out, PACK_FORMAT, {"corpora": corpora, "sets": sets})
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


def _embed(model, texts: list[str], batch: int, max_length: int):
    import numpy as np
    import torch

    model.max_seq_length = max_length
    with torch.inference_mode():
        v = model.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True)
    return np.asarray(v, dtype="float32")


def score(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from heads.embedder import load_embedder_models

    try:
        p = read_record(args.pack, PACK_FORMAT, FIX)
    except TrainingInputError as exc:
        raise SystemExit(f"dense_dev.py: {exc}") from exc
    results = {}
    for name in args.embedder:
        t0 = time.time()
        models = load_embedder_models(name, args.device)
        row: dict[str, dict[str, float]] = {}
        for cname, passages in p["corpora"].items():
            used = [s for s, v in p["sets"].items() if v["corpus"] == cname]
            if not used:
                continue
            docs = [d for d, _ in passages]
            pv = torch.from_numpy(
                _embed(models.passages, [t for _, t in passages], args.batch, args.max_length)
            )
            for sname in used:
                s = p["sets"][sname]
                qids = list(s["queries"])
                qv = torch.from_numpy(
                    _embed(models.queries, [s["queries"][q] for q in qids], args.batch, 256)
                )
                sims = (qv @ pv.T).numpy()
                m = {"mrr@10": 0.0, "ndcg@10": 0.0, "recall@100": 0.0}
                for i, q in enumerate(qids):
                    order = np.argsort(-sims[i], kind="stable")
                    ranked: list[str] = []
                    seen: set[str] = set()
                    for j in order:
                        if docs[j] not in seen:
                            seen.add(docs[j])
                            ranked.append(docs[j])
                            if len(ranked) == 100:
                                break
                    m["mrr@10"] += mrr_at_10(ranked, s["qrels"][q])
                    m["ndcg@10"] += ndcg_at_10(ranked, s["qrels"][q])
                    m["recall@100"] += recall_at_100(ranked, s["qrels"][q])
                row[sname] = {k: round(v / len(qids), 4) for k, v in m.items()}
        row["mean"] = {
            k: round(sum(r[k] for r in row.values()) / len(row), 4)
            for k in ("mrr@10", "ndcg@10", "recall@100")
        }
        results[name] = row
        print(
            json.dumps({"embedder": name, "seconds": round(time.time() - t0, 1), **row}), flush=True
        )
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("pack", help="write the development sets' passages and queries")
    a.add_argument("--out", required=True)
    a.add_argument("--beir", default="data/beir", help="where build-newsbench wrote the news sets")
    a.add_argument("--data", default="../shared/data")
    a.set_defaults(func=pack)
    b = sub.add_parser("score", help="the dense stage of each embedder on the packed sets")
    b.add_argument("--pack", required=True)
    b.add_argument("--embedder", nargs="+", required=True, help="hub ids, paths or head dirs")
    b.add_argument("--device", default=None)
    b.add_argument("--batch", type=int, default=128)
    b.add_argument("--max-length", type=int, default=256, help="passage tokens (the index's)")
    b.add_argument("--out", default=None, help="also write the results as JSON")
    b.set_defaults(func=score)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
