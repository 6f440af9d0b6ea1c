"""The built site in a real browser, shared by the browser tests: one MkDocs build of the starter knowledge base
(plus two hostile lessons), one local HTTP server and one Chromium (Debian's, through Playwright)."""

from __future__ import annotations

import functools
import json
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, copy_site_kb, lesson_text

CHROMIUM = "/usr/bin/chromium"
XSS_ID = "xss-payloads-lesson"  # refused by the check, generated anyway: the pages must be safe regardless
HOSTILE_SEARCH_ID = "hostile-fields-search-lesson"  # valid, so it is indexed: the search page must be safe too
SUB_PATH = "/kb/"  # the site served from a sub-path, as a GitHub Pages project site is
CSP_PATH = "/csp/"  # the site served with a strict Content-Security-Policy that only adds 'wasm-unsafe-eval'
CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"


@pytest.fixture(scope="session")
def site_kb(model_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The knowledge base whose site the browser tests drive (its index is built with the real model)."""
    root = copy_site_kb(tmp_path_factory.mktemp("browser-site"))
    hostile = lesson_text(
        title=json.dumps("<img src=x onerror=window.__xss=30> Hostile title about invoicing spreadsheets"),
        summary=json.dumps("<script>window.__xss=31</script> A summary with markup that must stay text."),
        sector="other",
    )
    (root / "lessons" / f"{HOSTILE_SEARCH_ID}.md").write_text(hostile, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def site_root(site_kb: Path, model_cache: Path) -> Path:
    """The site built with MkDocs, with the refused hostile lesson generated as if `lessons check` had been skipped."""
    from indexer.core.check import check_file, check_knowledge_base
    from indexer.core.kb import find_root
    from indexer.core.settings import load_settings
    from indexer.search.session import open_session
    from indexer.web.build import GENERATED_DIR, STATIC_DIR, build, static_files, sync
    from indexer.web.options import site_options
    from indexer.web.pages import generate, published
    from indexer.web.search_page import ASSETS, page_files

    root = site_kb
    kb = find_root(explicit=root)
    settings = load_settings(root)
    session = open_session(kb, settings, cache_dir=model_cache)
    shown = set(session.index.ids)
    related = session.related(shown)
    lessons = check_knowledge_base(kb).lessons
    assert HOSTILE_SEARCH_ID in shown  # valid, so indexed and exported to the search page
    search = session.browser_files({lesson.id for lesson in published(lessons)})
    shutil.copy(FIXTURES / f"{XSS_ID}.md", root / "lessons")
    _, refused, _ = check_file(root / "lessons" / f"{XSS_ID}.md", kb.taxonomy)
    assert refused is not None and refused.id not in {lesson.id for lesson in lessons}  # the check refuses it
    files = generate([*lessons, refused], kb.taxonomy, related, site_options(kb, settings))
    files.update(static_files(root / STATIC_DIR, root / GENERATED_DIR))
    files.update(page_files(root))
    files.update({f"{ASSETS}/{name}": content for name, content in search.items()})
    sync(root / GENERATED_DIR, files)
    (root / "lessons" / f"{XSS_ID}.md").unlink()  # out of the knowledge base again, so the CLI can search it
    build(kb, "mkdocs", strict=True)
    return root / "site"


class _SiteHandler(SimpleHTTPRequestHandler):
    """Serves the site at /, at SUB_PATH and, with a strict CSP, at CSP_PATH."""

    def translate_path(self, path: str) -> str:
        for prefix in (SUB_PATH, CSP_PATH):
            if path.startswith(prefix):
                path = "/" + path[len(prefix) :]
        return super().translate_path(path)

    def end_headers(self) -> None:
        if self.path.startswith(CSP_PATH):
            self.send_header("Content-Security-Policy", CSP)
        super().end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def server(site_root: Path):
    handler = functools.partial(_SiteHandler, directory=str(site_root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="session")
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
