"""End to end in a real browser: Debian's headless Chromium driven by Selenium.

The app runs on 127.0.0.1 under waitress in a background thread (stand-in heads, so
the answer and facets are deterministic). Screenshots go to test-artifacts/.
Skipped when chromium or chromedriver is not installed (`.ci/run` installs them).
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeClassifier, FakeReader, FakeReranker, FakeTagger
from tests.test_pipeline import enriched, enriched_index  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def serve(app) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 under waitress, in a daemon thread;
    yields its base URL, and closes the server afterwards (a fixture's body)."""
    import waitress

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = waitress.create_server(app, host="127.0.0.1", port=port, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.close()


@pytest.fixture(scope="module")
def live_url(enriched):  # noqa: F811
    from web import create_app
    from web.engine import Engine

    searcher = enriched.configured(reranker=FakeReranker("mask"), reader=FakeReader())
    app = create_app({"ENGINE": Engine(searcher, FakeClassifier(), FakeTagger(), FakeReader())})
    yield from serve(app)


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip(
            "chromium and chromedriver are not installed (apt install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console, CSP reports
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(0)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


@pytest.fixture(autouse=True)
def page_on_failure(request, browser):
    """When a test fails, save the page it saw (screenshot and HTML) to test-artifacts/."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        name = request.node.name
        browser.save_screenshot(str(ARTIFACTS / f"{name}-failed.png"))
        (ARTIFACTS / f"{name}-failed.html").write_text(browser.page_source)


def navigate(browser, action) -> None:
    """Run ``action`` (a click or an Enter that loads a page) and wait for the new page.

    Selenium returns from a click as soon as the event is sent, so a lookup right after
    it can see the old page, or no page at all. The old document's ``window`` is marked
    with a fresh token; a new document has a new ``window`` without it. Waiting for the
    mark to be gone and the new document to finish loading removes that race.

    Asking about the old ``<html>`` element instead (``staleness_of``) was flaky: while
    the page unloads, Chrome can answer "Node with given id does not belong to the
    document", a plain ``WebDriverException`` rather than a stale-element one. Any
    driver error during the switch means "not there yet" and the wait polls again.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    token = uuid.uuid4().hex
    browser.execute_script("window.__newsrankNav = arguments[0]", token)
    action()

    def arrived(driver) -> bool:
        try:
            return bool(
                driver.execute_script(
                    "return window.__newsrankNav !== arguments[0]"
                    " && document.readyState === 'complete'",
                    token,
                )
            )
        except WebDriverException:
            return False

    WebDriverWait(browser, 30).until(arrived, "the page did not load after the action")


def test_search_answer_facets_and_narrowing(browser, live_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(live_url + "/")
    box = browser.find_element(By.NAME, "q")
    navigate(
        browser, lambda: box.send_keys("who insists N95 masks guard against the virus?", Keys.ENTER)
    )
    answer = browser.find_element(By.CSS_SELECTOR, ".answer-box .answer-text")
    assert answer.text == "mask makers"
    results = browser.find_elements(By.CSS_SELECTOR, "ol.results li.result")
    assert len(results) == 10
    browser.save_screenshot(str(ARTIFACTS / "search.png"))

    total_before = browser.find_element(By.CSS_SELECTOR, ".summary").text
    facet = browser.find_element(By.CSS_SELECTOR, '.facet-topic a[data-facet="topic"]')
    label = facet.text
    navigate(browser, facet.click)
    chip = browser.find_element(By.CSS_SELECTOR, ".active-filters .chip.active")
    assert label in chip.text
    total_after = browser.find_element(By.CSS_SELECTOR, ".summary").text
    assert int(total_after.split()[0]) < int(total_before.split()[0])
    topics = {e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.result .topic")}
    assert topics == {label}
    browser.save_screenshot(str(ARTIFACTS / "search-facet.png"))


def test_entity_chip_filters(browser, live_url):
    from selenium.webdriver.common.by import By

    browser.get(live_url + "/?q=oil+production+cut")
    chip = browser.find_element(By.CSS_SELECTOR, "p.chips a.ent-ORG")
    assert chip.text == "OPEC"
    navigate(browser, chip.click)
    titles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.result h2")]
    assert titles == ["OPEC and Russia agree record production cut"]


def test_analyze_page_shows_topic_and_entities(browser, live_url):
    from selenium.webdriver.common.by import By

    browser.get(live_url + "/analyze")
    browser.find_element(By.NAME, "text").send_keys(
        "OPEC and Russia cut oil output <script>x</script>"
    )
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "form button").click)
    rows = browser.find_elements(By.CSS_SELECTOR, "table.bars tr")
    assert rows[0].find_element(By.TAG_NAME, "th").text == "Business"
    marked = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".marked mark.ent")]
    assert marked == ["OPEC", "Russia"]
    assert "<script>x</script>" in browser.find_element(By.CSS_SELECTOR, ".marked").text
    browser.save_screenshot(str(ARTIFACTS / "analyze.png"))


