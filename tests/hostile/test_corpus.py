"""The hostile corpus through check, index, site and search: each command under a timeout, failing on a
traceback, a hang, a live payload in built HTML or the feed, a control character on the terminal, or a wrong
value (a refused lesson published, an accepted one missing)."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.hostile import add_hostile_paths, lesson_markup, live_markup, make_kb, run_lessons
from tests.hostile.cases import CASES, CORPUS, PAYLOAD, Case

ACCEPTED = [case for case in CASES if not case.expect]


def test_corpus_folder_matches_the_table() -> None:
    on_disk = {path.name: path.read_bytes() for path in CORPUS.glob("*.md")}
    table = {case.file: case.content.encode() if isinstance(case.content, str) else case.content for case in CASES}
    assert on_disk == table, "run: python -m tests.hostile.cases"
    assert len(CASES) >= 45


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[dict]], dict[str, str], int]:
    """One `lessons check --format json` over the whole corpus plus the file-system cases."""
    root = make_kb(tmp_path_factory.mktemp("hostile-check"), {path.name: path.read_bytes() for path in CORPUS.glob("*.md")})
    paths = add_hostile_paths(root / "lessons")
    proc = run_lessons(root, "check", "--format", "json", timeout=120)
    by_file: dict[str, list[dict]] = {}
    for finding in json.loads(proc.stdout)["findings"]:
        by_file.setdefault(Path(finding["path"]).name, []).append(finding)
    return by_file, paths, proc.returncode


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_check_reports_each_hostile_file(checked, case: Case) -> None:
    by_file, _, returncode = checked
    errors = {f["rule"] for f in by_file.get(case.file, []) if f["level"] == "error"}
    if case.expect:
        assert errors & case.expect, f"expected one of {sorted(case.expect)}, got {by_file.get(case.file)}"
    else:
        assert not errors, by_file.get(case.file)
    assert returncode == 1


def test_check_reports_file_system_cases(checked) -> None:
    by_file, paths, _ = checked
    for name, rule in paths.items():
        assert rule in {f["rule"] for f in by_file.get(name, [])}, (name, by_file.get(name))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    """The corpus (and the file-system cases) indexed with the real model and built into a real MkDocs site."""
    root = make_kb(tmp_path_factory.mktemp("hostile-site"), {path.name: path.read_bytes() for path in CORPUS.glob("*.md")}, site=True)
    add_hostile_paths(root / "lessons")
    index = run_lessons(root, "index", timeout=600, cache=model_cache)
    assert index.returncode == 0, index.stderr[-2000:]
    site = run_lessons(root, "site", timeout=600, cache=model_cache)
    assert site.returncode == 0, site.stderr[-3000:]
    assert "(left out of the site)" in site.stderr
    return root


@pytest.mark.slow
def test_site_publishes_accepted_lessons_and_only_them(built: Path) -> None:
    published = {path.name for path in (built / "site" / "lessons").iterdir() if (path / "index.html").is_file()}
    assert published == {case.name for case in ACCEPTED}


@pytest.mark.slow
def test_no_live_payload_in_any_built_page_or_the_feed(built: Path) -> None:
    pages = list((built / "site").rglob("*.html"))
    assert len(pages) > 20
    search_page = built / "site" / "search" / "index.html"
    for page in pages:
        text = page.read_text(encoding="utf-8")
        found = live_markup(lesson_markup(text))
        if page == search_page:  # the project's own form and module script; lessons reach that page only as JSON data
            assert found == ["<form>", "<script>"] and PAYLOAD not in text, found
        else:
            assert found == [], page
        assert "\x1b" not in text
    feed = ET.parse(built / "site" / "feed.xml")  # well-formed whatever the titles hold
    titles = [e.text or "" for e in feed.iter("{http://www.w3.org/2005/Atom}title")]
    assert any("<script>" in t for t in titles)  # the payload arrives as text, escaped by the XML writer
    raw = (built / "site" / "feed.xml").read_text(encoding="utf-8")
    assert "<script" not in raw and "<img" not in raw and f"&lt;script&gt;{PAYLOAD}" in raw


@pytest.mark.slow
def test_clobbering_headings_get_prefixed_ids(built: Path) -> None:
    page = (built / "site" / "lessons" / "heading-clobber" / "index.html").read_text(encoding="utf-8")
    for name in ("__config", "search", "location"):
        assert f'id="lesson-{name}"' in page
    assert page.count('id="__config"') == 1  # Material's own


@pytest.mark.slow
@pytest.mark.parametrize("query", [PAYLOAD, "<script>", "\x1b]0;PWNED", "invoices", "javascript:alert(1)"])
def test_search_prints_escaped_text_and_valid_json(built: Path, model_cache: Path, query: str) -> None:
    cache = model_cache
    text = run_lessons(built, "search", query, "--no-refresh", cache=cache)
    assert text.returncode == 0, text.stderr[-2000:]
    as_json = run_lessons(built, "search", query, "--no-refresh", "--json", cache=cache)
    assert as_json.returncode == 0 and "Infinity" not in as_json.stdout and "NaN" not in as_json.stdout
    results = json.loads(as_json.stdout)["results"]
    assert results and all(math.isfinite(hit["score"]) and -1.0 <= hit["score"] <= 1.0 for hit in results)
    assert {hit["id"] for hit in results} <= {case.name for case in ACCEPTED}  # refused lessons are never answers
