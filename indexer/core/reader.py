"""Reading a lesson file: bytes -> text -> front matter + body + sections, with line numbers.

Reading never raises for a bad file: it returns what it could read and the problems it found, so
`lessons check` can report every problem of every file in one run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import safeyaml
from .kb import UnsafeFile, read_regular
from .vocabulary import MAX_LESSON_BYTES, headings_for


def _norm_heading(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().rstrip(":").strip()).casefold()


@dataclass
class Problem:
    """A problem found while reading, before any rule beyond reading applies."""

    rule: str
    message: str
    line: int = 1
    col: int = 1


@dataclass
class Section:
    """A level-2 section of the body: its id (None if not a known heading), heading, first line, text."""

    key: str | None
    heading: str
    line: int
    text: str


@dataclass
class RawLesson:
    """A lesson file as read: text, front matter (with positions) and body. Fields are None when unreadable."""

    path: Path
    id: str
    text: str | None = None
    front: safeyaml.LoadedYaml | None = None
    front_start: int = 2  # 1-based line of the first front-matter line
    body: str = ""
    body_line: int = 1  # 1-based line where the body starts
    problems: list[Problem] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return self.mapping is not None

    @property
    def mapping(self) -> dict[str, Any] | None:
        """The front matter as a mapping of keys to values, or None when it could not be read as one."""
        if self.front is not None and isinstance(self.front.data, dict):
            return self.front.data
        return None

    def line_of_offset(self, offset: int) -> tuple[int, int]:
        """1-based (line, col) in the file for a character offset into the body."""
        before = self.body[:offset]
        line = self.body_line + before.count("\n")
        col = offset - (before.rfind("\n") + 1) + 1
        return line, col


def read_lesson(path: Path) -> RawLesson:
    """Read one lesson file; never raises for file content problems."""
    lesson = RawLesson(path=path, id=path.stem)
    try:
        raw = read_regular(path, MAX_LESSON_BYTES)
    except UnsafeFile as exc:
        lesson.problems.append(Problem(exc.rule, exc.message))
        return lesson
    except OSError as exc:
        lesson.problems.append(Problem("unreadable", f"cannot read file: {exc.strerror or exc}"))
        return lesson
    parse_text(lesson, raw)
    return lesson


def parse_text(lesson: RawLesson, raw: bytes) -> None:
    """Decode and split `raw` into front matter and body, recording problems on `lesson`."""
    if not raw.strip():
        lesson.problems.append(Problem("empty-file", "file is empty"))
        return
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is accepted and dropped
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}): save it as UTF-8 (in the editor's 'Save as' or encoding menu)"
        lesson.problems.append(Problem("not-utf8", message, line, col))
        return
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # CRLF line endings are accepted
    lesson.text = text
    lines = text.split("\n")
    if lines[0].strip() != "---":
        lesson.problems.append(Problem("no-front-matter", "file must start with a '---' line opening the YAML front matter"))
        return
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        lesson.problems.append(Problem("unclosed-front-matter", "front matter opened on line 1 is never closed with '---'"))
        return
    lesson.body = "\n".join(lines[end + 1 :])
    lesson.body_line = end + 2
    try:
        lesson.front = safeyaml.load("\n".join(lines[1:end]), lesson.front_start)
    except safeyaml.YamlProblem as exc:
        lesson.problems.append(Problem(exc.rule, exc.message, exc.line + lesson.front_start, exc.col + 1))
        return
    if not isinstance(lesson.front.data, dict):
        kind = "empty" if lesson.front.data is None else f"a {type(lesson.front.data).__name__}"
        lesson.problems.append(Problem("front-matter-not-mapping", f"front matter must be a mapping of keys to values, not {kind}"))


_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def code_mask(body: str) -> list[bool]:
    """For each line of the body, True if it lies inside a fenced code block (fence lines included)."""
    mask, fence = [], None
    for line in body.split("\n"):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
            mask.append(True)
        elif fence is not None:
            mask.append(True)
            if line.strip().startswith(fence):
                fence = None
        else:
            mask.append(False)
    return mask


def split_sections(body: str, body_line: int, language: str | None) -> list[Section]:
    """Split a body at its level-2 headings. Text before the first heading is a section with key 'intro'."""
    known = {_norm_heading(text): key for key, text in headings_for(language).items()}
    sections: list[Section] = []
    heading, start = "", body_line
    key: str | None = "intro"
    buf: list[str] = []
    for offset, (line, in_code) in enumerate(zip(body.split("\n"), code_mask(body))):
        if not in_code and line.startswith("## "):
            if key != "intro" or "".join(buf).strip():
                sections.append(Section(key, heading, start, "\n".join(buf).strip()))
            heading = line[3:].strip()
            key, start, buf = known.get(_norm_heading(heading)), body_line + offset, []
        else:
            buf.append(line)
    if key != "intro" or "".join(buf).strip():
        sections.append(Section(key, heading, start, "\n".join(buf).strip()))
    return sections