def test_front_page_examples_month_bars_and_newest_first(browser, live_url):
    from selenium.webdriver.common.by import By

    from newsrank.config import WebConfig

    browser.get(live_url + "/")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.sources tbody tr")
    assert {r.find_element(By.TAG_NAME, "td").text for r in rows} >= {"BBC", "Reuters", "AP"}
    examples = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".examples a")]
    assert examples == list(WebConfig().example_queries)
    browser.save_screenshot(str(ARTIFACTS / "search-front.png"))

    browser.get(live_url + "/?q=the+coronavirus+pandemic+hits+the+world")
    bars = browser.find_elements(By.CSS_SELECTOR, ".facet-date a[data-month]")
    assert len(bars) >= 5
    assert all(b.find_element(By.TAG_NAME, "meter").size["width"] > 20 for b in bars)
    browser.save_screenshot(str(ARTIFACTS / "search-months.png"))
    march = next(b for b in bars if b.get_attribute("data-month") == "2020-03")
    count = int(march.find_element(By.CSS_SELECTOR, ".count").text)
    navigate(browser, march.click)
    assert browser.find_element(By.NAME, "from").get_attribute("value") == "2020-03-01"
    assert browser.find_element(By.NAME, "to").get_attribute("value") == "2020-03-31"
    dates = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.result .meta")]
    assert dates and all("2020-03-" in d for d in dates)
    assert browser.find_element(By.CSS_SELECTOR, ".summary").text.startswith(f"{count} ")

    navigate(browser, browser.find_element(By.CSS_SELECTOR, 'a[data-sort="date"]').click)
    shown = [
        re.search(r"\d{4}-\d\d-\d\d", e.text)[0]
        for e in browser.find_elements(By.CSS_SELECTOR, "li.result .meta")
    ]
    assert shown == sorted(shown, reverse=True) and len(shown) == min(count, 10)
    assert browser.find_element(By.NAME, "sort").get_attribute("value") == "date"
    log = browser.get_log("browser")
    assert not [e for e in log if "Content Security Policy" in e["message"]], log


def test_a_result_opens_its_article_with_the_query_marked_and_related_stories(browser, live_url):
    from selenium.webdriver.common.by import By

    browser.get(live_url + "/?q=" + "OPEC+production+cut")
    first = browser.find_element(By.CSS_SELECTOR, "ol.results li.result h2 a")
    title = first.text
    navigate(browser, first.click)
    assert browser.find_element(By.TAG_NAME, "h1").text == title
    back = browser.find_element(By.CSS_SELECTOR, ".from-search a")
    assert "OPEC production cut" in back.text
    from indexer.analysis import Tokenizer

    stems = set(Tokenizer()("OPEC production cut"))
    marked = [m.text for m in browser.find_elements(By.CSS_SELECTOR, ".article-text mark")]
    assert any(set(Tokenizer()(m)) & stems for m in marked)  # the query's words, by stem
    related = browser.find_elements(By.CSS_SELECTOR, "section.related li a")
    assert len(related) >= 5 and title not in {r.text for r in related}
    browser.save_screenshot(str(ARTIFACTS / "article-from-search.png"))
    other = related[0].text
    navigate(browser, related[0].click)
    assert browser.find_element(By.TAG_NAME, "h1").text == other
