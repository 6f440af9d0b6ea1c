"""The Atom feed opened in a real browser (Debian's Chromium through Playwright) reads as a page, through feed.xsl."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, REPO

pytestmark = [pytest.mark.slow, pytest.mark.browser]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_the_feed_shows_as_a_readable_list_and_titles_stay_text(page, tmp_path: Path) -> None:
    import datetime as dt

    from indexer.core.check import check_file, check_knowledge_base
    from indexer.core.kb import find_root
    from indexer.web.options import SiteOptions
    from indexer.web.pages import generate

    kb = find_root(explicit=REPO)
    lessons = check_knowledge_base(kb).lessons
    _, hostile, _ = check_file(FIXTURES / "xss-payloads-lesson.md", kb.taxonomy)  # its title holds an <img onerror>
    assert hostile is not None
    files = generate([hostile, *lessons], kb.taxonomy, {}, SiteOptions(today=dt.date(2026, 11, 1)))
    for name in ("feed.xml", "feed.xsl"):
        data = files[name]
        (tmp_path / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(tmp_path)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        # `page` comes from tests/slow/conftest.py: one Playwright instance per session (a second would clash)
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/feed.xml")
        assert "This is a news feed" in page.inner_text("body")
        links = page.eval_on_selector_all("li > a", "els => els.map(e => [e.textContent, e.getAttribute('href')])")
        assert len(links) == 30 and all(href.startswith("lessons/") for _, href in links)
        assert any(text.startswith("<img") for text, _ in links)  # the hostile title shown as text...
        assert page.evaluate("window.__xss") is None  # ...and never run
    finally:
        httpd.shutdown()
