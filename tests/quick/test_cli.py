"""The `lessons` command line through click's CliRunner: exit codes, formats, root discovery, new, schema, stats."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.cli import main
from tests.helpers import REPO, front_matter, lesson_text, make_unreadable_folder


def _write(kb: Path, name: str, text: str) -> Path:
    path = kb / "lessons" / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_clean_exits_0(kb: Path, runner) -> None:
    _write(kb, "good-one.md", lesson_text())
    result = runner.invoke(main, ["--root", str(kb), "check"])
    assert result.exit_code == 0, result.output
    assert "OK: 1 lesson file(s) checked, 0 error(s), 0 warning(s)" in result.output


def test_check_errors_exit_1_with_one_line_each(kb: Path, runner) -> None:
    _write(kb, "bad-one.md", lesson_text(outcome="sucess", sector="retail"))
    result = runner.invoke(main, ["--root", str(kb), "check"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "bad-one.md:" in line]
    assert len(lines) == 2
    assert any(line.endswith("did you mean 'success'?") and ":8:10: error: [invalid-choice]" in line for line in lines)
    assert "FAILED: 1 lesson file(s) checked, 2 error(s), 0 warning(s)" in result.output


def test_warnings_pass_unless_strict(kb: Path, runner) -> None:
    _write(kb, "warn-one.md", lesson_text(technologies="[cloud-erpp]"))
    assert runner.invoke(main, ["--root", str(kb), "check"]).exit_code == 0
    strict = runner.invoke(main, ["--root", str(kb), "check", "--strict"])
    assert strict.exit_code == 1
    assert "error: [unknown-technology]" in strict.output


def test_check_json_format(kb: Path, runner) -> None:
    _write(kb, "bad-one.md", lesson_text(outcome="sucess"))
    result = runner.invoke(main, ["--root", str(kb), "check", "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["errors"] == 1 and data["files"] == 1
    [finding] = data["findings"]
    assert finding["rule"] == "invalid-choice" and finding["line"] == 8 and finding["level"] == "error"


def test_check_named_paths_only(kb: Path, runner) -> None:
    good = _write(kb, "good-one.md", lesson_text())
    _write(kb, "bad-one.md", lesson_text(outcome="sucess"))
    result = runner.invoke(main, ["--root", str(kb), "check", str(good)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "no/such/file.md"], "Error: no/such/file.md: no such file or folder"),
        (["check", "--format", "xml"], "Invalid value for '--format'"),
        (["stats", "--bogus"], "No such option"),
    ],
)
def test_usage_errors_exit_2(kb: Path, runner, args: list[str], message: str) -> None:
    result = runner.invoke(main, ["--root", str(kb), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_root_discovery_from_subfolder_and_env(kb: Path, runner, monkeypatch) -> None:
    _write(kb, "good-one.md", lesson_text())
    sub = kb / "lessons" / "deep"
    sub.mkdir()
    monkeypatch.chdir(sub)
    assert runner.invoke(main, ["check"]).exit_code == 0
    monkeypatch.chdir(kb.parent)
    assert runner.invoke(main, ["check"], env={"LESSONS_ROOT": str(kb)}).exit_code == 0


def test_no_knowledge_base_is_a_usage_error(tmp_path: Path, runner, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["check"], env={"LESSONS_ROOT": ""})
    assert result.exit_code == 2
    assert "no knowledge base found" in result.output


def test_missing_taxonomy_is_an_environment_error(tmp_path: Path, runner) -> None:
    (tmp_path / "lessons").mkdir()
    result = runner.invoke(main, ["--root", str(tmp_path), "check"])
    assert result.exit_code == 3
    assert "taxonomy file not found" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[search\n", "invalid TOML"),
        ("[serach]\n", "unknown section [serach]"),
        ("[search]\ndense_weight = 'high'\n", "dense_weight must be a float"),
        ('[site]\nrepo_url = "javascript:alert(document.domain)//"\n', "[site] repo_url must be an http(s) address"),
        ('[site]\nurl = "data:text/html,<script>x</script>"\n', "[site] url must be an http(s) address"),
        ('[site]\nrepo_url = "https://example.org/\\"onmouseover=x"\n', "[site] repo_url must be an http(s) address"),
        ('[site]\nedit_uri = "javascript:alert(1)"\n', "[site] edit_uri must be a path"),
        ('[site]\nedit_uri = "../../evil"\n', "[site] edit_uri must be a path"),
    ],
)
def test_a_broken_lessons_toml_is_an_environment_error(kb: Path, runner, content: str, message: str) -> None:
    (kb / "lessons.toml").write_text(content)
    result = runner.invoke(main, ["--root", str(kb), "search", "anything", "--no-refresh"])
    assert result.exit_code == 3, result.output
    assert message in result.output and "lessons.toml" in result.output and "Traceback" not in result.output


def test_valid_site_addresses_are_accepted(kb: Path) -> None:
    from indexer.core.settings import load_settings

    (kb / "lessons.toml").write_text(
        '[site]\nurl = "https://kb.example.org/"\nrepo_url = "http://git.example.org:8080/org/kb"\nedit_uri = "-/edit/main/"\n'
    )
    settings = load_settings(kb)
    assert (settings.site_url, settings.repo_url, settings.edit_uri) == (
        "https://kb.example.org/",
        "http://git.example.org:8080/org/kb",
        "-/edit/main/",
    )


def test_a_retired_setting_is_accepted_and_ignored(kb: Path) -> None:
    from indexer.core.settings import load_settings

    # lesson pages left the keyword search (issue 9): knowledge bases made before still have the limit in their file
    (kb / "lessons.toml").write_text("[site]\nsearch_full_text_limit = 2000\nchart_min_lessons = 4\n")
    assert load_settings(kb).chart_min_lessons == 4


def test_git_missing_is_an_environment_error(kb: Path, runner) -> None:
    result = runner.invoke(main, ["--root", str(kb), "review", "--base", "main"], env={"PATH": str(kb)})
    assert result.exit_code == 3, result.output
    assert "git is not installed" in result.output and "Traceback" not in result.output


NEW_ARGS = [
    "new",
    "--title",
    "Our first steps with cloud ERP in a bakery",
    "--sector",
    "manufacturing",
    "--size",
    "small",
    "--outcome",
    "partial",
    "--technology",
    "cloud-erp",
    "--technology",
    "barcode-inventory",
]


def test_new_with_flags_creates_a_checkable_template(kb: Path, runner) -> None:
    result = runner.invoke(main, ["--root", str(kb), *NEW_ARGS])
    assert result.exit_code == 0, result.output
    path = kb / "lessons" / "our-first-steps-with-cloud-erp-in-a-bakery.md"
    text = path.read_text()
    assert "# yaml-language-server: $schema=../schema/lesson.schema.json" in text
    assert (kb / "schema" / "lesson.schema.json").exists()
    for heading in ("## Context", "## What we did", "## What happened", "## Lessons learned", "## Advice", "## Evidence"):
        assert heading in text
    assert "lessons check" in result.output
    check = runner.invoke(main, ["--root", str(kb), "check", "--format", "json"])
    rules = {f["rule"] for f in json.loads(check.output)["findings"]}
    assert rules == {"invalid-length", "short-body"}  # only what the contributor must still write


def test_new_never_overwrites(kb: Path, runner) -> None:
    assert runner.invoke(main, ["--root", str(kb), *NEW_ARGS]).exit_code == 0
    path = kb / "lessons" / "our-first-steps-with-cloud-erp-in-a-bakery.md"
    path.write_text("precious")
    again = runner.invoke(main, ["--root", str(kb), *NEW_ARGS])
    assert again.exit_code == 2 and "already exists" in again.output
    assert path.read_text() == "precious"


def test_new_spanish_template(kb: Path, runner) -> None:
    args = [*NEW_ARGS, "--language", "es", "--title", "Facturación electrónica en un taller pequeño"]
    assert runner.invoke(main, ["--root", str(kb), *args]).exit_code == 0
    text = (kb / "lessons" / "facturacion-electronica-en-un-taller-pequeno.md").read_text()
    assert "## Qué hicimos" in text and "## Lecciones aprendidas" in text


def test_new_without_terminal_lists_missing_flags(kb: Path, runner) -> None:
    result = runner.invoke(main, ["--root", str(kb), "new", "--title", "Something long enough"])
    assert result.exit_code == 2
    assert "--sector" in result.output and "--technology" in result.output


def test_new_refuses_unknown_sector_listing_valid_ones(kb: Path, runner) -> None:
    args = [a if a != "manufacturing" else "bakeries" for a in NEW_ARGS]
    result = runner.invoke(main, ["--root", str(kb), *args])
    assert result.exit_code == 2 and "unknown sector 'bakeries'; valid values: administrative-support" in result.output


def test_schema_copy_in_repo_is_current(runner) -> None:
    result = runner.invoke(main, ["--root", str(REPO), "schema"])
    assert result.exit_code == 0
    stored = (REPO / "schema" / "lesson.schema.json").read_text()
    assert json.loads(result.output) == json.loads(stored), "run: lessons schema -o schema/lesson.schema.json"
    schema = json.loads(stored)
    assert "retail-wholesale" in schema["properties"]["sector"]["enum"]
    assert schema["additionalProperties"] is False


def test_stats_counts(kb: Path, runner) -> None:
    _write(kb, "one-one.md", lesson_text(country="ES"))
    _write(kb, "two-two.md", lesson_text(outcome="failure", technologies="[e-invoicing]"))
    _write(kb, "bad-bad.md", lesson_text(outcome="nope"))
    result = runner.invoke(main, ["--root", str(kb), "stats", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["total"] == 2
    assert data["counts"]["outcome"] == {"success": 1, "failure": 1}
    assert data["counts"]["technology"] == {"e-invoicing": 2, "accounting-software": 1}
    assert data["counts"]["country"] == {"ES": 1, "unknown": 1}
    table = runner.invoke(main, ["--root", str(kb), "stats"])
    assert "2 lessons" in table.output and "Technology" in table.output


def test_every_command_has_help_with_an_example(runner) -> None:
    for name, _command in main.commands.items():
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0
        assert "Examples:" in result.output and f"lessons {name}" in result.output, name


def test_help_and_check_do_not_import_heavy_modules(kb: Path) -> None:
    _write(kb, "good-one.md", lesson_text())
    code = (
        "import sys\n"
        "from indexer.cli import main\n"
        "for args in (['--help'], ['--root', sys.argv[1], 'check']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, e.code\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', 'onnxruntime', 'mkdocs') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(kb)], capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert "HEAVY []" in out


def test_new_prompts_for_missing_values(kb: Path, runner) -> None:
    answers = "Selling our ceramics on two marketplaces\nmanufacturing\nmicro\npartial\nmarketplace, online-shop\nen\n"
    result = runner.invoke(main, ["--root", str(kb), "new", "--interactive"], input=answers)
    assert result.exit_code == 0, result.output
    text = (kb / "lessons" / "selling-our-ceramics-on-two-marketplaces.md").read_text()
    assert "technologies: [marketplace, online-shop]" in text and "outcome: partial" in text


def test_new_prompt_rejects_invalid_choice_and_asks_again(kb: Path, runner) -> None:
    answers = "Selling our ceramics on two marketplaces\nbakeries\nmanufacturing\nmicro\npartial\nmarketplace\nen\n"
    result = runner.invoke(main, ["--root", str(kb), "new", "--interactive"], input=answers)
    assert result.exit_code == 0, result.output
    assert "unknown sector 'bakeries'; valid values: administrative-support" in result.output


def test_new_checks_each_answer_as_typed_and_keeps_the_earlier_ones(kb: Path, runner) -> None:
    """A short title, a misspelt sector, a head count too large, a wrong outcome and a misspelt technology are each
    refused with what to type, then asked again; the lesson is written with every corrected answer."""
    answers = [
        "Short", "Selling our ceramics on two marketplaces",
        "manufactura", "hostelería",
        "12000", "12",
        "failed", "failure",
        "marketplce, tpv", "marketplace, TPV",
        "xx-123-?", "es",
    ]  # fmt: skip
    result = runner.invoke(main, ["--root", str(kb), "new", "--interactive"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    for message in (
        "the title is 5 characters long; write 10 to 120",
        "unknown sector 'manufactura'; did you mean 'manufacturing'?",
        "12000 staff is not a small or medium-sized company",
        "unknown outcome 'failed'; did you mean 'failure'?",
        "unknown technology 'marketplce'; did you mean 'marketplace'?",
        "'xx-123-?' is not a language code",
    ):
        assert message in result.output
    assert "micro (<10 staff), small (<50), medium (<250); or type the number of staff" in result.output
    front = front_matter((kb / "lessons" / "selling-our-ceramics-on-two-marketplaces.md").read_text())
    assert (front["sector"], front["company_size"], front["outcome"]) == ("hospitality", "small", "failure")
    assert front["technologies"] == ["marketplace", "point-of-sale"] and front["language"] == "es"


def test_new_refuses_to_guess_when_a_folder_cannot_be_read(kb: Path, runner) -> None:
    make_unreadable_folder(kb / "lessons" / "archive")
    result = runner.invoke(main, ["--root", str(kb), *NEW_ARGS])
    assert result.exit_code == 3, result.output
    assert "cannot read this folder" in result.output and "Traceback" not in result.output
    assert list((kb / "lessons").glob("*.md")) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sector", "retail"], "unknown sector 'retail'; did you mean 'retail-wholesale'?"),
        (["--sector", "hostelería"], "unknown sector 'hostelería'; did you mean 'hospitality'?"),
        (["--outcome", "failed"], "unknown outcome 'failed'; did you mean 'failure'?"),
        (["--outcome", "Partial success"], "unknown outcome 'Partial success'; did you mean 'partial'?"),
        (["--country", "Spain"], "unknown country 'Spain'; did you mean 'ES'?"),
        (["--country", "Alemania"], "unknown country 'Alemania'; did you mean 'DE'?"),
        (["--country", "Atlantis"], "unknown country 'Atlantis'; write a two-letter ISO code such as ES, DE or IE"),
        (["--technology", "TPV"], "unknown technology 'TPV'; did you mean 'point-of-sale'?"),
        (["--technology", "cloud-erpp"], "unknown technology 'cloud-erpp'; did you mean 'cloud-erp'?"),
        (["--size", "12"], "unknown company size '12'; did you mean 'small'?"),
        (["--since", "2025-13"], "'2025-13' is not a year, a month or a date: write 2025, 2025-03 or 2025-03-14"),
    ],
)
def test_filter_mistakes_suggest_the_value_meant_with_the_search_usage(kb: Path, runner, args: list[str], message: str) -> None:
    """Refused before any index or model is opened; the usage shown is the sub-command's, not the whole tool's."""
    result = runner.invoke(main, ["--root", str(kb), "search", "erp", *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Usage: main search [OPTIONS] [QUERY]" in result.output and "COMMAND [ARGS]" not in result.output


@pytest.mark.parametrize(
    ("text", "day"), [("2025", dt.date(2025, 1, 1)), ("2025-03", dt.date(2025, 3, 1)), ("2025-03-14", dt.date(2025, 3, 14))]
)
def test_since_takes_a_year_a_month_or_a_day(text: str, day: dt.date) -> None:
    from indexer.core.choices import parse_since

    assert parse_since(text) == day


def test_a_usage_error_inside_a_command_shows_that_commands_usage(kb: Path, runner) -> None:
    source = kb / "issue.md"
    source.write_text("### Title\n\n_No response_\n")
    result = runner.invoke(main, ["--root", str(kb), "from-issue", str(source)])
    assert result.exit_code == 2 and "Usage: main from-issue [OPTIONS] SOURCE" in result.output
    assert "Try 'main from-issue --help' for help." in result.output


def test_new_writes_any_title_as_valid_yaml(kb: Path, runner) -> None:
    title = 'Our "ERP": a story of #hashes, colons & del\x7f and csi\x9b'
    args = ["--root", str(kb), "new", "--no-interactive", "--title", title, "--sector", "manufacturing", "--size", "small"]
    result = runner.invoke(main, [*args, "--outcome", "success", "--technology", "cloud-erp"])
    assert result.exit_code == 0, result.output
    [path] = (kb / "lessons").glob("*.md")
    assert front_matter(path.read_text(encoding="utf-8"))["title"] == title
