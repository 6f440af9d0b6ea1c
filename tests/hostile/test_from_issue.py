"""Hostile and awkward issue-form bodies through `lessons from-issue`: each gives a lesson with the intended values
or a clean refusal naming the problem; never a traceback, a guessed number, invalid YAML or an echoed mention."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from indexer.cli import main
from tests.helpers import front_matter, issue_body

ES = {"Language of the lesson": "Español", "Total cost in euros": "18.000 €"}
LONG_TITLE = "Our bakery moved its orders to a cloud ERP " * 4


def run(kb: Path, runner, body: str | bytes) -> tuple[int, str, Path | None]:
    """Run from-issue on a body file; the exit code, all output, and the lesson written (if any)."""
    source = kb / "issue.md"
    source.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    result = runner.invoke(main, ["--root", str(kb), "from-issue", str(source)])
    assert "Traceback" not in result.output and not isinstance(result.exception, (KeyError, ValueError, TypeError))
    written = [p for p in (kb / "lessons").glob("*.md")]
    assert len(written) <= 1
    return result.exit_code, result.output, written[0] if written else None


# answers -> the front-matter values the lesson must hold
ACCEPTED = [
    pytest.param({**ES, "Total cost in euros": "2.400 €"}, {"cost_eur": 2400}, id="spanish-thousands-dot"),
    pytest.param({"Total cost in euros": "2,400 EUR"}, {"cost_eur": 2400}, id="english-thousands-comma"),
    pytest.param({**ES, "Total cost in euros": "2 400"}, {"cost_eur": 2400}, id="space-grouped"),
    pytest.param({**ES, "Total cost in euros": "2\u202f400\u00a0€"}, {"cost_eur": 2400}, id="narrow-no-break-space"),
    pytest.param({**ES, "Total cost in euros": "1.234,56"}, {"cost_eur": 1234.56}, id="spanish-decimal"),
    pytest.param({"Total cost in euros": "1,234.56"}, {"cost_eur": 1234.56}, id="english-decimal"),
    pytest.param({**ES, "Duration in months": "2,5 meses"}, {"duration_months": 2.5}, id="spanish-decimal-months"),
    pytest.param(
        {"Technologies": "TPV, ticketbai, copias de seguridad"},
        {"technologies": ["point-of-sale", "e-invoicing", "backup"]},
        id="spanish-tech",
    ),
    pytest.param({"Technologies": "Facturación Electrónica; CENTRALITA"}, {"technologies": ["e-invoicing", "voip"]}, id="accents-and-case"),
    pytest.param(
        {"Title": "Title: with a colon, # hash & *star [x] {y} 'q' \"d\""},
        {"title": "Title: with a colon, # hash & *star [x] {y} 'q' \"d\""},
        id="yaml-syntax-title",
    ),
    pytest.param(
        {"Title": "yes"[:3] + " no null true 0x10 ~ 2026-01-01"}, {"title": "yes no null true 0x10 ~ 2026-01-01"}, id="yaml-scalars-title"
    ),
    pytest.param({"Title": "Del\x7fete and CSI\x9b in a title line"}, {"title": "Delete and CSI in a title line"}, id="c1-controls"),
    pytest.param(
        {"Title": "\x1b]0;PWNED\x07\x1b[2J Terminal title attack"}, {"title": "]0;PWNED[2J Terminal title attack"}, id="escape-sequences"
    ),
    pytest.param(
        {"Title": "A real title here", "Summary": "### Title\n\nEvil title " * 3},
        {"title": "A real title here"},
        id="title-heading-in-answer",
    ),
    pytest.param({"Sector": "Hostelería"}, {"sector": "hospitality"}, id="sector-in-spanish"),
    pytest.param({"Country": "España"}, {"country": "ES"}, id="country-by-spanish-name"),
    pytest.param({"Country": "germany"}, {"country": "DE"}, id="country-by-english-name"),
]


@pytest.mark.parametrize(("answers", "expected"), ACCEPTED)
def test_awkward_answers_give_the_intended_values(kb: Path, runner, answers: dict, expected: dict) -> None:
    code, output, path = run(kb, runner, issue_body(**answers))
    assert path is not None, output
    front = front_matter(path.read_text(encoding="utf-8"))
    assert {key: front[key] for key in expected} == expected
    assert code == 0, output  # a clean lesson: no error finding


# answers -> the message of the refusal (exit 2, nothing written)
REFUSED = [
    pytest.param({**ES, "Total cost in euros": "2,400"}, "is ambiguous: '2,400' could be 2400 or 2.4", id="spanish-ambiguous"),
    pytest.param({"Total cost in euros": "2.400 €"}, "is ambiguous: '2.400 €' could be 2400 or 2.4", id="english-ambiguous"),
    pytest.param({"Total cost in euros": "9" * 5000}, "has more than 12 digits", id="5000-digit-cost"),
    pytest.param({"Total cost in euros": "lots"}, "'Total cost in euros' is not a number: 'lots'", id="not-a-number"),
    pytest.param({"Total cost in euros": "-300"}, "must not be negative", id="negative"),
    pytest.param({"Total cost in euros": "1.2.3"}, "not a number written with thousands separators", id="bad-grouping"),
    pytest.param(
        {"Sector": "@maintainer see https://evil.example and www.evil.example"},
        "is not one of the choices for 'Sector'",
        id="dropdown-mention-link",
    ),
    pytest.param({"Title": "Ελληνικά"[:0] + "!!! ??? ..."}, "no letters or digits", id="no-letters"),
]


@pytest.mark.parametrize(("answers", "message"), REFUSED)
def test_unusable_answers_are_refused_with_a_message(kb: Path, runner, answers: dict, message: str) -> None:
    code, output, path = run(kb, runner, issue_body(**answers))
    assert code == 2 and message in output and path is None, output


def test_an_echoed_answer_carries_no_mention_link_or_markup(kb: Path, runner) -> None:
    hostile = "@maintainer @org/team https://evil.example www.evil.example [x](javascript:alert(1)) <img src=x> `code` **b**"
    code, output, _ = run(kb, runner, issue_body(Outcome=hostile))
    assert code == 2 and "is not one of the choices for 'Outcome'" in output
    for live in ("@", "://", "www.", "[", "<", "`", "**"):
        assert live not in output.split("Error:", 1)[1], live


def test_a_body_that_is_not_utf8_is_a_clean_error(kb: Path, runner) -> None:
    code, output, path = run(kb, runner, issue_body(Title="Panadería que cambió de ERP").encode("cp1252"))
    assert code == 2 and path is None
    assert "issue.md:3: the issue body is not UTF-8 text (byte 0xED); save it as UTF-8" in output


@pytest.mark.parametrize(
    "title", ["Ελληνικό μάθημα για το ERP μας", "Переход нашей пекарни на облачную ERP", "我们的面包店迁移到云端ERP系统"]
)
def test_a_non_latin_title_gets_a_usable_file_name(kb: Path, runner, title: str) -> None:
    code, output, path = run(kb, runner, issue_body(Title=title))
    assert path is not None and code == 0, output
    assert "lesson-" in path.stem and len(path.stem) >= 15
    assert front_matter(path.read_text(encoding="utf-8"))["title"] == title
    again = run(kb, runner, issue_body(Title=title))  # the same title again is the same file name: refused, not overwritten
    assert again[0] == 2 and "already exists" in again[1]


def test_a_title_too_long_is_written_but_exits_1_with_the_finding(kb: Path, runner) -> None:
    code, output, path = run(kb, runner, issue_body(Title=LONG_TITLE))
    assert code == 1 and path is not None and "title" in output and "error" in output


def test_json_output_is_valid_for_a_lesson_with_errors(kb: Path, runner) -> None:
    source = kb / "issue.md"
    source.write_text(issue_body(Title=LONG_TITLE + "\x7f\x9b"), encoding="utf-8")
    result = runner.invoke(main, ["--root", str(kb), "from-issue", str(source), "--json"])
    data = json.loads(result.output)
    assert result.exit_code == 1 and any(f["level"] == "error" for f in data["findings"])
    yaml.safe_load(Path(data["path"]).read_text(encoding="utf-8").split("\n---\n")[0][4:])  # still valid YAML


def test_thousands_of_heading_lines_are_parsed_quickly(kb: Path, runner) -> None:
    flood = "### Title\n### Summary\n### Sector\n" * 550  # under the 20,000 characters of one answer
    answers = {label: "Some text.\n" + flood for label in ("Context", "What we did", "What happened", "Lessons learned")}
    start = time.perf_counter()
    _, _, path = run(kb, runner, issue_body(**answers))
    assert time.perf_counter() - start < 10
    assert path is not None and front_matter(path.read_text())["title"] == "Our bakery moved its orders to a cloud ERP"


def test_crlf_line_endings_read_like_lf(kb: Path, runner) -> None:
    code, output, path = run(kb, runner, issue_body().replace("\n", "\r\n"))
    assert code == 0 and path is not None, output
    assert front_matter(path.read_text())["cost_eur"] == 18000
