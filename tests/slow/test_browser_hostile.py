"""Hostile content and third parties in a real browser: a lesson whose headings are named like the globals
Material's script reads still has a working search, and no request leaves the site's origin."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers import BODY_EN, copy_site_kb, lesson_text

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CLOBBER_ID = "clobber-headings"
CLOBBER_BODY = BODY_EN + "".join(
    f"\n## {name}\n\nWe wrote about {name} here, zebrafish.\n" for name in ("__config", "search", "location", "__search")
)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The starter knowledge base plus a lesson whose headings would clobber globals, built with MkDocs (no index:
    related lessons are not what this tests)."""
    from indexer.core.kb import find_root
    from indexer.core.settings import Settings
    from indexer.web.build import build, prepare

    root = copy_site_kb(tmp_path_factory.mktemp("hostile-site"))
    (root / "lessons" / f"{CLOBBER_ID}.md").write_text(lesson_text(body=CLOBBER_BODY, title='"Headings named like the page globals"'))
    kb = find_root(explicit=root)
    report = prepare(kb, Settings(), related=lambda shown: {})
    assert not [f for f in report.left_out if CLOBBER_ID in f.path]
    build(kb, "mkdocs", strict=True)
    return root / "site"


@pytest.fixture(scope="module")
def origin(hostile_site: Path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(hostile_site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # the test's output is not the place for an access log
        pass


def _search_from_header(tab, query: str) -> list[str]:
    """Type a query into the header's search box and return the results. Material ignores a query typed before its
    search worker has the index, so wait for the network to settle and type again if nothing came."""
    box = tab.locator("input.md-search__input")  # in the header at desktop width
    box.click()
    tab.wait_for_load_state("networkidle")
    for _ in range(3):
        box.fill("")
        box.press_sequentially(query)
        try:
            tab.wait_for_selector(".md-search-result__item", timeout=15000)
            break
        except Exception:
            continue
    return tab.locator(".md-search-result__item").all_inner_texts()


def test_search_works_on_a_page_with_clobbering_headings(page, origin: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{origin}lessons/{CLOBBER_ID}/")
    page.wait_for_selector("dl.lesson-card")
    for name in ("__config", "search", "location", "__search"):
        assert page.locator(f"h2#lesson-{name}").count() == 1, name  # the heading is there, under a prefixed id
        assert page.evaluate(f"document.getElementById({name!r}) === null || document.getElementById({name!r}).tagName !== 'H2'")
    results = _search_from_header(page, "taxonomy")  # the header's search (of the guides) still works on this page
    assert results, results
    assert errors == []


def test_no_request_leaves_the_site_origin(page, origin: str) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(origin)
    page.wait_for_load_state("networkidle")
    # the header's repository link is there, as a plain link: Material's own would ask api.github.com for stars
    assert (page.locator("a.md-source").first.get_attribute("href") or "").startswith("https://github.com/")
    page.goto(f"{origin}lessons/{CLOBBER_ID}/")
    page.wait_for_load_state("networkidle")
    _search_from_header(page, "invoices")
    page.wait_for_load_state("networkidle")
    own = urlsplit(origin).netloc
    outside = [url for url in requests if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != own]
    assert len(requests) > 5 and outside == [], outside


@pytest.fixture(scope="module")
def corpus_origin(tmp_path_factory: pytest.TempPathFactory):
    """The hostile corpus (tests/hostile/) built into a real site, served locally."""
    from indexer.core.kb import find_root
    from indexer.core.settings import Settings
    from indexer.web.build import build, prepare
    from tests.hostile import make_kb
    from tests.hostile.cases import CORPUS

    root = make_kb(tmp_path_factory.mktemp("corpus-site"), {p.name: p.read_bytes() for p in CORPUS.glob("*.md")}, site=True)
    kb = find_root(explicit=root)
    prepare(kb, Settings(), related=lambda shown: {})
    build(kb, "mkdocs")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root / "site")))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def test_no_hostile_payload_runs_in_the_browser(page, corpus_origin: str) -> None:
    from tests.hostile.cases import CASES

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    accepted = [case.name for case in CASES if not case.expect]
    for path in ["", "stats/", "browse/tag/", *(f"lessons/{name}/" for name in accepted)]:
        response = page.goto(corpus_origin + path)
        assert response is not None and response.status == 200, path
        page.mouse.move(10, 10)  # onmouseover payloads need a pointer
        page.wait_for_timeout(50)
        assert page.evaluate("typeof window.__pwned") == "undefined", path
    _search_from_header(page, "script")
    assert page.evaluate("typeof window.__pwned") == "undefined" and dialogs == []
