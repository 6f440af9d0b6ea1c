"""The built site in a real browser: Playwright driving Debian's Chromium against a local HTTP server."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.helpers import REPO
from tests.slow.conftest import XSS_ID

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = REPO / "artifacts" / "screenshots"


def test_home_shows_the_lesson_count(page, server: str, site_root: Path) -> None:
    page.goto(server)
    count = len([p for p in (site_root / "lessons").iterdir() if (p / "index.html").is_file()])
    assert page.locator("#lesson-count").inner_text() == str(count) == "47"  # 45 starter lessons and two hostile ones
    page.locator(".lesson-search-cta a").click()  # the home page's "Has anyone tried this?" button
    page.wait_for_selector("h1:has-text('Has anyone tried this?')")
    assert page.url.endswith("/search/")


def test_click_through_sector_to_lesson_to_related(page, server: str) -> None:
    page.goto(server)
    page.get_by_role("link", name="Browse", exact=True).first.click()
    page.locator("h2 a", has_text="Sectors").click()
    page.get_by_role("link", name="Manufacturing").click()
    page.wait_for_selector("ul.lesson-list")
    assert page.locator("h1").inner_text() == "Sector: Manufacturing"
    first = page.locator("a.lesson-link").first
    title = first.inner_text()
    first.click()
    page.wait_for_selector("dl.lesson-card")
    assert page.locator("h1").inner_text() == title
    related = page.locator("#related-lessons ~ ul.lesson-list a.lesson-link")
    assert 1 <= related.count() <= 5  # only lessons above the related thresholds are listed
    for i in range(related.count()):
        name = related.nth(i).inner_text()
        href = related.nth(i).get_attribute("href")
        response = page.request.get(urljoin(page.url, href))
        assert response.status == 200, href
        assert html.escape(name) in response.text()  # titles are escaped (one related lesson may be the hostile one)
    related.first.click()
    page.wait_for_selector("dl.lesson-card")
    assert "/lessons/" in page.url and page.locator("dl.lesson-card").count() == 1


def _search(page, server: str, query: str) -> list[str]:
    page.goto(server + "stats/")
    box = page.locator("input.md-search__input")  # the header's search box
    box.click()
    box.press_sequentially(query)  # Material's search reads key presses
    page.wait_for_selector(".md-search-result__item", timeout=15000)
    return page.locator(".md-search-result__item").all_inner_texts()


def test_header_search_answers_from_the_documentation_only(page, server: str) -> None:
    results = _search(page, server, "taxonomy")  # a word of the guides: they keep their keyword search
    links = page.locator("a.md-search-result__link").evaluate_all("links => links.map((a) => a.getAttribute('href'))")
    assert results and links and not any("lessons/" in link for link in links), links
    assert not any("Sector" in r and "Company size" in r for r in results), results  # no run-together card text


def test_header_search_leaves_lesson_bodies_to_the_lesson_search(page, server: str) -> None:
    assert _search(page, server, "taxonomy")  # the keyword index is loaded and answers
    box = page.locator("input.md-search__input")
    box.fill("")
    box.press_sequentially("geocoded")  # a word only in the courier lesson's body
    link = page.locator("a.lesson-search-link")
    link.wait_for(state="visible")
    assert "geocoded" in link.inner_text()
    page.wait_for_timeout(1000)
    assert page.locator(".md-search-result__item").count() == 0  # the lesson is found on the search page, not here


def test_header_search_leads_to_the_lesson_search(page, server: str) -> None:
    _search(page, server, "e-invoicing")
    link = page.locator("a.lesson-search-link")
    assert "e-invoicing" in link.inner_text()
    page.locator("input.md-search__input").press("Enter")
    page.wait_for_url("**/search/?q=e-invoicing")
    page.wait_for_function("document.documentElement.dataset.searchState === 'semantic'", timeout=60000)


def test_hostile_lesson_runs_nothing(page, server: str) -> None:
    messages = []
    page.on("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    for path in (f"lessons/{XSS_ID}/", "", "browse/sector/other/", "stats/"):
        page.goto(server + path)
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
        assert page.evaluate("typeof window.__xss") == "undefined", path
    body_links = page.locator(".lesson-body a")
    page.goto(server + f"lessons/{XSS_ID}/")
    for i in range(body_links.count()):
        assert not (body_links.nth(i).get_attribute("href") or "").lower().startswith(("javascript", "data"))
    assert "Hostile markup in every field" in page.locator("h1").inner_text()
    assert page.evaluate("typeof window.__xss") == "undefined" and messages == []


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and ((name == "href" and tag in {"a", "link"}) or (name == "src" and tag in {"script", "img"})):
                self.urls.append(value)


def test_crawl_finds_no_broken_internal_link_or_asset(server: str) -> None:
    seen, queue, broken = {server}, deque([server]), []
    while queue:
        url = queue.popleft()
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                kind, body = response.headers.get_content_type(), response.read()
        except urllib.error.HTTPError as exc:
            broken.append(f"{url}: {exc.code}")
            continue
        if kind != "text/html":
            continue
        parser = _Links()
        parser.feed(body.decode("utf-8", "replace"))
        for link in parser.urls:
            target = urljoin(url, link).split("#")[0]
            if target.startswith(server) and target not in seen:
                seen.add(target)
                queue.append(target)
    assert broken == [], broken[:10]
    assert len(seen) > 300  # every lesson, browse page, asset and feed was reached


def test_screenshots_of_a_lesson_page(browser, server: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})):
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        tab = context.new_page()
        tab.goto(server + "lessons/cloud-erp-furniture-maker-failure/")
        path = ARTIFACTS / f"lesson-{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        context.close()
        assert path.stat().st_size > 10_000
        assert re.match(rb"\x89PNG", path.read_bytes()[:4])
