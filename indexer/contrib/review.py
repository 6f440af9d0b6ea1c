"""`lessons review --base REF`: what a pull request changes in the knowledge base, checked, with the
existing lessons that already tell the same story. Changes are found with git, never by timestamps."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.check import check_knowledge_base
from ..core.kb import LESSONS_DIR, KnowledgeBase
from ..core.rules import READ_RULES, Finding
from ..errors import ToolFailed, ToolMissing, UsageError

if TYPE_CHECKING:
    from ..search.similar import SimilarHit

SimilarFinder = Callable[[Path, set[str]], "list[SimilarHit]"]  # a changed lesson's file, ids to leave out -> similar lessons

MARKER = "<!-- lessons-review -->"  # lets the pull-request workflow find and update its one comment
ICONS = {"added": "➕", "modified": "✏️", "renamed": "🔀", "deleted": "➖"}


@dataclass
class Change:
    """A lesson file that differs between the base and the working tree."""

    status: str  # added, modified, renamed, deleted
    path: str
    old_path: str | None = None

    @property
    def id(self) -> str:
        return Path(self.path).stem

    @property
    def old_id(self) -> str | None:
        return Path(self.old_path).stem if self.old_path else None


@dataclass
class ReviewEntry:
    change: Change
    findings: list[Finding] = field(default_factory=list)
    similar: list[SimilarHit] = field(default_factory=list)


@dataclass
class Review:
    base: str
    entries: list[ReviewEntry]
    # why similar lessons were not looked up (the install command that adds search), or None when they were
    similarity_skipped: str | None = None

    @property
    def errors(self) -> int:
        return sum(f.level == "error" for e in self.entries for f in e.findings)

    @property
    def warnings(self) -> int:
        return sum(f.level == "warning" for e in self.entries for f in e.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "errors": self.errors,
            "warnings": self.warnings,
            "similarity": self.similarity_skipped is None,
            "lessons": [
                {
                    **asdict(e.change),
                    "id": e.change.id,
                    "findings": [f.to_dict() for f in e.findings],
                    "similar": [h.to_dict() for h in e.similar],
                }
                for e in self.entries
            ],
        }


def _git(kb: KnowledgeBase, *args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=kb.root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ToolMissing("git is not installed: lessons review needs it to find the changed lessons") from None
    if proc.returncode != 0:
        reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "unknown error"
        raise ToolFailed(f"git {' '.join(args[:2])} failed: {reason}")
    return proc.stdout


def changed_lessons(kb: KnowledgeBase, base: str) -> list[Change]:
    """Lessons added, modified, renamed or deleted between `base` and the working tree (untracked files count as added)."""
    try:
        _git(kb, "rev-parse", "--is-inside-work-tree")
    except ToolFailed as exc:
        raise ToolMissing(f"{kb.root} is not inside a git repository, so lessons review cannot tell what changed ({exc})") from None
    try:
        _git(kb, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except ToolFailed:
        raise UsageError(f"'{base}' is not a commit, branch or tag in this repository") from None
    changes: list[Change] = []
    fields = _git(kb, "diff", "--name-status", "-M", "-z", base, "--", LESSONS_DIR).split("\0")
    i = 0
    while i < len(fields) - 1:
        status = fields[i]
        if status.startswith(("R", "C")):
            old, new = fields[i + 1], fields[i + 2]
            i += 3
            if new.endswith(".md"):
                changes.append(Change("renamed" if status.startswith("R") else "added", new, old if status.startswith("R") else None))
            continue
        path = fields[i + 1]
        i += 2
        if path.endswith(".md"):
            changes.append(Change({"A": "added", "D": "deleted"}.get(status[0], "modified"), path))
    untracked = _git(kb, "ls-files", "--others", "--exclude-standard", "-z", "--", LESSONS_DIR).split("\0")
    changes += [Change("added", path) for path in untracked if path.endswith(".md")]
    return sorted(changes, key=lambda c: c.path)


def review(
    kb: KnowledgeBase, base: str, similar_finder: SimilarFinder | None = None, top: int = 5, similarity_note: str | None = None
) -> Review:
    """Check the changed lessons and, with `similar_finder(path, exclude)` (from the index), list similar existing ones.

    `similarity_note` says why there is no finder (the install command that adds one); the review shows it."""
    changes = changed_lessons(kb, base)
    present = [kb.root / c.path for c in changes if c.status != "deleted"]
    report = check_knowledge_base(kb, present) if present else None
    entries = []
    for change in changes:
        entry = ReviewEntry(change)
        if change.status != "deleted" and report is not None:
            shown = kb.relpath(kb.root / change.path)
            entry.findings = [f for f in report.findings if f.path == shown]
            if similar_finder is not None and not any(f.level == "error" and f.rule in READ_RULES for f in entry.findings):
                exclude = {change.old_id} if change.old_id else set()
                try:
                    entry.similar = similar_finder(kb.root / change.path, exclude)[:top]
                except UsageError:
                    # a lesson that cannot be compared (its front matter is refused) keeps its findings, which say
                    # why; one stranger's file must not stop the review of the whole pull request
                    entry.similar = []
        entries.append(entry)
    return Review(base, entries, similarity_skipped=similarity_note)


def to_markdown(result: Review, site_url: str = "") -> str:
    """A short pull-request comment: per lesson, the check result and the similar lessons."""
    counts: dict[str, int] = {}
    for entry in result.entries:
        counts[entry.change.status] = counts.get(entry.change.status, 0) + 1
    lines = [MARKER, "## Lessons review", ""]
    if not result.entries:
        return "\n".join([*lines, f"No lesson changed against {code_span(result.base)}.", ""])
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    verdict = "❌" if result.errors else "✅"
    lines += [
        f"{verdict} {len(result.entries)} lesson file(s) changed against {code_span(result.base)} ({summary}): "
        f"{result.errors} error(s), {result.warnings} warning(s).",
        "",
    ]
    for entry in result.entries:
        change = entry.change
        moved = f" (from {code_span(change.old_path)})" if change.old_path else ""
        lines += [f"### {ICONS[change.status]} {code_span(change.path)} {change.status}{moved}", ""]
        odd = [name for name in (change.path, change.old_path) if name and _CONTROL.search(name)]
        if odd:
            lines += [f"⚠️ The file name holds line breaks or control characters (shown as `\\n`, `\\xNN`): rename {code_span(odd[0])}.", ""]
        if change.status == "deleted":
            lines += ["This lesson is removed from the knowledge base. Check that nothing still links to it.", ""]
            continue
        if entry.findings:
            lines += (
                ["**Check:**", ""]
                + [f"- line {f.line}: **{f.level}** `{f.rule}` {markdown_text(f.message)}" for f in entry.findings]
                + [""]
            )
        else:
            lines += ["**Check:** no problems.", ""]
        lines += ["**Has anyone tried this already?**", ""]
        if result.similarity_skipped:
            lines += [f"Not looked up: the search extra is not installed (`{result.similarity_skipped}`).", ""]
        elif entry.similar:
            for hit in entry.similar:
                link = (
                    f"[{markdown_text(hit.title)}]({site_url.rstrip('/')}/lessons/{hit.id}/)"
                    if site_url
                    else f"{markdown_text(hit.title)} ({code_span(hit.path)})"
                )
                label = "**Likely duplicate**" if hit.tier == "likely duplicate" else "Related"
                lines.append(f"- {label} ({hit.score:.2f}): {link}, {hit.outcome}")
            lines.append("")
        else:
            lines += ["No similar lesson yet: this looks new to the knowledge base.", ""]
    return "\n".join(lines)


def markdown_text(text: str) -> str:
    """Text made inert in Markdown: no HTML, no links or emphasis from contributed words."""
    return "".join("\\" + ch if ch in "\\`*_[]<>|#" else ch for ch in text.replace("\n", " "))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BACKTICKS = re.compile(r"`+")


def code_span(name: str) -> str:
    """A file name or ref as an inert Markdown code span: line breaks and control characters written as escapes (so
    no `###` line or fake section can start), and a fence longer than any run of backticks inside (so none closes it)."""
    shown = _CONTROL.sub(_escape_control, name)
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(shown)), default=0) + 1)
    pad = " " if shown.startswith(("`", " ")) or shown.endswith(("`", " ")) else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
