"""The comment the issue workflow posts when a filled-in form cannot become a lesson: the findings, with the
contributor's own words made inert. GitHub renders the comment as the bot's, so nothing in it may mention
anyone, link anywhere or carry Markdown from the issue."""

from __future__ import annotations

import re

from ..core.rules import Finding

ZERO_WIDTH_SPACE = "\u200b"
ACCEPT_LABEL = "lesson"  # a maintainer's label that turns a submission into a pull request
SUBMITTED_LABEL = "submitted"  # the issue form's own label: a submission nobody has read yet


def defuse(text: str) -> str:
    """Text that mentions no one and links nowhere, even outside a code block: '@name' and 'https://x' are broken
    with a zero-width space, and control characters other than newlines and tabs are dropped."""
    text = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))
    text = text.replace("@", "@" + ZERO_WIDTH_SPACE)
    text = re.sub(r"(?i)(\w)://", lambda m: m.group(1) + ":" + ZERO_WIDTH_SPACE + "//", text)
    return re.sub(r"(?i)\bwww\.", "www" + ZERO_WIDTH_SPACE + ".", text)


def _fenced(lines: list[str]) -> list[str]:
    """Lines inside a code block whose fence no line can close (longer than any run of backticks in them)."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", *lines, fence]


def issue_reply(findings: list[Finding], problem: str | None = None) -> str:
    """Markdown for the issue: why no pull request was opened, each finding (or the problem) quoted inertly."""
    shown = [f"{f.level}: [{f.rule}] {f.message}" for f in findings if f.level == "error"]
    if problem:
        shown.insert(0, problem)
    quoted = _fenced([defuse(line) for text in shown for line in text.splitlines()])
    return "\n".join(
        [
            "Thank you for sharing a lesson! It cannot be published yet, because of what the checker found:",
            "",
            *quoted,
            "",
            f"Please edit the issue to fix these answers. A maintainer will then add the `{ACCEPT_LABEL}` label again.",
            "",
        ]
    )
