"""Ray for indexing: a Ray cluster joined or started, and passage embedding and article
labelling as Ray Data ``map_batches`` over actor pools holding the models (one load per
worker).

A build (``newsrank index build --ray-workers N [--ray-address ADDR]``) first embeds
every passage of its articles on the cluster (:func:`embed_on_ray`), then writes the
index (or its shards) as usual with a :class:`PrecomputedEmbedder` that answers from
those vectors: the writers, postings, labels and commits are unchanged, only the
embedding, the cost of a build, is spread over the workers. The texts embedded are the
writer's own: :func:`indexer.passages.passage_texts`, the one function that splits an
article for the index. With the heads on, the articles are then labelled on the cluster
too (:func:`enrich_on_ray`: topic and entities, as :func:`indexer.enrich.enrich`
computes them), and the writers are given a :class:`PrecomputedClassifier` and a
:class:`PrecomputedTagger` answering from them.

``import ray`` happens in :func:`require_ray`, never at import of this module.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from indexer.article import Article
from newsrank.config import HeadsConfig, IndexConfig
from newsrank.errors import NewsrankError
from newsrank.protocols import Tagger, TopicClassifier
from newsrank.types import Entity, LabelScore

#: what the Ray features need installed
EXTRA = "pip install 'newsrank[cluster]'"


def require_ray() -> Any:
    """The ``ray`` module, or an error naming the extra that installs it."""
    try:
        import ray
    except ImportError as exc:
        raise NewsrankError(
            f"this needs Ray, which is not installed: {EXTRA} (for a sharded index, "
            "NEWSRANK_SHARD_BACKEND=local searches every shard in one process instead)"
        ) from exc
    return ray


def connect(address: str | None = None, *, num_cpus: int | None = None) -> Any:
    """Join the Ray cluster at ``address`` (default: ``RAY_ADDRESS``, else a Ray
    running on this machine, else a local Ray started for this process, on loopback);
    already connected: nothing to do."""
    local = address is None and not os.environ.get("RAY_ADDRESS")
    if local and "ray" not in sys.modules:
        # a Ray of this machine only: loopback, not the machine's outward address (Ray
        # reads this when imported; it is what Ray does by default on macOS)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = require_ray()
    if not ray.is_initialized():
        ray.init(
            address=address,
            num_cpus=num_cpus,
            include_dashboard=False,
            log_to_driver=False,
            ignore_reinit_error=True,
            configure_logging=False,
        )
    return ray


class _EmbedBatch:
    """A Ray Data actor: loads the embedder once, embeds batches of ``text``."""

    def __init__(self, model: str, batch_size: int, max_length: int, precision: str) -> None:
        from indexer.dense import Embedder

        self.embedder = Embedder(model, batch_size, max_length, precision=precision)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        texts = [str(t) for t in batch["text"]]
        vectors = self.embedder.encode(texts)
        return {
            "text": np.asarray(texts, dtype=object),
            "vector": vectors,
            "precision": np.asarray([self.embedder.precision] * len(texts), dtype=object),
        }


class PrecomputedEmbedder:
    """An embedder answering from vectors computed beforehand (by :func:`embed_on_ray`);
    a text it was not given is an error (the build would embed what it never planned)."""

    def __init__(self, vectors: dict[str, np.ndarray], model_name: str, precision: str) -> None:
        if not vectors:
            raise ValueError("no vectors: embed the passages first")
        self.vectors = vectors
        self.model_name = model_name
        self.precision = precision
        self.dim = int(len(next(iter(vectors.values()))))

    def encode(
        self, texts: Sequence[str], show_progress: bool = False, queries: bool = False
    ) -> np.ndarray:
        try:
            rows = [self.vectors[t] for t in texts]
        except KeyError as exc:
            raise NewsrankError(
                f"no precomputed vector for the text {str(exc)[:80]}...: embed every "
                "passage of the build first (indexer.distributed.embed_on_ray)"
            ) from None
        if not rows:
            return np.zeros((0, self.dim), np.float32)
        return np.ascontiguousarray(np.stack(rows), dtype=np.float32)


def embed_on_ray(
    texts: Sequence[str],
    config: IndexConfig,
    *,
    workers: int = 2,
    batch_size: int = 64,
    address: str | None = None,
) -> PrecomputedEmbedder:
    """Embed ``texts`` (each distinct one once) with Ray Data: ``map_batches`` over a
    pool of ``workers`` actors, each holding one embedder (1 CPU each); the vectors in
    a :class:`PrecomputedEmbedder` for the writers."""
    if workers < 1:
        raise ValueError(f"workers={workers}: give 1 or more")
    try:
        import pyarrow  # noqa: F401 - Ray Data's format
    except ImportError as exc:
        raise NewsrankError(
            "embedding with Ray Data needs pyarrow: pip install 'ray[data]'"
        ) from exc
    ray = connect(address)
    unique = list(dict.fromkeys(texts))
    if not unique:
        raise NewsrankError("nothing to embed: no passage text")
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    dataset = ray.data.from_items([{"text": t} for t in unique])
    embedded = dataset.map_batches(
        _EmbedBatch,
        fn_constructor_args=(
            config.embedder,
            config.embed_batch_size,
            config.embed_max_length,
            config.embed_precision,
        ),
        batch_size=batch_size,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    vectors: dict[str, np.ndarray] = {}
    precision = "fp32"
    for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
        for text, vector in zip(batch["text"], batch["vector"]):
            vectors[str(text)] = np.asarray(vector, dtype=np.float32)
        if len(batch["precision"]):
            precision = str(batch["precision"][0])
    missing = len(unique) - len(vectors)
    if missing:
        raise NewsrankError(f"Ray Data returned no vector for {missing} passage(s)")
    return PrecomputedEmbedder(vectors, config.embedder, precision)


# -- labels: the topic classifier and the entity tagger on Ray Data ------------------------


@dataclass(frozen=True)
class EnrichHeads:
    """The heads that label articles, by name or path (``HeadsConfig``'s), as a picklable
    loader: each Ray actor calls it once, in its constructor. None: that head is off.

    Any other picklable callable returning ``(classifier, tagger)`` does as well (the
    tests pass one returning small fakes)."""

    topic: str | None = None
    tagger: str | None = None
    precision: str = "auto"

    def __call__(self) -> tuple[TopicClassifier | None, Tagger | None]:
        from heads.loaders import load_heads

        heads = load_heads(
            HeadsConfig(topic=self.topic, tagger=self.tagger, precision=self.precision),
            roles=("topic", "tagger"),
            missing="error",
        )
        return heads.topic, heads.tagger


#: heads loads in this process (a Ray actor's): each actor should load them once
_LOADS = 0


class _EnrichBatch:
    """A Ray Data actor: loads the classifier and the tagger once, then labels batches
    of articles (``title``, ``text``) as :func:`indexer.enrich.enrich` does, answering
    plain JSON (each head's input text with its result) for the driver to rebuild."""

    def __init__(self, load: Callable[[], tuple[Any, Any]], lead_words: int) -> None:
        global _LOADS
        self.classifier, self.tagger = load()
        _LOADS += 1
        self.lead_words = lead_words

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        from indexer.enrich import lead

        titles = [str(t) for t in batch["title"]]
        leads = [lead(str(t), self.lead_words) for t in batch["text"]]
        inputs = [f"{t}. {x}" for t, x in zip(titles, leads)]
        n = len(titles)
        topics = ["null"] * n
        if self.classifier is not None:
            topics = [
                json.dumps([[s.label, s.score] for s in scores])
                for scores in self.classifier.predict(inputs)
            ]
        in_titles = in_leads = ["null"] * n
        if self.tagger is not None:
            in_titles = [_entities_json(found) for found in self.tagger.tag(titles)]
            in_leads = [_entities_json(found) for found in self.tagger.tag(leads)]

        def column(values: Sequence[object]) -> np.ndarray:
            return np.asarray(list(values), dtype=object)

        return {
            "input": column(inputs),
            "topic": column(topics),
            "title": column(titles),
            "title_entities": column(in_titles),
            "lead": column(leads),
            "lead_entities": column(in_leads),
            "pid": np.full(n, os.getpid(), dtype=np.int64),
            "loads": np.full(n, _LOADS, dtype=np.int64),
        }


def _entities_json(found: Sequence[Entity]) -> str:
    return json.dumps([[e.type, e.text, e.start, e.end, e.score] for e in found])


def _entities(text: str) -> list[Entity]:
    return [Entity(t, s, int(a), int(b), float(p)) for t, s, a, b, p in json.loads(text)]


def _missing(what: str, text: str) -> NewsrankError:
    return NewsrankError(
        f"no precomputed {what} for the text {text[:80]!r}...: label every article of "
        "the build first (indexer.distributed.enrich_on_ray)"
    )


class PrecomputedClassifier:
    """A :class:`~newsrank.protocols.TopicClassifier` answering from the scores computed
    beforehand (by :func:`enrich_on_ray`), keyed by input text; a text it was not
    given is an error."""

    def __init__(self, topics: dict[str, list[LabelScore]]) -> None:
        self.topics = topics

    def predict(self, texts: Sequence[str]) -> list[list[LabelScore]]:
        missing = next((t for t in texts if t not in self.topics), None)
        if missing is not None:
            raise _missing("topic", missing)
        return [list(self.topics[t]) for t in texts]


class PrecomputedTagger:
    """A :class:`~newsrank.protocols.Tagger` answering from the entities found
    beforehand (by :func:`enrich_on_ray`), keyed by text; a text it was not given is
    an error."""

    def __init__(self, entities: dict[str, list[Entity]]) -> None:
        self.entities = entities

    def tag(self, texts: Sequence[str]) -> list[list[Entity]]:
        missing = next((t for t in texts if t not in self.entities), None)
        if missing is not None:
            raise _missing("entities", missing)
        return [list(self.entities[t]) for t in texts]


@dataclass
class PrecomputedLabels:
    """What :func:`enrich_on_ray` computed: stand-ins for the heads that were on (None:
    off), and ``loads``, each actor's process id with how many times it had loaded the
    heads when it labelled its batches (1: once per worker). An actor that started but
    got no batch (the others had finished them) is not in it."""

    classifier: PrecomputedClassifier | None
    tagger: PrecomputedTagger | None
    loads: dict[int, int] = field(default_factory=dict)


def enrich_on_ray(
    articles: Sequence[Article],
    heads: Callable[[], tuple[Any, Any]],
    *,
    lead_words: int = IndexConfig.lead_words,
    workers: int = 2,
    batch_size: int = 64,
    address: str | None = None,
) -> PrecomputedLabels:
    """Label ``articles`` with Ray Data: ``map_batches`` over a pool of ``workers``
    actors (1 CPU each), each calling ``heads`` (an :class:`EnrichHeads`, or any
    picklable callable returning ``(classifier, tagger)``) once in its constructor.

    The actors compute what :func:`indexer.enrich.enrich` would: the classifier on
    ``f"{title}. {lead}"``, the tagger on the titles and on the leads (the first
    ``lead_words`` words). Results cross Ray as JSON strings and are rebuilt here into
    the heads' own types (``LabelScore``, ``Entity``), in stand-ins that the writers
    take as the heads: the labels stored are those of a build in one process (exactly,
    for heads whose result does not depend on the batch a text is in, as float32
    models' do; in bfloat16 a score may differ in its last bits, as the embeddings do).

    The embedding (:func:`embed_on_ray`) is a pool of its own, run before this one and
    gone when it is: the two stages read other rows (passages, articles), and a worker
    then holds one model's memory, not the embedder and both heads at once.
    """
    if workers < 1:
        raise ValueError(f"workers={workers}: give 1 or more")
    try:
        import pyarrow  # noqa: F401 - Ray Data's format
    except ImportError as exc:
        raise NewsrankError(
            "labelling with Ray Data needs pyarrow: pip install 'ray[data]'"
        ) from exc
    if not articles:
        raise NewsrankError("nothing to label: no article")
    ray = connect(address)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    rows = list(dict.fromkeys((a.title, a.text) for a in articles))
    dataset = ray.data.from_items([{"title": t, "text": x} for t, x in rows])
    labelled = dataset.map_batches(
        _EnrichBatch,
        fn_constructor_args=(heads, lead_words),
        batch_size=batch_size,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    topics: dict[str, list[LabelScore]] = {}
    entities: dict[str, list[Entity]] = {}
    loads: dict[int, int] = {}
    has_topic = has_tagger = False
    seen = 0
    try:
        batches = list(labelled.iter_batches(batch_size=None, batch_format="numpy"))
    except Exception as exc:  # a head that fails to load in an actor, a lost worker, ...
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        cause = lines[-1] if lines else type(exc).__name__  # Ray's message ends with it
        raise NewsrankError(f"labelling on Ray failed: {cause}") from exc
    for batch in batches:
        seen += len(batch["input"])
        for pid, count in zip(batch["pid"], batch["loads"]):
            loads[int(pid)] = max(loads.get(int(pid), 0), int(count))
        for text, scores in zip(batch["input"], batch["topic"]):
            if scores != "null":
                has_topic = True
                topics[str(text)] = [LabelScore(str(k), float(p)) for k, p in json.loads(scores)]
        for column in ("title", "lead"):
            for text, found in zip(batch[column], batch[f"{column}_entities"]):
                if found != "null":
                    has_tagger = True
                    entities[str(text)] = _entities(found)
    if seen != len(rows):
        raise NewsrankError(f"Ray Data returned labels for {seen} of {len(rows)} article(s)")
    return PrecomputedLabels(
        PrecomputedClassifier(topics) if has_topic else None,
        PrecomputedTagger(entities) if has_tagger else None,
        loads,
    )
