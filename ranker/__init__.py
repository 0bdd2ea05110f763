"""From a query to ranked articles: the search stages and their orchestrator.

- ``request``: the typed request and its validation
- ``retrieve``: BM25 and dense candidates (filters inside both)
- ``ranking``: the typed values passed between stages
- ``fuse``: pure fusion formulas and passage -> article aggregation; the fuse stage
- ``rerank``: the cross-encoder stage over the top articles
- ``read``: the reader stage (answers)
- ``facets``: counts over every matching article
- ``render``: one page of typed hits (snippets, entities, answers in context)
- ``snippet``: pure snippet choice and query-term highlighting
- ``results``: the typed results and their JSON form
- ``search``: the ``Searcher`` that runs the stages over an open index
"""
