"""The data sets newsrank trains and evaluates on: one reader per data set.

Both :mod:`training` and :mod:`evaluation` read their data through this package, so a
split is defined once and a trained head is scored on exactly the data it was held out
from. ``corpora`` depends only on :mod:`newsrank` and :mod:`indexer` (the demo news
files are located and opened by :mod:`indexer.demo`); it never imports ``training``,
``evaluation``, ``ranker``, ``web`` or ``heads``.

- :mod:`corpora.beir`: BEIR test collections (:class:`~corpora.beir.Collection`);
- :mod:`corpora.smart`: the classic SMART collections (TIME, MED, CRAN, CISI);
- :mod:`corpora.squad`: SQuAD 1.1 questions and the official EM/F1 metric;
- :mod:`corpora.conll`: CoNLL-2003 sentences and the seqeval entity scores;
- :mod:`corpora.classify`: labelled texts for the topic classifiers (AG News, BBC, CSV);
- :mod:`corpora.news`: headline -> body pairs of the demo news and Reuters-21578.
"""
