"""Every rule `lessons check` applies: its id, its level and what it means, and the Finding it produces."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from .vocabulary import (
    ID_MAX,
    MAX_BODY_CHARS,
    MAX_BRACKET_SCAN,
    MAX_LESSON_BYTES,
    MAX_NESTING,
    MAX_TAG_SCAN,
    MIN_BODY_WORDS,
)

Level = Literal["error", "warning"]

# The rules of reading a file: a lesson with one of these could not be read at all, so nothing else was checked.
READING_RULES: dict[str, tuple[Level, str]] = {
    "unreadable": ("error", "the file cannot be read"),
    "symlink": ("error", "lesson files must be regular files, not symbolic links"),
    "not-regular": ("error", "a FIFO, device or socket where a lesson file should be"),
    "file-too-large": ("error", f"the file is over {MAX_LESSON_BYTES // 1024} KiB"),
    "empty-file": ("error", "the file is empty"),
    "not-utf8": ("error", "the file is not UTF-8 text"),
    "no-front-matter": ("error", "the file does not start with '---' front matter"),
    "unclosed-front-matter": ("error", "the front matter is never closed with '---'"),
    "yaml-syntax": ("error", "the front matter is not valid YAML"),
    "yaml-unsafe": ("error", "a YAML tag outside the core schema (!!set, !!binary, !!python/...): plain data only"),
    "yaml-alias": ("error", "a YAML alias (refused: safe loading only)"),
    "yaml-duplicate-key": ("error", "a front-matter key given twice (the last would silently win)"),
    "yaml-non-finite": ("error", "a number that is infinite or not a number (.inf, .nan)"),
    "front-matter-not-mapping": ("error", "the front matter is not a mapping of keys to values"),
}
# rule id -> (level, what it means). Errors make a lesson unusable; warnings are about quality.
RULES: dict[str, tuple[Level, str]] = {
    **READING_RULES,
    "invalid-id": ("error", f"the file name is not a valid lesson id (kebab-case, at most {ID_MAX} characters)"),
    "duplicate-id": ("error", "two lesson files have the same id (file stem)"),
    "unknown-key": ("error", "a front-matter key that the schema does not know"),
    "missing-field": ("error", "a required front-matter field is missing"),
    "invalid-type": ("error", "a front-matter value of the wrong type"),
    "invalid-choice": ("error", "a value that is not one of the allowed choices"),
    "invalid-length": ("error", "a text or list that is too short or too long"),
    "invalid-date": ("error", "a date that is not written as YYYY-MM-DD"),
    "future-date": ("error", "a lesson date in the future"),
    "invalid-slug": ("error", "a slug that is not kebab-case"),
    "invalid-country": ("error", "a country that is not an ISO 3166-1 alpha-2 code"),
    "invalid-language": ("error", "a language that is not an ISO 639-1 code (with an optional region: pt-BR)"),
    "out-of-range": ("error", "a number below zero"),
    "invalid-value": ("error", "a front-matter value the schema refuses"),
    "unknown-sector": ("error", "a sector that is not in the taxonomy"),
    "unknown-business-function": ("error", "a business function that is not in the taxonomy"),
    "unknown-technology": ("warning", "a technology slug that is not in the taxonomy"),
    "missing-reference": ("error", "related, superseded_by or duplicate_of names a lesson that does not exist"),
    "self-reference": ("error", "a lesson that names itself in related, superseded_by or duplicate_of"),
    "missing-successor": ("error", "status is superseded but superseded_by is not set"),
    "missing-section": ("warning", "an expected body section is missing"),
    "duplicate-section": ("warning", "the same section heading appears twice"),
    "short-body": ("warning", f"the body has fewer than {MIN_BODY_WORDS} words"),
    "personal-email": ("warning", "an e-mail address in the body (the knowledge base is public)"),
    "personal-phone": ("warning", "a phone number in the body (the knowledge base is public)"),
    "personal-iban": ("warning", "a bank account number (IBAN) in the body (the knowledge base is public)"),
    "raw-html": ("warning", "raw HTML in the body (use Markdown)"),
    "unsafe-html": ("error", "a <script>, <iframe>, <style> or similar tag, or an on...= event attribute"),
    "unsafe-link": ("error", "a javascript:, vbscript: or data: link"),
    "control-character": ("error", "a control character (C0, C1 or DELETE) in front-matter text"),
    "bidi-character": ("error", "a bidirectional override, embedding, isolate or mark in front-matter text"),
    "zero-width-character": ("warning", "a zero-width character in front-matter text"),
    "body-too-large": ("error", f"a body over {MAX_BODY_CHARS:,} characters"),
    "nesting-too-deep": ("error", f"lists or quotes nested more than {MAX_NESTING} levels"),
    "bracket-run": ("error", f"'[' that never close: rendering would read over {MAX_BRACKET_SCAN:,} characters"),
    "tag-run": ("error", f"HTML tags never closed with '>': rendering would read over {MAX_TAG_SCAN:,} characters"),
    "render-failed": ("error", "the body could not be rendered as a web page"),
    "unreadable-folder": ("error", "a folder under lessons/ cannot be read, so its lessons would be missed"),
}
READ_RULES = frozenset(READING_RULES)


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, how bad, which rule, and what to do."""

    path: str
    line: int
    col: int
    level: Level
    rule: str
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.level}: [{self.rule}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Collector:
    """Findings of one file, each with its rule's level."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []

    def add(self, rule: str, message: str, line: int = 1, col: int = 1) -> None:
        self.findings.append(Finding(self.path, max(line, 1), max(col, 1), RULES[rule][0], rule, message))
