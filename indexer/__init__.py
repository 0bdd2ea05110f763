"""From raw articles to a searchable index: ingest -> passages -> store -> lexical/dense index.

The modules follow the data flow:

- ``article``: the typed records (``Article``, ``Passage``)
- ``ingest``: JSONL, CSV and text-folder readers that report bad records and keep good ones
- ``demo``: the bundled demo news, read from two registry packages' data files
- ``passages``: overlapping word windows with character offsets
- ``store``: the SQLite article/passage store
- ``lexical``: BM25 (bm25s) with its tokenizer
- ``dense``: sentence embeddings in FAISS
- ``manifest``: what an index directory holds
- ``build``: all of the above into a directory, swapped in only when complete
"""
