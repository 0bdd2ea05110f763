"""XSS in a real browser: hostile data on every page, and nothing of it runs.

The index of tests/hostile.py carries OWASP filter-evasion payloads in every field
(id, title, text, source, URL, entities, the reader's answer). A guard installed
before any page script (DevTools ``Page.addScriptToEvaluateOnNewDocument``) replaces
``alert``/``confirm``/``prompt``/``print`` with recorders and records every CSP
violation, so an injected script that ran *and* one the CSP refused both show up.
Each page is then scanned for markup that is not the page's own. Headless Chromium,
skipped like tests/test_browser.py when it is not installed.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.hostile import ODD_IDS, PAYLOADS, build_hostile_index, open_hostile, payload_id
from tests.test_browser import browser, navigate, page_on_failure, serve  # noqa: F401

pytestmark = pytest.mark.browser

GUARD = """
window.__xss = [];
const record = (kind) => function (...args) { window.__xss.push(kind + ': ' + args[0]); };
for (const name of ['alert', 'confirm', 'prompt', 'print']) {
  Object.defineProperty(window, name, {value: record(name), writable: false});
}
document.addEventListener('securitypolicyviolation', (e) => {
  window.__xss.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample);
});
"""

#: every element the templates write; anything else in a page was injected
SCAN = """
const own = new Set(arguments[0]);
const urlAttrs = new Set(['href', 'src', 'action', 'formaction', 'data', 'poster',
                          'background', 'srcdoc', 'xlink:href', 'ping']);
const found = [];
for (const el of document.querySelectorAll('*')) {
  const tag = el.localName;
  if (!own.has(tag)) found.push('element <' + tag + '>');
  for (const a of el.attributes) {
    const name = a.name.toLowerCase();
    if (name.startsWith('on') || name === 'style') found.push(name + ' on <' + tag + '>');
    if (urlAttrs.has(name)) {
      let protocol = 'unparsable';
      try { protocol = new URL(a.value, location.href).protocol; } catch (e) {}
      if (protocol !== 'http:' && protocol !== 'https:') {
        found.push(name + '=' + a.value + ' on <' + tag + '>');
      }
    }
  }
}
if (document.baseURI !== location.href) found.push('base URI ' + document.baseURI);
if (document.querySelectorAll('meta').length !== 2) found.push('extra <meta>');
if (document.querySelectorAll('link').length !== 1) found.push('extra <link>');
return found;
"""
OWN_TAGS = (
    "html head meta title link body header nav a main form input button details summary "
    "label select option p div aside section h1 h2 h3 ul ol li span strong mark table thead "
    "tbody tr th td meter textarea br code time article"
).split()


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, embedder):
    from tests.fakes import FakeClassifier
    from tests.hostile import PayloadReader, PayloadTagger
    from web import create_app
    from web.engine import Engine

    index = build_hostile_index(tmp_path_factory.mktemp("hostile-browser") / "index", embedder)
    searcher = open_hostile(index, embedder)
    engine = Engine(searcher, FakeClassifier(), PayloadTagger(), PayloadReader())
    return create_app({"ENGINE": engine})


@pytest.fixture(scope="module")
def base(hostile_app):
    yield from serve(hostile_app)


@pytest.fixture(scope="module")
def guarded(browser):  # noqa: F811
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": GUARD})
    return browser


def article_path(app, article_id: str) -> str:
    from web.articles import article_url

    with app.test_request_context():
        return article_url(article_id)


def assert_inert(driver, what: str) -> None:
    """Nothing ran, nothing was refused, and the DOM holds only the page's own markup."""
    ran = driver.execute_script("return window.__xss")
    assert ran == [], (what, ran)  # None: the guard is missing
    problems = driver.execute_script(SCAN, OWN_TAGS)
    assert problems == [], (what, problems)
    log = [e["message"] for e in driver.get_log("browser") if "favicon.ico" not in e["message"]]
    assert not [m for m in log if re.search("Content.Security|Refused|Uncaught", m)], (what, log)


def test_the_guard_sees_a_dialog_and_a_refused_injection(guarded, base):
    """The checks can fail: a dialog call is recorded, and markup injected past the
    escaping has its inline handler refused by the CSP, which the guard records too."""
    guarded.get(base + "/")
    guarded.execute_script("alert('probe')")
    guarded.execute_script(
        "document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=alert(1)>')"
    )
    from selenium.webdriver.support.ui import WebDriverWait

    # the violation event is queued as a task: wait for it
    WebDriverWait(guarded, 5).until(lambda d: len(d.execute_script("return window.__xss")) > 1)
    ran = guarded.execute_script("return window.__xss")
    assert ran[0] == "alert: probe"
    assert any(r.startswith("csp: script-src") for r in ran[1:]), ran
    assert guarded.execute_script(SCAN, OWN_TAGS) == ["element <img>", "onerror on <img>"]
    guarded.get_log("browser")  # drop this probe's console lines


