"""Every string escaped for where it goes: control characters never reach a terminal, the feed stays well-formed,
generated front matter stays YAML, and a lesson's heading ids cannot take the name of a page global."""

from __future__ import annotations

import datetime as dt
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from indexer.cli import main
from indexer.cli.terminal import echo_json
from indexer.core.characters import for_terminal, for_xml, name_of, printable
from indexer.core.check import check_knowledge_base
from indexer.core.kb import find_root
from indexer.web import pages
from indexer.web.fragments import render_body
from indexer.web.options import SiteOptions
from tests.helpers import lesson_text

HOSTILE_TITLE = "Moving \x1b]0;PWNED\x07\x1b[2J our \x01invoices\x7f \x9b31m online \u202eevil\u200b"


def test_terminal_text_shows_controls_as_escapes() -> None:
    shown = for_terminal(HOSTILE_TITLE + "\nnext line\tcolumn")
    assert not any(ch in shown for ch in "\x1b\x07\x01\x7f\x9b\u202e")
    assert "\\x1b]0;PWNED\\x07" in shown and "\\u202e" in shown
    assert "\nnext line\tcolumn" in shown  # layout characters stay


def test_json_output_is_parseable_and_finite(capsys: pytest.CaptureFixture[str]) -> None:
    echo_json({"title": HOSTILE_TITLE, "score": math.inf, "cost": [math.nan, 1.5]})
    out = capsys.readouterr().out
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e") and "Infinity" not in out and "NaN" not in out
    data = json.loads(out)
    assert data["title"].startswith("Moving \x1b]0;PWNED") and data["score"] is None and data["cost"] == [None, 1.5]


def test_check_output_never_prints_a_control_character(kb: Path, runner) -> None:
    (kb / "lessons" / "x\x1b]0;PWNED\x07\x1b[2J.md").write_text(lesson_text(title='"\\e]0;PWNED\\a\\e[2J Moving our invoices"'))
    for args in (["check"], ["check", "--format", "json"]):
        result = runner.invoke(main, ["--root", str(kb), *args])
        assert result.exit_code == 1
        assert "\x1b" not in result.output and "\x07" not in result.output, result.output
        assert "U+001B ESCAPE" in result.output


def test_names_of_invisible_characters() -> None:
    assert name_of("\u202e") == "U+202E RIGHT-TO-LEFT OVERRIDE"
    assert name_of("\x1b") == "U+001B ESCAPE" and name_of("\x9b") == "U+009B CONTROL SEQUENCE INTRODUCER"
    assert printable(HOSTILE_TITLE) == "Moving ]0;PWNED[2J our invoices 31m online evil"
    assert for_xml("a\x01b\x0bc\ufffed") == "abcd"


@pytest.fixture
def hostile_lesson(kb: Path):
    (kb / "lessons" / "good-one.md").write_text(lesson_text())
    lesson = check_knowledge_base(find_root(explicit=kb)).lessons[0]
    # what a generator given an unchecked lesson gets: the checker refuses these characters
    lesson.meta = lesson.meta.model_copy(update={"title": HOSTILE_TITLE, "summary": "A summary \x01 with \x7f controls " * 2})
    return lesson


def test_feed_and_front_matter_survive_control_characters(hostile_lesson) -> None:
    files = pages.generate(
        [hostile_lesson], find_root(explicit=hostile_lesson.path.parent.parent).taxonomy, {}, SiteOptions(today=dt.date(2026, 11, 1))
    )
    feed = ET.fromstring(files["feed.xml"])  # well-formed
    title = feed.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}title")
    assert title is not None and "\x01" not in (title.text or "") and "PWNED" in (title.text or "")
    page = str(files["lessons/good-one.md"])
    front = yaml.safe_load(page.split("---\n")[1])  # MkDocs reads it as YAML: a raw DELETE would make it text
    assert front["title"].startswith("Moving ]0;PWNED") and "\x7f" not in front["title"]


@pytest.mark.parametrize("heading", ["__config", "search", "location", "document", "__search", "lesson-count"])
def test_body_heading_ids_cannot_clobber_globals(heading: str) -> None:
    html = render_body(f'## {heading}\n\ntext [back](#{heading})\n\n<h3 id="{heading}">raw</h3>\n')
    ids = [part.split('"')[0] for part in html.split(' id="')[1:]]
    assert ids and all(i.startswith("lesson-") for i in ids), html
    assert 'href="#lesson-' in html  # a link to the heading follows its id
