"""Evaluate the heads on held-out data: reader (SQuAD EM/F1), tagger (seqeval), classifier.

>>> from evaluation.heads import classification_scores
>>> s = classification_scores(["a", "b", "b"], ["a", "b", "a"], ["a", "b"])
>>> round(s.accuracy, 3), s.confusion
(0.667, [[1, 0], [1, 1]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from corpora.squad import squad_scores

#: The SQuAD 1.1 dev file of ../shared/data has 48 articles; its last 10 are the test split.
SQUAD_DEV_ARTICLES, SQUAD_TEST_FROM = 48, 38


@dataclass
class ClassificationScores:
    accuracy: float
    macro_f1: float
    n: int
    labels: list[str]
    confusion: list[list[int]]  # rows: gold label, columns: predicted label


def classification_scores(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]
) -> ClassificationScores:
    """Accuracy, macro F1 over ``labels`` and the confusion matrix."""
    idx = {lab: i for i, lab in enumerate(labels)}
    conf = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        if g not in idx:
            raise ValueError(f"gold label {g!r} is not one of the head's labels {list(labels)}")
        conf[idx[g]][idx[p]] += 1
    f1s = []
    for i in range(len(labels)):
        tp = conf[i][i]
        fp = sum(conf[r][i] for r in range(len(labels))) - tp
        fn = sum(conf[i]) - tp
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    n = len(gold)
    acc = sum(conf[i][i] for i in range(len(labels))) / max(n, 1)
    return ClassificationScores(acc, sum(f1s) / max(len(f1s), 1), n, list(labels), conf)


def eval_classifier(
    data: str, model: str = "topic-agnews", batch_size: int = 32, precision: str = "auto"
) -> dict:
    """Score a classifier head on a CSV with text,label columns."""
    from corpora.classify import load_csv
    from heads.classifier import TextClassifier

    rows = load_csv(data)
    clf = TextClassifier(model, batch_size=batch_size, precision=precision)
    pred = [scores[0].label for scores in clf.predict([t for t, _ in rows])]
    scores = asdict(classification_scores([lab for _, lab in rows], pred, clf.labels))
    return {**scores, "dtype": clf.precision}


def eval_tagger(
    data: str, model: str = "tagger", batch_size: int = 32, precision: str = "auto"
) -> dict[str, Any]:
    """Entity-level seqeval scores of a tagger head on a CoNLL-2003 file."""
    from corpora.conll import read_conll, seqeval_scores
    from heads.tagger import EntityTagger

    sents = read_conll(data)
    tagger = EntityTagger(model, batch_size=batch_size, precision=precision)
    tagged = tagger.tag_words([w for w, _ in sents])
    scores = seqeval_scores([t for _, t in sents], [[tg for tg, _ in row] for row in tagged])
    return {**scores, "dtype": tagger.precision}


def squad_articles(path: str, articles: str | None) -> slice:
    """The article slice to score: given, else the test split of the shared dev file."""
    from corpora.squad import parse_slice

    if articles:
        return parse_slice(articles)
    import gzip
    import json

    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        n = len(json.load(fh)["data"])
    return slice(SQUAD_TEST_FROM, None) if n == SQUAD_DEV_ARTICLES else slice(None)


def eval_reader(
    data: str,
    model: str = "reader",
    articles: str | None = None,
    max_answer_len: int = 30,
    batch_size: int = 32,
    precision: str = "auto",
) -> dict[str, Any]:
    """SQuAD EM/F1 (0-100) of a reader head; one context per question."""
    from corpora.squad import load_squad
    from heads.reader import Reader

    if not Path(data).is_file():
        raise FileNotFoundError(f"{data} not found: pass a SQuAD json(.gz) file")
    exs = load_squad(data, squad_articles(data, articles))
    reader = Reader(model, batch_size=batch_size, precision=precision)
    answers = reader.answer_pairs(
        [e.question for e in exs], [e.context for e in exs], max_answer_len
    )
    preds = [a.text if a else "" for a in answers]
    return {**squad_scores(preds, [e.answers for e in exs]), "dtype": reader.precision}
