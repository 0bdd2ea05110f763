"""From a query to ranked articles: retrieve -> fuse -> (rerank -> read, with the heads).

- ``results``: the typed request and results
- ``fuse``: pure fusion and passage -> article aggregation
- ``snippet``: pure snippet choice and query-term highlighting
- ``search``: the ``Searcher`` that runs the stages over an index directory
- ``heads``: the fine-tuned BERT heads and their decoding functions
"""
