"""A hostile index: XSS payloads in every field of its articles, odd ids, bad URLs.

The payloads (``fixtures/xss_payloads.txt``, one a line) are a representative set of
the OWASP XSS filter-evasion cheat sheet. Payload article ``i`` carries payload ``i``
in its id, title, text (at the start, inside the indexed lead, and again past it),
source, URL and category; ``PayloadTagger`` tags each payload as an entity (one with
a quote-breaking entity type), so facets, chips and marks show them too, and
``PayloadReader`` answers with a payload, so the answer box does. The odd-id
articles have ids that a URL path cannot carry as they are, and non-web URLs.

Used by ``test_article_page.py`` (Flask test client) and ``test_browser_xss.py``.
"""

from __future__ import annotations

from pathlib import Path

from indexer.article import Article
from newsrank.types import Answer, Entity
from tests.fakes import FakeClassifier, FakeTagger

FIXTURES = Path(__file__).parent / "fixtures"
PAYLOADS = [
    line for line in (FIXTURES / "xss_payloads.txt").read_text("utf-8").splitlines() if line
]
LEAD_WORDS = 8
#: the type the tagger gives payload 0, trying to break out of class="ent ent-TYPE"
EVIL_TYPE = 'X"onmouseover="alert(99)'
ODD_IDS = [
    "a/b",
    "a//b",
    "/leading-slash",
    "trailing-slash/",
    "..",
    "a/./b",
    "../../etc/passwd",
    "q?x=1&y=2#frag",
    "100%",
    "sp ace",
    "ünï/ćødé",
    "new\nline",
    "tab\there",
    "back\\slash",
    "%2e%2e/%2F",
]
#: URLs that must never become links (each odd-id article has one)
BAD_URLS = [
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "JAVASCRIPT:alert(1)",
    "jav\tascript:alert(1)",
    "java\nscript:alert(1)",
    "\x00javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "file:///etc/passwd",
    "ftp://example.org/x",
    "/relative/path",
    "mailto:a@example.org",
    "https:evil.example",
    "http://",
]
GOOD = Article(
    "opec-1",
    "OPEC and Russia agree record production cut",
    "OPEC and its allies cut oil output, agreeing on Sunday after a long video call "
    "with Russia to take ten million barrels a day off the market.",
    date="2020-04-12",
    source="Reuters",
    url="https://news.example.org/oil-2",
    category="business",
)


def payload_id(i: int) -> str:
    return f"xss-{i:02d}/{PAYLOADS[i]}"


def payload_articles() -> list[Article]:
    return [
        Article(
            id=payload_id(i),
            title=f"Payload {i:02d} {p}",
            text=f"{p} opened payload report {i:02d} on oil markets. The desk filed more "
            f"words here so that the lead ends well before the second mention. Later {p} "
            "came back.",
            date="2021-01-01",
            source=p,
            url=p,
            category=p,
        )
        for i, p in enumerate(PAYLOADS)
    ]


def odd_articles() -> list[Article]:
    return [
        Article(
            id=odd,
            title=f"Odd id article {n:02d}",
            text=f"Shipping lanes report number {n:02d} with an odd id.",
            source="Odd Wire",
            url=BAD_URLS[n % len(BAD_URLS)],
        )
        for n, odd in enumerate(ODD_IDS)
    ]


def hostile_articles() -> list[Article]:
    return [GOOD, *payload_articles(), *odd_articles()]


class PayloadTagger(FakeTagger):
    """The fake tagger's names, plus every payload (longest first, never overlapping)."""

    def tag(self, texts):
        out = []
        for text, known in zip(texts, super().tag(texts)):
            found, taken = list(known), [(e.start, e.end) for e in known]
            for i, p in sorted(enumerate(PAYLOADS), key=lambda x: -len(x[1])):
                at = text.find(p)
                while at >= 0:
                    end = at + len(p)
                    if all(end <= s or at >= e for s, e in taken):
                        found.append(Entity(EVIL_TYPE if i == 0 else "MISC", p, at, end, 0.99))
                        taken.append((at, end))
                    at = text.find(p, end)
            out.append(sorted(found, key=lambda e: e.start))
        return out


class PayloadReader:
    """Answers with the first payload of a context, confidently."""

    def answer(self, question, contexts, top_k=1):
        out = []
        for i, context in enumerate(contexts):
            hits = [(context.find(p), p) for p in PAYLOADS if p in context]
            if hits:
                at, p = min(hits)
                out.append(Answer(p, 0.9, at, at + len(p), i))
        return out[:top_k]


def build_hostile_index(out: Path, embedder) -> Path:
    from indexer.build import build_index
    from newsrank.config import IndexConfig

    build_index(
        hostile_articles(),
        out,
        IndexConfig(lead_words=LEAD_WORDS),
        embedder=embedder,
        classifier=FakeClassifier(),
        tagger=PayloadTagger(),
        enrichment={"topic": "fake", "tagger": "payload"},
        progress=False,
    )
    return out


def open_hostile(index_dir: Path, embedder, tag_rest: bool = True):
    """A searcher over the hostile index with the payload reader and a full-text
    entity cache; ``tag_rest``: the rest of every text already tagged."""
    from indexer.fulltext import FullTextEntities
    from ranker.search import Searcher

    searcher = Searcher.open(index_dir, embedder=embedder, reader=PayloadReader())
    fulltext = FullTextEntities(index_dir, PayloadTagger(), "payload", lead_words=LEAD_WORDS)
    if tag_rest:
        fulltext.tag_articles(searcher.store, range(searcher.store.n_articles))
    searcher.fulltext = fulltext
    return searcher
