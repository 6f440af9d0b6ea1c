"""The `lessons` examples that the documentation shows, collected from where readers see them.

Used by tests/quick/test_docs.py (the README's command table) and tests/slow/test_docs_examples.py (which runs
every example). The rules for what counts as an example, and for the exit code it must end with, are described
in the docstring of tests/slow/test_docs_examples.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import yaml

from indexer.cli.reference import command_help, command_names
from tests.helpers import REPO

SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
EXIT_COMMENT = re.compile(r"\bexits\s+(\d+)\b")
HOOK_FILE = "lessons/your-lesson.md"  # the lesson file name appended to a pre-commit hook's entry, as pre-commit does


@dataclass(frozen=True)
class Example:
    """One documented command: where it is shown, the command as written, and the exit code it must end with."""

    source: str  # README.md:61, lessons search --help, .pre-commit-hooks.yaml lessons-check
    command: str  # as written, without a trailing comment; continuation lines keep their backslash-newline
    expected_exit: int = 0
    shown_output: tuple[str, ...] = ()  # the output shown under a `$ lessons ...` line

    @property
    def one_line(self) -> str:
        return " ".join(self.command.replace("\\\n", " ").split())

    @property
    def id(self) -> str:
        return f"{self.source}: {self.one_line}"


def doc_files() -> list[Path]:
    """README.md and the hand-written pages in docs/ (not the generated folder)."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def fenced_blocks(text: str) -> Iterator[tuple[str, int, list[str]]]:
    """(language, line number of the block's first line, lines) for each ``` fenced block."""
    language, start, lines = None, 0, []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if language is None:
            if stripped.startswith("```"):
                language, start, lines = stripped[3:].strip().split(" ")[0].lower(), number + 1, []
        elif stripped.startswith("```"):
            yield language, start, lines
            language = None
        else:
            lines.append(line)


def split_comment(line: str) -> tuple[str, str]:
    """(command, comment) for a shell line: a '#' outside quotes, at the start or after a space, starts the comment."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def _expected_exit(comment: str, shown: list[str]) -> int:
    stated = EXIT_COMMENT.search(comment)
    if stated:
        return int(stated.group(1))
    return 1 if any(line.startswith("FAILED") for line in shown) else 0


def _joined(lines: list[str], i: int) -> tuple[str, int]:
    """The command starting at lines[i], with its continuation lines (ending in a backslash); and the next index."""
    parts = [lines[i].strip()]
    while parts[-1].endswith("\\") and i + 1 < len(lines):
        i += 1
        parts.append(lines[i].strip())
    return "\n".join(parts), i + 1


def examples_in_block(language: str, lines: list[str], source: Path, first_line: int) -> list[Example]:
    """Shell blocks: every line whose first word is `lessons` (after an optional '$ '). Text blocks: `$ lessons` lines.
    The lines after a '$ ' command, up to the next one, are its shown output."""
    if language not in SHELL_LANGUAGES | {"text"}:
        return []
    found = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        prompted = line.startswith("$ ")
        if (line[2:] if prompted else line).split(" ")[:1] != ["lessons"] or (language == "text" and not prompted):
            i += 1
            continue
        number = first_line + i
        written, i = _joined(lines, i)
        command, comment = split_comment(written[2:] if prompted else written)
        shown: list[str] = []
        if prompted:
            while i < len(lines) and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            while shown and not shown[-1].strip():
                shown.pop()
        name = source.relative_to(REPO).as_posix()
        found.append(Example(f"{name}:{number}", command, _expected_exit(comment, shown), tuple(shown)))
    return found


def doc_examples() -> list[Example]:
    found = []
    for path in doc_files():
        for language, first_line, lines in fenced_blocks(path.read_text(encoding="utf-8")):
            found += examples_in_block(language, lines, path, first_line)
    return found


def help_examples(group: click.Group) -> list[Example]:
    """Each line of the 'Examples:' section of `lessons --help` and of every command's --help whose first word is `lessons`."""
    found = []
    for name in [None, *command_names(group)]:
        lines = command_help(group, name).splitlines()
        source = f"lessons {name} --help" if name else "lessons --help"
        try:
            start = next(i for i, line in enumerate(lines) if line.strip() == "Examples:")
        except StopIteration:
            continue
        indent = len(lines[start]) - len(lines[start].lstrip())
        i = start + 1
        while i < len(lines) and lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) > indent:
            written, i = _joined(lines, i)
            command, comment = split_comment(written)
            if command.split(" ")[:1] == ["lessons"]:
                found.append(Example(source, command, _expected_exit(comment, [])))
    return found


def hook_examples() -> list[Example]:
    """Each hook of .pre-commit-hooks.yaml, run as pre-commit runs it: its entry, then the staged file names."""
    found = []
    for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")):
        command = hook["entry"]
        if hook.get("pass_filenames", True):
            assert re.search(hook.get("files", ""), HOOK_FILE), f"{hook['id']} would not run on {HOOK_FILE}"
            command += f" {HOOK_FILE}"
        found.append(Example(f".pre-commit-hooks.yaml {hook['id']}", command))
    return found


def all_examples(group: click.Group) -> list[Example]:
    return [*doc_examples(), *help_examples(group), *hook_examples()]


def readme_command_table() -> list[str]:
    """The command names in the README's table of commands (the text block under '## The `lessons` command')."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## The `lessons` command", 1)[1]
    _language, _start, lines = next(fenced_blocks(section))
    return [line.split()[1] for line in lines if line.startswith("lessons ")]
