"""Contributing without git (issue form, from-issue), the GitHub workflows, and local hooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from indexer.cli import main
from indexer.contrib.issue_form import QUESTIONS, dropdown_options, lesson_from_issue, parse_issue_body, render_issue_form
from indexer.core.kb import find_root
from indexer.errors import UsageError
from tests.helpers import REPO, front_matter, issue_body

FORM = REPO / ".github" / "ISSUE_TEMPLATE" / "lesson.yml"


@pytest.fixture
def kbase(kb: Path):
    return find_root(explicit=kb)


def test_issue_form_in_repo_is_generated_from_the_taxonomy() -> None:
    taxonomy = find_root(explicit=REPO).taxonomy
    assert FORM.read_text() == render_issue_form(taxonomy), "run: lessons issue-form -o .github/ISSUE_TEMPLATE/lesson.yml"
    form = yaml.safe_load(FORM.read_text())
    dropdowns = {item["id"]: item["attributes"]["options"] for item in form["body"] if item["type"] == "dropdown"}
    assert sorted(dropdown_options(next(q for q in QUESTIONS if q.id == "sector"), taxonomy).values()) == sorted(taxonomy.sectors)
    assert len(dropdowns["sector"]) == len(taxonomy.sectors)
    assert dropdowns["company_size"] == ["Micro (fewer than 10 staff)", "Small (10-49 staff)", "Medium (50-249 staff)"]
    assert len(dropdowns["outcome"]) == 5


def test_from_issue_makes_a_valid_anonymous_lesson(kb: Path, runner) -> None:
    body = kb / "issue.md"
    body.write_text(issue_body())
    result = runner.invoke(main, ["--root", str(kb), "from-issue", str(body), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["id"] == "our-bakery-moved-its-orders-to-a-cloud-erp"
    # only quality warnings: a technology new to the taxonomy, and a body shorter than a full lesson
    assert {(f["level"], f["rule"]) for f in data["findings"]} == {("warning", "unknown-technology"), ("warning", "short-body")}
    text = (kb / "lessons" / "our-bakery-moved-its-orders-to-a-cloud-erp.md").read_text()
    front = front_matter(text)
    assert front["contributor"] == "anonymous" and "Panadería" not in text
    assert (front["sector"], front["company_size"], front["outcome"]) == ("manufacturing", "small", "partial")
    assert front["technologies"] == ["cloud-erp", "e-invoicing", "barcode-scanners"]
    assert (front["cost_eur"], front["country"], front["would_do_again"]) == (18000, "IE", "with-changes")
    assert "## Advice" not in text  # an unanswered optional question leaves no empty section


def test_from_issue_names_the_contributor_only_with_consent(kbase) -> None:
    made = lesson_from_issue(
        issue_body(**{"Publishing your name": "- [X] Publish my name or my organisation's name with the lesson"}), kbase.taxonomy
    )
    assert front_matter(made.text)["contributor"] == "Panadería Ejemplo"


def test_from_issue_with_missing_optional_answers(kbase) -> None:
    optional = {
        "Country": "_No response_",
        "Total cost in euros": "_No response_",
        "Duration in months": "_No response_",
        "Would you do it again?": "_No response_",
        "Language of the lesson": "_No response_",
        "Your name or organisation": "_No response_",
        "Publishing your name": "",
    }
    made = lesson_from_issue(issue_body(**optional), kbase.taxonomy)
    front = front_matter(made.text)
    assert "country" not in front and "cost_eur" not in front and front["language"] == "en"
    assert made.notes == []


def test_from_issue_spanish(kbase) -> None:
    made = lesson_from_issue(issue_body(**{"Language of the lesson": "Español", "Total cost in euros": "18.000 €"}), kbase.taxonomy)
    assert "## Contexto" in made.text and "## Lecciones aprendidas" in made.text
    assert front_matter(made.text)["cost_eur"] == 18000  # the Spanish thousands separator


def test_from_issue_reads_the_knowledge_bases_own_wording(kbase) -> None:
    """A knowledge base whose taxonomy renames the company size asks and reads its form in those words."""
    kbase.taxonomy.wording = {"company_size": {"name": "Organisation size"}, "company": {"name": "organisation"}}
    form = render_issue_form(kbase.taxonomy)
    assert "label: Organisation size" in form and "in your organisation?" in form and "Company size" not in form
    body = issue_body().replace("### Company size", "### Organisation size")
    assert front_matter(lesson_from_issue(body, kbase.taxonomy).text)["company_size"] == "small"
    assert front_matter(lesson_from_issue(issue_body(), kbase.taxonomy).text)["company_size"] == "small"  # a form made before
    missing = body.replace("Small (10-49 staff)", "_No response_")
    with pytest.raises(UsageError, match="does not answer: Organisation size"):
        lesson_from_issue(missing, kbase.taxonomy)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Title": "_No response_"}, "does not answer: Title"),
        ({"Sector": "Bakeries"}, "'Bakeries' is not one of the choices for 'Sector'"),
        ({"What happened": "x" * 20_001}, "the limit is 20,000"),
        ({"Title": "../../../.. ///"}, "no letters or digits"),
    ],
)
def test_from_issue_refuses_unusable_answers(kb: Path, runner, overrides: dict, message: str) -> None:
    body = kb / "issue.md"
    body.write_text(issue_body(**overrides))
    result = runner.invoke(main, ["--root", str(kb), "from-issue", str(body)])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert [p.name for p in (kb / "lessons").iterdir()] == ["taxonomy.yml"]


def test_from_issue_hostile_input_stays_text(kb: Path, runner) -> None:
    hostile = {
        "Title": "../../etc/passwd <script>alert(1)</script> our ERP",
        "What happened": "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3)) went badly.",
        "Country": "<b>XX</b>",
    }
    body = kb / "issue.md"
    body.write_text(issue_body(**hostile))
    result = runner.invoke(main, ["--root", str(kb), "from-issue", str(body), "--json"])
    data = json.loads(result.output)
    created = sorted((kb / "lessons").glob("*.md"))
    assert [p.name for p in created] == ["etc-passwd-script-alert-1-script-our-erp.md"]  # inside lessons/, a plain slug
    text = created[0].read_text()
    body = text.split("\n---\n", 1)[1]
    assert "<script" not in body and "<img" not in body and "&lt;script>" in body  # body HTML kept as visible text
    assert front_matter(text)["title"] == "../../etc/passwd <script>alert(1)</script> our ERP"  # a string, escaped by the site
    assert any("is not a country code or name: left out" in n for n in data["notes"])
    assert "unsafe-link" in {f["rule"] for f in data["findings"]}  # the javascript: link is caught by the check
    assert result.exit_code == 1


def test_from_issue_reads_stdin_and_never_overwrites(kb: Path, runner) -> None:
    first = runner.invoke(main, ["--root", str(kb), "from-issue", "-"], input=issue_body())
    assert first.exit_code == 0, first.output
    again = runner.invoke(main, ["--root", str(kb), "from-issue", "-"], input=issue_body())
    assert again.exit_code == 2 and "already exists" in again.output


def test_parse_issue_body_keeps_unknown_and_out_of_order_headings_as_text() -> None:
    answers = parse_issue_body("### Title\n\nA title long enough\n\n### Summary\n\nSome text\n### Something else\n### Title\n\nEvil\n")
    assert answers["title"] == "A title long enough"  # a later '### Title' is part of an answer, not a new title
    assert answers["summary"] == "Some text\n### Something else\n### Title\n\nEvil"


def test_pre_commit_hook_definitions() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hooks[0]["id"] == "lessons-check" and hooks[0]["entry"].startswith("lessons check")
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    assert any(h["id"] == "lessons-check" for repo in config["repos"] for h in repo["hooks"])
