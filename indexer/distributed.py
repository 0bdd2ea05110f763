"""Ray for indexing: a Ray cluster joined or started, and passage embedding as Ray Data
``map_batches`` over an actor pool holding the embedder (one load per worker).

A build (``newsrank index build --ray-workers N [--ray-address ADDR]``) first embeds
every passage of its articles on the cluster (:func:`embed_on_ray`), then writes the
index (or its shards) as usual with a :class:`PrecomputedEmbedder` that answers from
those vectors: the writers, postings, labels and commits are unchanged, only the
embedding, the cost of a build, is spread over the workers. The texts embedded are the
writer's own (:func:`passage_texts`: the same windows, title first).

``import ray`` happens in :func:`require_ray`, never at import of this module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from indexer.article import Article
from indexer.passages import retrieval_text, split_passages
from newsrank.config import IndexConfig
from newsrank.errors import NewsrankError

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


def passage_texts(articles: Iterable[Article], config: IndexConfig) -> list[str]:
    """The texts the index writer embeds for ``articles``: each passage window of the
    text, after the title (``indexer.writer``).

    >>> a = Article(id="1", title="Oil", text="Prices fell.")
    >>> passage_texts([a], IndexConfig())
    ['Oil\\nPrices fell.']
    """
    return [
        retrieval_text(a.title, a.text[s:e])
        for a in articles
        for s, e in split_passages(a.text, config.passage_words, config.passage_overlap)
    ]


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
