"""Real site builds: `lessons site` with MkDocs and Zensical, and `mkdocs build` through the plugin."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.cli import main
from tests.helpers import REPO, copy_site_kb, topic_lesson

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(model_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_site_kb(tmp_path_factory.mktemp("site"))
    result = CliRunner().invoke(main, ["--root", str(root), "site", "--strict"], env={"LESSONS_CACHE_DIR": str(model_cache)})
    assert result.exit_code == 0, result.output
    assert "Built the site for 45 lessons with mkdocs" in result.output
    return root


def _broken_links(site: Path) -> list[str]:
    """Every relative link or source in the built pages that leads to no file ('page: link')."""
    broken = []
    for page in sorted(site.rglob("*.html")):
        for link in re.findall(r'(?:href|src)="([^"#?]*)', page.read_text()):
            if link and not re.match(r"[a-z]+:|/", link):
                target = (page.parent / link).resolve()
                if not (target.is_file() or (target / "index.html").is_file()):
                    broken.append(f"{page.relative_to(site)}: {link}")
    return broken


def _missing_search_files(site: Path) -> list[str]:
    """The search page's files that its scripts fetch by name (no page links them) and the site lacks."""
    import json

    search = site / "assets" / "search"
    lessons = json.loads((search / "data" / "lessons.json").read_text(encoding="utf-8"))
    ranking = json.loads((search / "data" / "ranking.json").read_text(encoding="utf-8"))
    names = ["engine.js", "weights.js", "rank.js", "cards.js", "vendor/ort-wasm-simd-threaded.wasm", "vendor/ort-wasm-simd-threaded.mjs"]
    names += [f"model/{name}" for name in ("model.onnx", ranking["model"]["weights_name"], "warm-up.onnx", "tokenizer.json")]
    names += [f"data/{kind}-{k}.{ext}" for k in set(lessons["shards"]) for kind, ext in (("vectors", "bin"), ("passages", "json"))]
    return [name for name in names if not (search / name).is_file()]


def _lesson_ids() -> list[str]:
    return sorted(p.stem for p in (REPO / "lessons").glob("*.md"))


def test_every_lesson_page_is_built_with_related_lessons(built: Path) -> None:
    for lesson_id in _lesson_ids():
        page = (built / "site" / "lessons" / lesson_id / "index.html").read_text()
        related = page.split('id="related-lessons"')[1].split("</ul>")[0]
        links = re.findall(r'class="lesson-link" href="\.\./([a-z0-9-]+)/"', related)
        assert len(links) <= 5 + related.count("chosen by the author"), lesson_id
        assert links or "No related lesson yet." in related, lesson_id
    page = (built / "site" / "lessons" / "sensores-iot-bodega-vinos" / "index.html").read_text()
    assert '<div class="lesson-body" lang="es">' in page


def test_related_lessons_come_from_the_author_then_the_index_by_meaning(built: Path) -> None:
    page = (built / "site" / "lessons" / "erp-nube-distribuidora-bebidas" / "index.html").read_text()
    box = page.split('id="related-lessons"')[1]
    related = re.findall(r'class="lesson-link" href="\.\./([a-z0-9-]+)/"', box)
    assert related[:2] == ["cloud-erp-food-distributor", "cloud-erp-furniture-maker-failure"]  # its `related:`, in English
    page = (built / "site" / "lessons" / "e-signature-real-estate-agency" / "index.html").read_text()
    related = re.findall(r'class="lesson-link" href="\.\./([a-z0-9-]+)/"', page.split('id="related-lessons"')[1])
    assert related == ["firma-electronica-gestoria"]  # no `related:` here: found by meaning, across languages


def test_keyword_search_indexes_the_documentation_but_no_lesson(built: Path) -> None:
    index = json.loads((built / "site" / "search" / "search_index.json").read_text())
    pages = {d["location"].split("#")[0] for d in index["docs"]}
    for documentation in ("contributing/", "how-search-works/", "maintaining/", "cli/", "architecture/"):
        assert documentation in pages, documentation
    generated = {page for page in pages if page.startswith(("lessons/", "browse/", "search/")) or page in ("", "stats/")}
    assert not generated  # lessons are searched on the search page; the generated pages only show or list them
    assert any("How a lesson is indexed" in d["title"] for d in index["docs"])  # documentation sections are found
    assert (built / "site" / "search" / "index.html").is_file()  # the lesson search page lives beside lunr's index


