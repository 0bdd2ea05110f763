"""Labelling on Ray Data (``indexer.distributed.enrich_on_ray``, ``newsrank index build
--ray-workers N``) gives the labels of a build in one process, each actor loading its
heads once; ``newsrank index enrich-rest`` on a sharded index.

The Ray tests share one local Ray session (2 CPUs, loopback only) and are skipped
without Ray or pyarrow; the heads are the small fakes of :mod:`tests.fakes`, loaded in
the actors by :class:`FakeHeads` (a picklable loader that notes each load in a file
named by the loading process's id).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.build import build_index
from indexer.enrich import enrich
from indexer.reader import IndexReader
from indexer.shards import build_sharded, read_layout
from newsrank.cli import main
from newsrank.errors import NewsrankError
from tests.fakes import FakeClassifier, FakeTagger, build_fake_enriched

# Ray on loopback only (its default on Linux is the machine's outward address)
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


class FakeHeads:
    """Loads the fake heads (the ones named; None: off), noting the load in
    ``record/<pid>``; called with ``EnrichHeads``'s arguments after ``record``."""

    def __init__(self, record: str, topic=None, tagger=None, precision="auto") -> None:
        self.record, self.topic, self.tagger = record, topic, tagger

    def __call__(self):
        with open(Path(self.record) / str(os.getpid()), "a") as f:
            f.write("load\n")
        return (
            FakeClassifier() if self.topic else None,
            FakeTagger() if self.tagger else None,
        )


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray")
    pytest.importorskip("pyarrow")  # Ray Data's format
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    # the actors cannot import this test module (pytest puts tests/ on sys.path, Ray's
    # workers do not have it): the fakes travel by value
    modules = [sys.modules[m] for m in {FakeHeads.__module__, FakeTagger.__module__}]
    for module in modules:
        ray.cloudpickle.register_pickle_by_value(module)
    yield ray
    for module in modules:
        ray.cloudpickle.unregister_pickle_by_value(module)
    ray.shutdown()


def _loads(record: Path) -> dict[int, int]:
    """How many times each process loaded the heads."""
    return {int(p.name): len(p.read_text().splitlines()) for p in record.iterdir()}


def _labels_by_id(directories) -> dict:
    out = {}
    for directory in directories:
        index = IndexReader.open(directory)
        live = [int(n) for n in np.flatnonzero(index.store.live)]
        ids = index.store.ids(live)
        for n, labels in index.store.labels(live).items():
            out[ids[n]] = labels
    return out


def test_labels_on_ray_are_those_of_one_process(ray_session, news_articles, embedder, tmp_path):
    from indexer.distributed import enrich_on_ray

    record = tmp_path / "loads"
    record.mkdir()
    labels = enrich_on_ray(
        news_articles, FakeHeads(str(record), "topic", "tagger"), workers=2, batch_size=4
    )
    # one load per actor, in the actors (not here), and the actors' own count agrees
    loads = _loads(record)
    assert 1 <= len(loads) <= 2 and set(loads.values()) == {1}, loads
    assert os.getpid() not in loads
    # every actor that labelled reports its one load; one that started late may have
    # loaded and got no batch (seen on a busy 2-core machine), so it is not reported
    assert labels.loads and labels.loads.items() <= loads.items()
    # the stand-ins answer as the heads do, in the heads' own types
    local = enrich(news_articles, FakeClassifier(), FakeTagger())
    assert enrich(news_articles, labels.classifier, labels.tagger) == local
    assert any(label.entities for label in local) and all(label.topic for label in local)
    with pytest.raises(NewsrankError, match="no precomputed topic"):
        labels.classifier.predict(["a text never labelled"])
    with pytest.raises(NewsrankError, match="no precomputed entities"):
        labels.tagger.tag(["a text never labelled"])
    # a writer given the stand-ins stores the labels of a build with the heads
    build_fake_enriched(tmp_path / "here", news_articles, embedder)
    build_index(
        news_articles,
        tmp_path / "ray",
        embedder=embedder,
        classifier=labels.classifier,
        tagger=labels.tagger,
        enrichment={"topic": "fake", "tagger": "fake"},
        progress=False,
    )
    here = _labels_by_id([tmp_path / "here"])
    assert _labels_by_id([tmp_path / "ray"]) == here and len(here) == len(news_articles)

    only_tagger = enrich_on_ray(news_articles[:5], FakeHeads(str(record), tagger="tagger"))
    assert only_tagger.classifier is None and only_tagger.tagger is not None
    with pytest.raises(NewsrankError, match="labelling on Ray failed: .*no head here"):
        enrich_on_ray(news_articles[:5], _failing_heads, workers=1)


