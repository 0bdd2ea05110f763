"""The search engine behind the app: opened once per process in ``init_app``.

The searcher (index, embedder, reranker, reader) and the two enrichment heads
(topic classifier, entity tagger, for the Analyze page and API) are loaded when
the app is created, never at import and never per request; every handler shares
them (they are safe to call from the WSGI server's threads).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app

from indexer.fulltext import FullTextEntities
from newsrank.config import HeadsConfig
from newsrank.protocols import QuestionAnswerer, Tagger, TopicClassifier
from ranker.search import Searcher


@dataclass
class Engine:
    """What the handlers share: the searcher and the heads the pages use on their own."""

    searcher: Searcher
    topic: TopicClassifier | None = None
    tagger: Tagger | None = None
    reader: QuestionAnswerer | None = None
    warnings: list[str] = field(default_factory=list)


def init_app(app: Flask) -> None:
    engine = app.config.get("ENGINE")
    if engine is None:
        engine = _load(app)
    app.extensions["newsrank.engine"] = engine


def _load(app: Flask) -> Engine:
    settings = app.config["SETTINGS"]
    searcher = app.config.get("SEARCHER")
    if searcher is not None:  # tests: a ready searcher, heads as it has them
        return Engine(searcher, reader=searcher.reader)
    from heads.loaders import load_heads

    heads = load_heads(settings.heads)
    searcher = Searcher.open(
        app.config["INDEX_DIR"],
        config=settings.search,
        reranker=heads.reranker,
        reader=heads.reader,
        heads=settings.heads,
    )
    warnings = list(heads.warnings)
    searcher.fulltext = _fulltext(searcher, heads.tagger, settings.heads, warnings)
    return Engine(searcher, heads.topic, heads.tagger, heads.reader, warnings)


def _fulltext(
    searcher: Searcher, tagger: Tagger | None, config: HeadsConfig, warnings: list[str]
) -> FullTextEntities | None:
    """The lazy full-text entity cache, when the index was tagged by the loaded tagger.

    An index directory that cannot be written (read-only deployment) only loses the
    lazy part: a warning, and hits keep their title and lead entities.
    """
    enrichment = searcher.manifest.enrichment or {}
    if not config.lazy_full_text or tagger is None or enrichment.get("tagger") != config.tagger:
        return None
    import sqlite3

    try:
        fulltext = FullTextEntities(
            searcher.index_dir,
            searcher.store,
            tagger,
            str(config.tagger),
            lead_words=searcher.manifest.lead_words,
        )
    except (OSError, sqlite3.Error) as exc:
        warnings.append(
            f"full-text entities off: cannot write the cache in {searcher.index_dir} ({exc})"
        )
        return None
    fulltext.start()
    return fulltext


def get_engine() -> Engine:
    return current_app.extensions["newsrank.engine"]


def get_searcher() -> Searcher:
    return get_engine().searcher