def test_generated_pages_reach_the_site_as_generated(built: Path) -> None:
    # the plugin hands these pages to MkDocs without a Markdown pass (before the Zensical test builds over this site)
    for page in ("lessons/cloud-erp-food-distributor", "browse/sector/index", "index", "stats"):
        source = (built / "docs" / "generated" / f"{page}.md").read_text().split("\n---\n", 1)[1].strip()
        html = (built / "site" / page.removesuffix("index") / "index.html").read_text()
        assert source in html, page


def test_every_link_of_the_mkdocs_site_leads_somewhere(built: Path) -> None:
    assert _broken_links(built / "site") == [] and _missing_search_files(built / "site") == []


def test_feed_and_home(built: Path) -> None:
    assert (built / "site" / "feed.xml").read_bytes().startswith(b"<?xml")
    assert (built / "site" / "feed.xsl").is_file()  # the stylesheet that shows the feed as a page in a browser
    home = (built / "site" / "index.html").read_text()
    assert '<strong id="lesson-count">45</strong>' in home and 'href="feed.xml"' in home
    # the header's repository link, from lessons.toml [site] repo_url
    assert re.search(r'href="https://github\.com/lessons-kb/lessons-kb"[^>]*class="md-source"', home), "no repository link"


def test_zensical_builds_every_lesson_page(built: Path, model_cache: Path) -> None:
    env = {"LESSONS_CACHE_DIR": str(model_cache)}
    result = CliRunner().invoke(main, ["--root", str(built), "site", "--engine", "zensical"], env=env)
    assert result.exit_code == 0, result.output
    for lesson_id in _lesson_ids():
        page = built / "site" / "lessons" / lesson_id / "index.html"
        assert page.is_file(), lesson_id
        assert "lesson-card" in page.read_text()
    # Zensical resolves every relative link of a page against its Markdown file: the pages are written for that
    assert _broken_links(built / "site") == []
    assert _missing_search_files(built / "site") == []


def test_mkdocs_build_runs_the_plugin(model_cache: Path, tmp_path: Path) -> None:
    root = copy_site_kb(tmp_path)
    (root / "lessons" / "broken-one.md").write_text(topic_lesson("broken", outcome="sucess"))
    env = dict(os.environ, LESSONS_CACHE_DIR=str(model_cache), NO_MKDOCS_2_WARNING="1")
    mkdocs = [sys.executable, "-m", "mkdocs", "build"]
    proc = subprocess.run(mkdocs, cwd=root, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "broken-one.md:8:10: error: [invalid-choice]" in proc.stderr and "left out of the site" in proc.stderr
    assert (root / "site" / "lessons" / "cloud-erp-food-distributor" / "index.html").is_file()
    assert not (root / "site" / "lessons" / "broken-one").exists()
    strict = subprocess.run([*mkdocs, "--strict"], cwd=root, env=env, capture_output=True, text=True)
    assert strict.returncode != 0  # a lesson left out is a warning, and --strict refuses warnings
    (root / "lessons" / "broken-one.md").unlink()
    clean = subprocess.run([*mkdocs, "--strict"], cwd=root, env=env, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr[-3000:]


def test_mkdocs_serve_shows_an_edited_lesson(model_cache: Path, tmp_path: Path) -> None:
    import socket
    import time
    import urllib.request

    root = copy_site_kb(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, LESSONS_CACHE_DIR=str(model_cache), NO_MKDOCS_2_WARNING="1")
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/lessons/crm-engineering-consultancy-abandoned/"

    def title() -> str:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode().split('<h1 class="lesson-title">')[1].split("<")[0]
        except (OSError, IndexError):
            return ""

    try:
        deadline = time.monotonic() + 120
        while not title() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert title().startswith("We dropped our CRM")
        path = root / "lessons" / "crm-engineering-consultancy-abandoned.md"
        path.write_text(path.read_text().replace('title: "We dropped', 'title: "Edited: we dropped', 1))
        deadline = time.monotonic() + 60
        while not title().startswith("Edited") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert title().startswith("Edited: we dropped our CRM")
    finally:
        server.terminate()
        server.wait(20)
