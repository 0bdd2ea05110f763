"""The newsrank web app: search, article and Analyze pages and a JSON API (Flask app factory).

    app = create_app({"INDEX_DIR": "var/index"})

Resources (the searcher and its models) are opened in ``engine.init_app`` when the
app is created, never at import; an index that is missing stops the start-up with
an error naming the directory and the command that builds it. Every response carries
the security headers of ``web.security`` and one line of ``web.access``'s log. The
write API (``web.admin``) is on only with an ``ADMIN_TOKEN`` (default: the
``NEWSRANK_ADMIN_TOKEN`` environment variable).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from newsrank.config import Settings


def create_app(test_config: Mapping[str, object] | None = None) -> Flask:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX_DIR=os.environ.get("NEWSRANK_INDEX", "var/index"),
        SETTINGS=Settings(),
        SEARCHER=None,  # tests may pass a ready Searcher to share between apps
        ENGINE=None,  # ... or a whole ready web.engine.Engine
        MAX_CONTENT_LENGTH=None,  # None: the settings' web.max_request_bytes
        ADMIN_TOKEN=os.environ.get("NEWSRANK_ADMIN_TOKEN"),  # None: no write API
        POLL_INDEX=None,  # poll for new commits (None: unless SEARCHER/ENGINE is given)
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    settings: Settings = app.config["SETTINGS"]
    if app.config["MAX_CONTENT_LENGTH"] is None:
        app.config["MAX_CONTENT_LENGTH"] = settings.web.max_request_bytes
    app.jinja_env.add_extension("jinja2.ext.do")

    from web import access, admin, api, articles, engine, pages, security

    app.config["ADMIN_TOKEN"] = admin.admin_token(app.config["ADMIN_TOKEN"])
    security.init_app(app)  # headers on every response, safe_link for the templates
    access.init_app(app)  # one line per request on the logger newsrank.web.access
    engine.init_app(app)
    app.add_template_global(pages.mark_entities)
    app.add_template_global(articles.article_url)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)  # POST/DELETE /api/articles (404 without a token)
    api.init_app(app)  # JSON errors for unknown /api paths and wrong methods
    return app
