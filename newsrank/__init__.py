"""newsrank: a news search engine built by fine-tuning BERT.

Packages, in the order data flows through them:

- ``indexer``: ingest -> store (SQLite) -> index (BM25, FAISS) -> enrich
- ``ranker``: retrieve -> fuse -> rerank -> read (and the fine-tuned heads)
- ``web``: render (Flask app and JSON API)
- ``training`` / ``evaluation``: offline tools, never imported when serving
"""

__version__ = "0.1.0"