def _failing_heads():
    raise OSError("no head here")


def test_build_with_ray_workers_labels_on_ray(
    ray_session, monkeypatch, fixtures, news_articles, embedder, tmp_path, capsys
):
    import indexer.distributed

    record = tmp_path / "loads"
    record.mkdir()
    # the embedding on Ray is tested in test_shards_ray.py (it loads the real embedder
    # in each worker); here the vectors come from this process, the labels from Ray
    monkeypatch.setattr(indexer.distributed, "embed_on_ray", lambda *a, **k: embedder)
    monkeypatch.setattr(
        indexer.distributed, "EnrichHeads", functools.partial(FakeHeads, str(record))
    )
    code = main(
        [
            "index",
            "build",
            "--input",
            str(fixtures / "news.jsonl"),
            "--index",
            str(tmp_path / "ray"),
            "--shards",
            "2",
            "--ray-workers",
            "2",
            "--topic-head",
            "fake-topic",
            "--tagger-head",
            "fake-tagger",
            "--json",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["articles"] == len(news_articles)
    loads = _loads(record)
    assert 1 <= len(loads) <= 2 and set(loads.values()) == {1}, loads
    assert os.getpid() not in loads  # no head was loaded in the building process
    shards = read_layout(tmp_path / "ray").paths(tmp_path / "ray")
    manifest = IndexReader.open(shards[0]).manifest
    assert manifest.enrichment["topic"] == "fake-topic"
    assert manifest.enrichment["tagger"] == "fake-tagger"
    build_fake_enriched(tmp_path / "here", news_articles, embedder)
    assert _labels_by_id(shards) == _labels_by_id([tmp_path / "here"])


class _FakeEntityTagger(FakeTagger):
    """``heads.tagger.EntityTagger``'s signature, the fake tagger's answers."""

    made = 0

    def __init__(self, name, precision="auto") -> None:
        type(self).made += 1


def test_enrich_rest_on_a_sharded_index(monkeypatch, news_articles, embedder, tmp_path, capsys):
    import heads.tagger
    from indexer.fulltext import CACHE, FullTextEntities

    plain = tmp_path / "plain"
    build_sharded(news_articles, plain, 2, embedder=embedder, progress=False)
    assert main(["index", "enrich-rest", "--index", str(plain)]) == 1
    err = capsys.readouterr().err
    assert "built without the tagger" in err and "--no-enrich" in err
    assert not list(plain.rglob(CACHE))  # nothing written

    labelled = tmp_path / "labelled"
    build_sharded(
        news_articles,
        labelled,
        2,
        embedder=embedder,
        classifier=FakeClassifier(),
        tagger=FakeTagger(),
        enrichment={"topic": "fake", "tagger": "fake"},
        progress=False,
    )
    monkeypatch.setattr(heads.tagger, "EntityTagger", _FakeEntityTagger)
    assert main(["index", "enrich-rest", "--index", str(labelled), "--json", "--limit", "3"]) == 0
    assert json.loads(capsys.readouterr().out)["tagged"] == 3
    assert main(["index", "enrich-rest", "--index", str(labelled), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert _FakeEntityTagger.made == 2  # once a run, not once a shard
    assert summary["shards"] == 2 and summary["articles"] == len(news_articles)
    assert summary["tagged"] == len(news_articles) - 3
    # every shard's articles are in the one cache of the index (what `serve` reads)
    shards = read_layout(labelled).paths(labelled)
    assert (labelled / CACHE).exists() and not any((s / CACHE).exists() for s in shards)
    cache = FullTextEntities(labelled, FakeTagger(), "fake")
    every: set[str] = set()
    for shard in shards:
        store = IndexReader.open(shard).store
        assert store.n_live > 0
        digests = store.digests([int(n) for n in np.flatnonzero(store.live)])
        assert cache.done(digests.values()) == set(digests.values())
        every |= set(digests.values())
    assert summary["done"] == len(every)
