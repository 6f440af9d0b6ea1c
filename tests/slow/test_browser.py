"""The built site in a real browser: Playwright driving Debian's Chromium against a local HTTP server."""

from __future__ import annotations

import functools
import re
import shutil
import threading
import urllib.error
import urllib.request
from collections import deque
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.helpers import FIXTURES, REPO, copy_site_kb

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "artifacts" / "screenshots"
XSS_ID = "xss-payloads-lesson"


@pytest.fixture(scope="module")
def site_root(model_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The starter knowledge base plus the hostile lesson (generated as if `lessons check` had been skipped), built with MkDocs."""
    from indexer.core.check import check_file, check_knowledge_base
    from indexer.core.kb import find_root
    from indexer.core.settings import load_settings
    from indexer.search.session import open_session
    from indexer.web.build import GENERATED_DIR, STATIC_DIR, build, static_files, sync
    from indexer.web.options import site_options
    from indexer.web.pages import generate

    root = copy_site_kb(tmp_path_factory.mktemp("browser-site"))
    kb = find_root(explicit=root)
    session = open_session(kb, load_settings(root), cache_dir=model_cache)
    related = session.related(set(session.index.ids))
    shutil.copy(FIXTURES / f"{XSS_ID}.md", root / "lessons")
    lessons = check_knowledge_base(kb).lessons
    _, hostile, _ = check_file(root / "lessons" / f"{XSS_ID}.md", kb.taxonomy)
    assert hostile is not None and hostile.id not in {lesson.id for lesson in lessons}  # the check refuses it
    lessons.append(hostile)
    files = generate(lessons, kb.taxonomy, related, site_options(kb, load_settings(root)))
    files.update(static_files(root / STATIC_DIR, root / GENERATED_DIR))
    sync(root / GENERATED_DIR, files)
    build(kb, "mkdocs", strict=True)
    return root / "site"


@pytest.fixture(scope="module")
def server(site_root: Path):
    handler = functools.partial(_QuietHandler, directory=str(site_root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup --test installs Debian's chromium")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()


def test_home_shows_the_lesson_count(page, server: str, site_root: Path) -> None:
    page.goto(server)
    count = len([p for p in (site_root / "lessons").iterdir() if (p / "index.html").is_file()])
    assert page.locator("#lesson-count").inner_text() == str(count) == "46"
    assert page.locator(".lesson-search-cta label[for=__search]").is_visible()


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
    assert related.count() == 5
    for i in range(related.count()):
        name = related.nth(i).inner_text()
        href = related.nth(i).get_attribute("href")
        response = page.request.get(urljoin(page.url, href))
        assert response.status == 200, href
        assert name in response.text()
    related.first.click()
    page.wait_for_selector("dl.lesson-card")
    assert "/lessons/" in page.url and page.locator("dl.lesson-card").count() == 1


def _search(page, server: str, query: str) -> list[str]:
    page.goto(server)
    page.locator(".lesson-search-cta label[for=__search]").click()  # the home page's "Has anyone tried this?" button
    box = page.locator("input.md-search__input")
    box.fill(query)
    page.wait_for_selector(".md-search-result__item", timeout=15000)
    return page.locator(".md-search-result__item").all_inner_texts()


def test_search_box_finds_a_word_from_a_body(page, server: str) -> None:
    results = _search(page, server, "geocoded")  # a word only in the courier lesson's body
    assert any("route optimisation" in r for r in results), results


def test_search_box_finds_a_metadata_value(page, server: str) -> None:
    results = _search(page, server, "Water supply")  # the sector name, shown only in the card of that lesson
    assert any("waste collection" in r.lower() for r in results), results


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
