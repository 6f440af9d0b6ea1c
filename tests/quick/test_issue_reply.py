"""The comment the issue workflow posts when a form cannot become a lesson: the contributor's words inert."""

from __future__ import annotations

from pathlib import Path

from indexer.cli import main
from indexer.contrib.issue_reply import ZERO_WIDTH_SPACE, defuse, issue_reply
from indexer.core.rules import Finding
from tests.quick.test_contributing import issue_body


def test_defuse_breaks_mentions_links_and_controls() -> None:
    text = defuse("ping @octocat and @org/team, see https://evil.example/x or www.evil.example\x1b[2J\x07 ok")
    assert "@octocat" not in text and f"@{ZERO_WIDTH_SPACE}octocat" in text
    assert "https://" not in text and "www.evil" not in text
    assert "\x1b" not in text and "\x07" not in text and text.endswith(" ok")


def test_reply_quotes_findings_in_a_block_no_backtick_run_can_close() -> None:
    finding = Finding("lessons/x.md", 3, 1, "error", "invalid-choice", "sector: 'x```` [a](https:evil) @admin' is unknown")
    reply = issue_reply([finding, Finding("lessons/x.md", 4, 1, "warning", "short-body", "body is short")])
    fence = next(line for line in reply.splitlines() if line.startswith("`"))
    assert fence == "`````text"  # longer than the four backticks the contributor wrote
    assert "@admin" not in reply and "[invalid-choice]" in reply
    assert "short-body" not in reply  # warnings do not stop a lesson; only errors are listed
    assert "add the `lesson` label again" in reply


def test_from_issue_writes_the_reply_only_when_it_fails(kb: Path, runner) -> None:
    reply = kb / "reply.md"
    good = kb / "good.md"
    good.write_text(issue_body())
    result = runner.invoke(main, ["--root", str(kb), "from-issue", str(good), "--reply", str(reply)])
    assert result.exit_code == 0 and not reply.exists(), result.output
    again = runner.invoke(main, ["--root", str(kb), "from-issue", str(good), "--reply", str(reply)])
    assert again.exit_code == 2 and "already exists" in reply.read_text()
    reply.unlink()
    bad = kb / "bad.md"
    bad.write_text(issue_body(Title="A second lesson, with its title twice over " * 4))
    result = runner.invoke(main, ["--root", str(kb), "from-issue", str(bad), "--reply", str(reply)])
    assert result.exit_code == 1 and "error: [" in reply.read_text(), result.output
    # an answer that is not one of the form's choices is quoted back: defused
    hostile = kb / "hostile.md"
    hostile.write_text(issue_body(Title="A third lesson about a cloud ERP move", Sector="@octocat see https://evil.example"))
    result = runner.invoke(main, ["--root", str(kb), "from-issue", str(hostile), "--reply", str(reply)])
    assert result.exit_code == 2 and "is not one of the choices for 'Sector'" in result.output, result.output
    assert "@octocat" not in result.output and "https://evil" not in result.output
    text = reply.read_text()
    assert "octocat" in text and "@octocat" not in text and "https://evil" not in text