def test_search_pages_with_payload_results_facets_filters_and_queries(guarded, base):
    from selenium.webdriver.common.by import By

    # near-identical payload texts collapse into one story, their titles listed under
    # "N more versions" (a closed disclosure, so read its text content)
    guarded.get(base + "/?" + urlencode({"q": "payload report oil", "k": 60}))
    versions = guarded.find_elements(By.CSS_SELECTOR, "li.result details.versions li a")
    assert versions and all(e.get_attribute("textContent") for e in versions)
    assert_inert(guarded, "search, collapsed")
    # every payload article as a result of its own, with its chips
    guarded.get(base + "/?" + urlencode({"q": "payload report oil", "k": 60, "collapse": "false"}))
    assert guarded.find_element(By.CSS_SELECTOR, ".answer-box .answer-text").text in PAYLOADS
    titles = [e.text for e in guarded.find_elements(By.CSS_SELECTOR, "li.result h2")]
    assert set(titles) >= {f"Payload {i:02d} {p}" for i, p in enumerate(PAYLOADS)}
    chips = {e.text for e in guarded.find_elements(By.CSS_SELECTOR, "p.chips a.chip")}
    assert chips >= set(PAYLOADS)
    sources = {e.text for e in guarded.find_elements(By.CSS_SELECTOR, ".facet-source li a")}
    assert sources & set(PAYLOADS)
    assert_inert(guarded, "search")

    filters = {"q": "payload", "source": PAYLOADS[0], "topic": PAYLOADS[5]}
    guarded.get(base + "/?" + urlencode({**filters, "entity": "MISC=" + PAYLOADS[2]}))
    active = guarded.find_element(By.CSS_SELECTOR, ".active-filters").text
    assert PAYLOADS[0] in active and PAYLOADS[2] in active
    assert_inert(guarded, "filters")

    for payload in PAYLOADS[:10]:
        guarded.get(base + "/?" + urlencode({"q": payload}))
        assert guarded.find_element(By.NAME, "q").get_attribute("value") == payload
        assert_inert(guarded, f"query {payload}")


def test_clicking_a_payload_title_opens_its_article(guarded, base):
    from selenium.webdriver.common.by import By

    guarded.get(base + "/?" + urlencode({"q": PAYLOADS[0] + " payload report", "k": 5}))
    link = guarded.find_element(By.CSS_SELECTOR, "li.result h2 a")
    title = link.text
    navigate(guarded, link.click)
    assert guarded.find_element(By.TAG_NAME, "h1").text == title
    assert_inert(guarded, f"article of {title}")


def test_every_payload_article_page_is_inert(guarded, base, hostile_app):
    from selenium.webdriver.common.by import By

    for i, payload in enumerate(PAYLOADS):
        guarded.get(base + article_path(hostile_app, payload_id(i)))
        h1 = guarded.find_element(By.TAG_NAME, "h1")
        assert h1.text == f"Payload {i:02d} {payload}"
        assert [m.text for m in h1.find_elements(By.CSS_SELECTOR, "mark.ent")] == [payload]
        marks = guarded.find_elements(By.CSS_SELECTOR, ".article-text mark.ent")
        assert [m.text for m in marks] == [payload, payload]  # lead, and the lazy rest
        assert guarded.find_elements(By.CSS_SELECTOR, ".url a") == []  # not a web URL
        assert_inert(guarded, f"article {i} {payload}")


def test_odd_ids_reach_their_article_in_the_browser(guarded, base, hostile_app):
    """Ids with slashes, dot segments, query and fragment characters: the link the
    app writes is the one the browser sends back, so each opens its own article."""
    from selenium.webdriver.common.by import By

    for n, odd in enumerate(ODD_IDS):
        guarded.get(base + article_path(hostile_app, odd))
        assert guarded.find_element(By.TAG_NAME, "h1").text == f"Odd id article {n:02d}", odd
        assert_inert(guarded, f"odd id {odd!r}")


def test_analyze_page_with_payload_text(guarded, base):
    from selenium.webdriver.common.by import By

    guarded.get(base + "/analyze")
    text = "\n".join(PAYLOADS)
    guarded.execute_script("document.querySelector('textarea').value = arguments[0]", text)
    navigate(guarded, guarded.find_element(By.CSS_SELECTOR, "form button").click)
    marked = [e.text for e in guarded.find_elements(By.CSS_SELECTOR, ".marked mark.ent")]
    assert marked == PAYLOADS
    assert guarded.find_element(By.NAME, "text").get_attribute("value") == text
    assert_inert(guarded, "analyze")
