"""The page generator on its own: no engine, no index (related lessons given by the test)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from indexer.core.check import check_file, check_knowledge_base
from indexer.core.kb import find_root
from indexer.core.settings import Settings
from indexer.errors import SiteBuildFailed
from indexer.web import pages
from indexer.web.build import prepare, static_files, sync
from indexer.web.fragments import href, url_of
from indexer.web.options import SiteOptions
from tests.helpers import FIXTURES, REPO, make_unreadable_folder, topic_lesson


@pytest.fixture(scope="module")
def starter():
    kb = find_root(explicit=REPO)
    return kb, check_knowledge_base(kb).lessons


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "object", "embed", "input", "math", "style", "base", "form"}:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            scheme = re.sub(r"[\s\x00-\x1f]", "", (value or "")).lower()
            if (
                name.startswith("on")
                or name == "style"
                or (name in {"href", "src", "data", "action"} and scheme.startswith(("javascript:", "vbscript:", "data:")))
            ):
                self.found.append(f"<{tag} {name}={value}>")


def _dangerous(markup: str) -> list[str]:
    parser = _Elements()
    parser.feed(markup)
    return parser.found


def _generate(lessons, taxonomy, related=None, **options):
    return pages.generate(lessons, taxonomy, related or {}, SiteOptions(today=dt.date(2026, 11, 1), **options))


def test_every_published_lesson_has_a_page(starter) -> None:
    kb, lessons = starter
    files = _generate(lessons, kb.taxonomy)
    assert {f"lessons/{lesson.id}.md" for lesson in lessons} <= set(files)
    assert {"index.md", "stats.md", "feed.xml", "browse/index.md", "browse/sector/index.md"} <= set(files)


def test_internal_links_of_generated_pages_resolve(starter) -> None:
    kb, lessons = starter
    files = _generate(lessons, kb.taxonomy, {lessons[0].id: [lessons[1].id]})
    urls = {url_of(path) for path in files} | {url_of("contributing.md")}
    for path, content in files.items():
        if not path.endswith(".md"):
            continue
        for link in re.findall(r'href="([^"]+)"', content):
            if link.startswith(("http", "#", "mailto:")):
                continue
            target = Path(url_of(path) or ".").joinpath(link).as_posix()
            normal = re.sub(r"(^|/)\./", r"\1", str(Path("/" + target).resolve())[1:] + ("/" if link.endswith("/") else ""))
            assert normal in urls or normal.rstrip("/") in urls, (path, link, normal)


def test_relative_links() -> None:
    assert href("lessons/a.md", "browse/sector/x.md") == "../../browse/sector/x/"
    assert href("index.md", "lessons/a.md") == "lessons/a/"
    assert href("browse/sector/x.md", "browse/sector/index.md") == "../"
    assert href("lessons/a.md", "feed.xml") == "../../feed.xml"


def test_lesson_page_shows_card_banner_related_and_links(starter) -> None:
    kb, lessons = starter
    lesson = next(lesson for lesson in lessons if lesson.id == "cloud-erp-furniture-maker-failure")
    files = _generate(
        lessons,
        kb.taxonomy,
        {lesson.id: ["cloud-erp-food-distributor"]},
        repo_url="https://example.org/kb",
        edit_uri="edit/main",
        root=REPO,
    )
    page = files[f"lessons/{lesson.id}.md"]
    assert 'class="lesson-badge lesson-badge--failure"' in page and "€385,000" in page
    assert "Illustrative lesson" in page and "<dt>Would do again</dt><dd>No</dd>" in page
    assert 'href="../../browse/technology/cloud-erp/"' in page and 'href="../../browse/tag/rollback/"' in page
    assert 'href="../cloud-erp-food-distributor/"' in page.split("Related lessons")[1]
    assert 'href="https://example.org/kb/edit/main/lessons/cloud-erp-furniture-maker-failure.md"' in page
    assert 'href="../../contributing/">Add your own experience' in page
    assert '<div class="lesson-body" lang="en">' in page


def test_a_spanish_lessons_card_is_in_spanish_with_countries_by_name(starter) -> None:
    kb, lessons = starter
    files = _generate(lessons, kb.taxonomy, repo_url="https://github.com/example/kb", edit_uri="edit/main", root=REPO)
    page = files["lessons/facturacion-electronica-taller-mecanico.md"]
    card = page.split('<dl class="lesson-card" lang="es" data-search-exclude>')[1].split("</dl>")[0]
    for text in (
        "<dt>Tamaño de la empresa</dt>", "Micro (menos de 10 personas)", "<dt>País</dt>", ">España</a>",
        "<dt>Resultado</dt>", ">Éxito</a>", "<dt>Tecnologías</dt>", ">Facturación electrónica</a>",
        "Comercio al por mayor y al por menor", "<dt>Duración</dt><dd>3 meses</dd>", "<dt>Lo volvería a hacer</dt><dd>Sí</dd>",
        "<dt>Autor</dt><dd>anónimo</dd>",
    ):  # fmt: skip
        assert text in card, text
    assert "Lecciones relacionadas" in page and ">Editar esta lección</a>" in page
    assert 'href="https://github.com/example/kb/issues/new?template=lesson.yml">Comparte tu experiencia</a>' in page
    assert 'href="https://github.com/example/kb/issues/new?template=lesson.yml">Add your own experience</a>' in files["index.md"]
    english = files["lessons/cloud-erp-furniture-maker-failure.md"]
    assert "<dt>Company size</dt>" in english and ">Add your own experience</a>" in english
    assert "España" not in files["index.md"] and " · Spain · " in files["browse/sector/retail-wholesale.md"]


@pytest.mark.parametrize("repo_url", ["javascript:alert(document.domain)//", "data:text/html,x", " "])
def test_a_repository_url_that_is_not_http_gives_no_links(starter, repo_url: str) -> None:
    kb, lessons = starter
    page = _generate(lessons, kb.taxonomy, repo_url=repo_url, root=REPO)["lessons/cloud-erp-furniture-maker-failure.md"]
    assert "Edit this lesson" not in page and "javascript:" not in page and "data:" not in page
    assert 'href="../../contributing/">Add your own experience' in page


def test_related_box_puts_the_authors_choice_first_and_says_when_there_is_none(starter) -> None:
    kb, lessons = starter
    files = _generate(lessons, kb.taxonomy, {"erp-nube-distribuidora-bebidas": ["online-shop-craft-brewery", "cloud-erp-food-distributor"]})
    box = files["lessons/erp-nube-distribuidora-bebidas.md"].split('id="related-lessons"')[1]
    links = re.findall(r'class="lesson-link" href="\.\./([a-z0-9-]+)/"', box)
    # `related:` of this Spanish lesson names its two English siblings: first, marked, and not repeated
    assert links == ["cloud-erp-food-distributor", "cloud-erp-furniture-maker-failure", "online-shop-craft-brewery"]
    # a Spanish page marks them in Spanish
    assert box.count("elegida por el autor") == 2
    assert box.index("elegida por el autor") < box.index("online-shop-craft-brewery")
    unrelated = files["lessons/wifi-upgrade-family-hotel.md"].split('id="related-lessons"')[1]
    assert "No related lesson yet." in unrelated and "lesson-link" not in unrelated.split("</p>")[0]


def test_spanish_lesson_body_has_lang_es(starter) -> None:
    kb, lessons = starter
    files = _generate(lessons, kb.taxonomy)
    assert '<div class="lesson-body" lang="es">' in files["lessons/facturacion-electronica-taller-mecanico.md"]


def test_drafts_and_retracted_are_not_published_superseded_get_a_banner(kb: Path) -> None:
    (kb / "lessons" / "old-one.md").write_text(topic_lesson("old way", status="superseded", superseded_by="new-one"))
    (kb / "lessons" / "new-one.md").write_text(topic_lesson("new way"))
    (kb / "lessons" / "draft-one.md").write_text(topic_lesson("draft", status="draft"))
    (kb / "lessons" / "gone-one.md").write_text(topic_lesson("gone", status="retracted"))
    base = find_root(explicit=kb)
    files = _generate(check_knowledge_base(base).lessons, base.taxonomy)
    assert "lessons/draft-one.md" not in files and "lessons/gone-one.md" not in files
    banner = files["lessons/old-one.md"]
    assert "Superseded" in banner and 'href="../new-one/">Our experience with new way</a>' in banner
    assert '<strong id="lesson-count">2</strong>' in files["index.md"]


def test_hostile_markup_is_sanitised_and_escaped(kb: Path) -> None:
    shutil.copy(FIXTURES / "xss-payloads-lesson.md", kb / "lessons")
    base = find_root(explicit=kb)
    findings, lesson, _ = check_file(kb / "lessons" / "xss-payloads-lesson.md", base.taxonomy)
    assert lesson is not None and any(f.rule == "unsafe-html" for f in findings)  # the check refuses it...
    files = _generate([lesson], base.taxonomy)  # ...and the generator is safe even when the check is skipped
    for path in ("lessons/xss-payloads-lesson.md", "index.md", "browse/sector/other.md", "stats.md"):
        assert _dangerous(files[path].split("---", 2)[2]) == [], path
    page = files["lessons/xss-payloads-lesson.md"]
    assert "&lt;img src=x onerror=window.__xss=20&gt; Hostile markup" in page  # the title, escaped, still readable
    front = page.split("---")[1]
    assert "<" not in front and ">" not in front  # themes print front-matter titles without escaping
    feed = ET.fromstring(files["feed.xml"])
    assert feed.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}title").text.startswith("<img")


def test_stats_page_has_accessible_svg_charts_with_tables(starter) -> None:
    kb, lessons = starter
    page = _generate(lessons, kb.taxonomy)["stats.md"]
    assert page.count("<svg") == 4 and page.count('role="img"') == 4 and page.count("<table>") == 4
    assert "<title id=" in page and "<desc id=" in page and "Which technologies fail most often" in page
    assert "<script" not in page


def test_feed_is_valid_atom_with_latest_lessons(starter) -> None:
    kb, lessons = starter
    files = _generate(lessons, kb.taxonomy, site_url="https://kb.example.org/", feed_entries=5)
    ns = "{http://www.w3.org/2005/Atom}"
    feed = ET.fromstring(files["feed.xml"])
    entries = feed.findall(f"{ns}entry")
    assert len(entries) == 5 and feed.find(f"{ns}title").text and feed.find(f"{ns}updated").text
    for entry in entries:
        assert entry.find(f"{ns}id").text.startswith("https://kb.example.org/lessons/")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00Z", entry.find(f"{ns}updated").text)
        assert entry.find(f"{ns}link").get("href").startswith("https://kb.example.org/lessons/")
    dates = [e.find(f"{ns}updated").text for e in entries]
    assert dates == sorted(dates, reverse=True)
    assert 'href="feed.xml" type="application/atom+xml"' in files["index.md"]


def test_generated_pages_are_left_out_of_the_keyword_search(starter) -> None:
    kb, lessons = starter
    pages_ = {path: str(text) for path, text in _generate(lessons, kb.taxonomy).items() if path.endswith(".md")}
    assert any(path.startswith("lessons/") for path in pages_) and any(path.startswith("browse/") for path in pages_)
    for path, text in pages_.items():  # lunr is for the documentation; lessons have their own search page
        assert text.split("\n---\n")[0].count("search:\n  exclude: true") == 1, path


def test_generated_pages_are_html_that_markdown_leaves_unchanged(starter) -> None:
    import markdown
    import yaml

    # the MkDocs plugin skips Markdown for pages marked prerendered, so Markdown must have nothing to do on them
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    extensions = [next(iter(e)) if isinstance(e, dict) else e for e in config["markdown_extensions"]]
    options = {k: v for e in config["markdown_extensions"] if isinstance(e, dict) for k, v in e.items()}
    renderer = markdown.Markdown(extensions=extensions, extension_configs=options)
    kb, lessons = starter
    files = _generate(lessons, kb.taxonomy, related={"cloud-erp-food-distributor": ["cloud-erp-furniture-maker-failure"]})
    marked = {path: str(text) for path, text in files.items() if "\nlessons:\n  prerendered: true\n" in str(text)}
    assert {path for path in files if path.endswith(".md")} == set(marked)
    for path, text in marked.items():
        body = text.split("\n---\n", 1)[1]
        assert renderer.reset().convert(body) == body.strip(), path


def test_metadata_card_is_left_out_of_the_keyword_search(starter) -> None:
    kb, lessons = starter
    page = _generate(lessons, kb.taxonomy)["lessons/crm-engineering-consultancy-abandoned.md"]
    assert '<dl class="lesson-card" lang="en" data-search-exclude>' in page  # its labels and values ran together in snippets


def test_search_page_is_generated_and_linked_from_home(starter) -> None:
    kb, lessons = starter
    files = _generate(lessons, kb.taxonomy)
    page = files["search/index.md"]
    assert "<h1>Has anyone tried this?</h1>" in page and "search:\n  exclude: true" in page
    assert '<script type="module" src="../assets/search/search.js"></script>' in page
    assert '<a href="../browse/">browse the lessons</a>' in page  # what a visitor without JavaScript can do
    assert '<a class="md-button md-button--primary" href="search/">' in files["index.md"]


def test_prepare_leaves_out_broken_lessons_and_writes_only_changes(kb: Path, tmp_path: Path) -> None:
    (kb / "lessons" / "good-one.md").write_text(topic_lesson("good"))
    (kb / "lessons" / "bad-one.md").write_text(topic_lesson("bad", outcome="sucess"))
    base = find_root(explicit=kb)
    out = tmp_path / "out"
    report = prepare(base, Settings(), out, related=lambda shown: {})
    assert report.lessons == 1 and [f.rule for f in report.left_out] == ["invalid-choice"]
    assert (out / "lessons" / "good-one.md").is_file() and not (out / "lessons" / "bad-one.md").exists()
    assert prepare(base, Settings(), out, related=lambda shown: {}).written == 0  # nothing changed: nothing written (no serve loop)
    (kb / "lessons" / "good-one.md").unlink()
    again = prepare(base, Settings(), out, related=lambda shown: {})
    assert again.removed >= 1 and not (out / "lessons" / "good-one.md").exists()


def test_sync_keeps_gitkeep(tmp_path: Path) -> None:
    (tmp_path / ".gitkeep").write_text("")
    (tmp_path / "stale.md").write_text("old")
    assert sync(tmp_path, {"new.md": "x"}) == (1, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitkeep", "new.md"]


def test_an_unreadable_docs_folder_stops_the_site_with_its_name(kb: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "about.md").write_text("# About\n")
    deep = make_unreadable_folder(docs / "guides")
    with pytest.raises(SiteBuildFailed, match="cannot read"):
        static_files(docs, docs / "generated")
    assert len(deep) > 4096


def test_feed_carries_a_stylesheet_that_browsers_show_as_a_page(starter) -> None:
    kb, lessons = starter
    files = _generate(lessons, kb.taxonomy)
    feed = files["feed.xml"]
    assert isinstance(feed, bytes) and b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>' in feed.split(b"<feed", 1)[0]
    ET.fromstring(feed)  # still well-formed Atom
    xsl = ET.fromstring(files["feed.xsl"])
    assert xsl.tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet"
    assert "disable-output-escaping" not in files["feed.xsl"]  # titles stay text


def test_outcome_chart_shows_counts_and_only_technologies_with_enough_lessons(starter) -> None:
    kb, lessons = starter
    page = _generate(lessons, kb.taxonomy)["stats.md"]
    chart = page.split("Which technologies fail most often")[1].split("<h2>")[0]
    counts = [int(n) for n in re.findall(r">n = (\d+)</text>", chart)]
    assert counts and min(counts) >= 3
    assert "Only technologies with at least 3 lessons are shown" in chart
    fewer = _generate(lessons, kb.taxonomy, chart_min_lessons=1)["stats.md"].split("Which technologies fail most often")[1]
    assert min(int(n) for n in re.findall(r">n = (\d+)</text>", fewer.split("<h2>")[0])) < 3


def test_developer_pages_sit_under_about_in_the_menu() -> None:
    import yaml

    nav = yaml.safe_load((REPO / "mkdocs.yml").read_text())["nav"]
    top = [next(iter(item)) for item in nav]
    assert top == ["Home", "Has anyone tried this?", "Browse", "Statistics", "Contribute", "About"]
    about = [next(iter(item.values())) for item in nav[-1]["About"]]
    assert {"architecture.md", "cli.md", "how-search-works.md"} <= set(about)
