"""The search engine behind the app: opened once per process in ``init_app``."""

from __future__ import annotations

from flask import Flask, current_app

from ranker.search import Searcher


def init_app(app: Flask) -> None:
    searcher = app.config.get("SEARCHER")
    if searcher is None:
        settings = app.config["SETTINGS"]
        searcher = Searcher(app.config["INDEX_DIR"], settings.search)
    app.extensions["newsrank.searcher"] = searcher


def get_searcher() -> Searcher:
    return current_app.extensions["newsrank.searcher"]
