"""`lessons init`, `doctor` and `samples`: a new knowledge base that passes its own checks, the maintainer's
checklist read from the files, and the starter files kept equal to this repository's own."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from indexer.cli import main
from indexer.contrib.init import STARTER_ONLY, planned_files, shared_files
from indexer.contrib.issue_form import render_issue_form
from indexer.core.kb import find_root
from indexer.core.settings import load_settings
from indexer.web.build import prepare
from tests.helpers import REPO


def _init(runner, folder: Path, *options: str):
    return runner.invoke(main, ["init", str(folder), *options])


def _run(runner, root: Path, *args: str):
    return runner.invoke(main, ["--root", str(root), *args])


def test_starter_files_are_this_repositorys_own() -> None:
    pairs = shared_files(REPO)
    assert len(pairs) >= 12  # workflows, constraints, template, taxonomy, samples, stylesheet, guides
    for stored, own in pairs:
        assert stored.read_bytes() == own.read_bytes(), f"{own} changed: run .venv/bin/python scripts/sync-starter"
    assert set(planned_files("x")) >= STARTER_ONLY


@pytest.mark.parametrize("options", [(), ("--no-samples",), ("--domain", "generic"), ("--domain", "generic", "--no-samples")])
def test_init_makes_a_knowledge_base_that_passes_strict_check(runner, tmp_path: Path, options: tuple[str, ...]) -> None:
    target = tmp_path / "my-kb"
    result = _init(runner, target, *options)
    assert result.exit_code == 0, result.output
    for rel in ("lessons.toml", "mkdocs.yml", ".gitignore", "docs/assets/lessons.css", "docs/contributing.md", "docs/maintaining.md"):
        assert (target / rel).is_file(), rel
    workflows = sorted(p.name for p in (target / ".github" / "workflows").glob("*.yml"))
    assert workflows == sorted(p.name for p in (REPO / ".github" / "workflows").glob("*.yml"))
    lessons = sorted(p.stem for p in (target / "lessons").glob("*.md"))
    assert (lessons == []) == ("--no-samples" in options)
    check = _run(runner, target, "check", "--strict")
    assert check.exit_code == 0, check.output
    kb = find_root(explicit=target)
    assert (target / ".github/ISSUE_TEMPLATE/lesson.yml").read_text() == render_issue_form(kb.taxonomy)
    generic = "generic" in options
    assert bool(kb.taxonomy.business_functions) is not generic
    assert all(("business_function:" in (target / "lessons" / f"{i}.md").read_text()) is not generic for i in lessons)
    settings = tomllib.loads((target / "lessons.toml").read_text())
    assert ("organisations" in settings["site"]["description"]) is generic
    prepare(kb, load_settings(target))  # the home page says who shares the lessons, in the domain's words
    home = (target / "docs" / "generated" / "index.md").read_text()
    assert ("Lessons learned by organisations" in home) is generic and ("small and medium businesses" in home) is not generic
    # the company size in the domain's words: the card, the browse pages, the search filter and the issue form
    said, unsaid = ("Organisation size", "Company size") if generic else ("Company size", "Organisation size")
    generated = target / "docs" / "generated"
    pages = "\n".join(p.read_text() for folder in ("lessons", "browse") for p in (generated / folder).rglob("*.md"))
    assert said in pages and unsaid not in pages
    assert f'data-size-name="{said}"' in (generated / "search" / "index.md").read_text()
    form = (target / ".github/ISSUE_TEMPLATE/lesson.yml").read_text()
    assert f"label: {said}" in form and unsaid not in form
    assert ("How many people work in your organisation?" in form) is generic
    assert yaml.safe_load((target / "mkdocs.yml").read_text())["site_name"] == "my-kb"
    requirement = (target / ".github" / "requirements" / "validate.txt").read_text()
    assert re.search(r"^lessons-kb @ git\+https://github\.com/\S+@v\d+\.\d+\.\d+$", requirement, re.M), requirement


def test_init_never_overwrites_and_writes_nothing_when_it_would(runner, tmp_path: Path) -> None:
    target = tmp_path / "kb"
    (target / "lessons").mkdir(parents=True)
    (target / "lessons.toml").write_text("# mine\n")
    (target / "mkdocs.yml").write_text("site_name: mine\n")
    result = _init(runner, target)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "lessons.toml" in result.output and "mkdocs.yml" in result.output and "never overwrites" in result.output
    assert (target / "lessons.toml").read_text() == "# mine\n"
    assert sorted(p.name for p in target.rglob("*")) == ["lessons", "lessons.toml", "mkdocs.yml"]
    (target / "mkdocs.yml").unlink()
    (target / "lessons.toml").unlink()
    assert _init(runner, target).exit_code == 0  # an existing empty folder is fine
    (tmp_path / "file").write_text("x")
    assert _init(runner, tmp_path / "file").exit_code == 2


def test_doctor_lists_what_is_left_then_passes(runner, tmp_path: Path) -> None:
    target = tmp_path / "kb"
    assert _init(runner, target).exit_code == 0
    result = _run(runner, target, "doctor", "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    todo = {item["id"] for item in report["items"] if not item["ok"]}
    assert todo == {"repo-url", "site-url", "samples"} and report["todo"] == 3
    assert any("Pages" in reminder for reminder in report["reminders"])
    settings = (target / "lessons.toml").read_text()
    settings = settings.replace("https://github.com/OWNER/REPOSITORY", "https://github.com/builders/lessons")
    (target / "lessons.toml").write_text(settings.replace('url = ""', 'url = "https://builders.github.io/lessons/"'))
    removed = _run(runner, target, "samples", "--remove")
    assert removed.exit_code == 0 and removed.output.count("Removed ") == 3, removed.output
    assert list((target / "lessons").glob("*.md")) == []
    done = _run(runner, target, "doctor")
    assert done.exit_code == 0, done.output
    assert "TODO" not in done.output and "Everything a file can show is set up." in done.output


def test_doctor_catches_a_form_that_labels_lesson_and_a_missing_workflow(runner, tmp_path: Path) -> None:
    target = tmp_path / "kb"
    assert _init(runner, target, "--no-samples").exit_code == 0
    form = target / ".github" / "ISSUE_TEMPLATE" / "lesson.yml"
    form.write_text(form.read_text().replace("- submitted", "- lesson"))
    workflow = target / ".github" / "workflows" / "issue-to-pr.yml"
    workflow.write_text(workflow.read_text().replace("label.name == 'lesson'", "label.name == 'accepted'"))
    (target / ".github" / "workflows" / "review-comment.yml").unlink()
    result = _run(runner, target, "doctor")
    assert result.exit_code == 1
    for expected in ("TODO form-label", "'submitted' only", "TODO workflow-label", "'accepted'", "TODO workflows", "review-comment.yml"):
        assert expected in result.output, expected
    # a taxonomy edited without regenerating the form: the form offers old choices
    assert "TODO issue-form" in result.output  # the label edit above already made it differ from the generated form
    form.write_text(render_issue_form(find_root(explicit=target).taxonomy))
    assert "ok   issue-form" in _run(runner, target, "doctor").output
    taxonomy = target / "lessons" / "taxonomy.yml"
    taxonomy.write_text(taxonomy.read_text().replace("sectors:\n", 'sectors:\n  beekeeping: "Beekeeping"\n', 1))
    stale = _run(runner, target, "doctor")
    assert "TODO issue-form" in stale.output and "lessons issue-form -o .github/ISSUE_TEMPLATE/lesson.yml" in stale.output


def test_doctor_on_a_broken_settings_file_exits_3(runner, tmp_path: Path) -> None:
    target = tmp_path / "kb"
    assert _init(runner, target, "--no-samples").exit_code == 0
    (target / "lessons.toml").write_text("[site\n")
    result = _run(runner, target, "doctor")
    assert result.exit_code == 3 and "lessons.toml" in result.output


def test_samples_lists_without_removing(runner, tmp_path: Path) -> None:
    target = tmp_path / "kb"
    assert _init(runner, target).exit_code == 0
    result = _run(runner, target, "samples")
    assert result.exit_code == 0 and result.output.count("Sample: ") == 3
    assert len(list((target / "lessons").glob("*.md"))) == 3


def test_taxonomy_without_business_functions_refuses_one_in_a_lesson(runner, tmp_path: Path) -> None:
    target = tmp_path / "kb"
    assert _init(runner, target, "--domain", "generic").exit_code == 0
    lesson = target / "lessons" / "wifi-upgrade-family-hotel.md"
    lesson.write_text(lesson.read_text().replace("technologies: [wifi-network]", "technologies: [wifi-network]\nbusiness_function: [it]"))
    result = _run(runner, target, "check", str(lesson))
    assert result.exit_code == 1 and "the taxonomy has no business functions" in result.output, result.output


@pytest.mark.parametrize("path", [REPO / "mkdocs.yml", REPO / "indexer" / "starter" / "files" / "mkdocs.yml"])
def test_site_configurations_load_no_web_fonts(path: Path) -> None:
    # Material's default fetches Google Fonts: every visitor's address would go to a third party
    config = yaml.safe_load(path.read_text(encoding="utf-8").replace("!!python/name:", ""))
    assert config["theme"]["font"] is False


def test_init_gives_the_search_pages_runtime_lock(runner, tmp_path: Path) -> None:
    # the deploy workflow runs `npm ci`, which needs the lock file in the knowledge base itself
    result = runner.invoke(main, ["init", str(tmp_path / "kb")])
    assert result.exit_code == 0, result.output
    lock = json.loads((tmp_path / "kb" / "package-lock.json").read_text())
    assert lock == json.loads((REPO / "package-lock.json").read_text())
    assert "npm ci --ignore-scripts" in (tmp_path / "kb" / ".github" / "workflows" / "deploy.yml").read_text()
    assert "node_modules/" in (tmp_path / "kb" / ".gitignore").read_text().splitlines()


def test_hostile_wording_stays_text_on_pages_and_in_the_terminal(runner, tmp_path: Path) -> None:
    target = tmp_path / "kb"
    assert _init(runner, target).exit_code == 0
    taxonomy = target / "lessons" / "taxonomy.yml"
    hostile = '<img src=x onerror=alert(1)>\\u001b[31m\\"\\nsearch: x'  # YAML escapes: ESC, a quote, a line break
    taxonomy.write_text(taxonomy.read_text() + f'wording:\n  company_size: "{hostile}"\n  company: "<b>firm</b>"\n')
    stats = runner.invoke(main, ["--root", str(target), "stats"], color=True)  # as on a terminal: click keeps escapes
    assert stats.exit_code == 0 and "\x1b" not in stats.output and "<img src=x" in stats.output
    kb = find_root(explicit=target)
    prepare(kb, load_settings(target))
    generated = target / "docs" / "generated"
    pages = "\n".join(p.read_text() for folder in ("lessons", "browse", "search") for p in (generated / folder).rglob("*.md"))
    assert "<img" not in pages and "<b>firm" not in pages and "&lt;img src=x onerror=alert(1)&gt;" in pages
    for page in (generated / "browse").rglob("*.md"):  # the title stays one YAML string in the front matter
        front = yaml.safe_load(page.read_text().split("---\n")[1])
        assert set(front) <= {"title", "description", "search", "hide", "lessons"}, page
