"""The evaluation options that name fusion settings: ``--fusion-weights`` /
``--rrf-weights`` pairs and ``--rerank-mix``, parsed and checked as the product's
configuration checks them, and the name of a fused run; and the development sets that
tuning benchmarks run on by default (:data:`DEV_SETS`, :func:`parse_eval_set`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpora.splits import HALVES
from newsrank.config import SearchConfig, check_rerank_mix


@dataclass(frozen=True)
class EvalSpec:
    """A collection folder and which of its judged queries to ask: ``split``, ``sample``
    (the reranker-validation sample of that many queries, or all) and ``half`` (``dev``
    or ``test``: :func:`corpora.splits.half_of`, or all)."""

    path: str
    split: str = "test"
    sample: int | None = None
    half: str | None = None

    @property
    def name(self) -> str:
        """A short name: the folder's, with the split, sample and half when set.

        >>> parse_eval_set("../shared/data/beir/scifact@train:60").name
        'scifact-train60'
        >>> parse_eval_set("../shared/data/classic_ir/cran#dev").name
        'cran-dev'
        """
        name = Path(self.path).name.lower()
        if self.split != "test":
            name += f"-{self.split}{self.sample or ''}"
        return name + (f"-{self.half}" if self.half else "")


def parse_eval_set(text: str) -> EvalSpec:
    """``PATH[@SPLIT[:SAMPLE]][#HALF]`` as an :class:`EvalSpec`.

    >>> parse_eval_set("../shared/data/beir/scifact@train:60")
    EvalSpec(path='../shared/data/beir/scifact', split='train', sample=60, half=None)
    >>> parse_eval_set("../shared/data/classic_ir/time#dev")
    EvalSpec(path='../shared/data/classic_ir/time', split='test', sample=None, half='dev')
    >>> parse_eval_set("x@train:some")
    Traceback (most recent call last):
    ...
    ValueError: 'x@train:some': the sample after ':' must be a whole number of queries
    >>> parse_eval_set("x#train")
    Traceback (most recent call last):
    ...
    ValueError: 'x#train': the half after '#' is dev or test
    """
    rest, _, half = text.partition("#")
    path, _, rest = rest.partition("@")
    split, _, sample = rest.partition(":")
    if sample and not sample.isdigit():
        raise ValueError(f"{text!r}: the sample after ':' must be a whole number of queries")
    if half and half not in HALVES:
        raise ValueError(f"{text!r}: the half after '#' is {' or '.join(HALVES)}")
    return EvalSpec(path, split or "test", int(sample) if sample else None, half or None)


#: The development sets tuning benchmarks run on by default: both news development
#: halves, SciFact's 60 train queries held out of reranker training, and the dev halves
#: of TIME, MED, CRAN and CISI (added after two choices made on the first three alone
#: lost on those collections: docs/results.md, "BM25's k1 and b").
DEV_SETS = (
    EvalSpec("data/beir/news-refind-dev"),
    EvalSpec("data/beir/news-topical-dev"),
    EvalSpec("../shared/data/beir/scifact", "train", 60),
    *(
        EvalSpec(f"../shared/data/classic_ir/{c}", half="dev")
        for c in ("time", "med", "cran", "cisi")
    ),
)


def parse_fusion_weights(text: str, option: str = "--fusion-weights") -> list[tuple[float, float]]:
    """``"w_bm25:w_dense,..."`` (the ``--fusion-weights`` option, or the ``option`` an
    error names) as weight pairs, each checked as ``SearchConfig.rrf_weights`` is.

    >>> parse_fusion_weights("1:1, 2:1,1:0.5,")
    [(1.0, 1.0), (2.0, 1.0), (1.0, 0.5)]
    >>> parse_fusion_weights("2")
    Traceback (most recent call last):
    ...
    ValueError: --fusion-weights: '2' is not a pair w_bm25:w_dense (e.g. 2:1)
    """
    pairs: list[tuple[float, float]] = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        parts = item.split(":")
        try:
            if len(parts) != 2:
                raise ValueError
            pair = (float(parts[0]), float(parts[1]))
        except ValueError:
            raise ValueError(
                f"{option}: {item!r} is not a pair w_bm25:w_dense (e.g. 2:1)"
            ) from None
        SearchConfig(rrf_weights=pair)  # the product's own check (a clear ValueError)
        pairs.append(pair)
    return pairs


def parse_rerank_mix(text: str) -> tuple[float, float, float, float]:
    """``"ce:fused:bm25:dense"`` (the ``--rerank-mix`` option) as the four weights of
    ``HeadsConfig.rerank_mix``, checked as it checks them.

    >>> parse_rerank_mix("0.4:0:0.4:0.2")
    (0.4, 0.0, 0.4, 0.2)
    >>> parse_rerank_mix("0.2:0.8")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: --rerank-mix '0.2:0.8': rerank_mix=(0.2, 0.8) has 2 values; ...
    """
    try:
        values = tuple(float(v) for v in text.split(":"))
    except ValueError:
        values = tuple(text.split(":"))
    try:
        return check_rerank_mix(values)
    except ValueError as exc:
        raise ValueError(f"--rerank-mix {text!r}: {exc}") from None


def fusion_name(weights: tuple[float, float]) -> str:
    """A fused run's name: ``rrf 2:1`` (bm25 weight : dense weight).

    >>> fusion_name((1.5, 1.0))
    'rrf 1.5:1'
    """
    return f"rrf {weights[0]:g}:{weights[1]:g}"
