"""Validation rules: the schema, the taxonomy, the body, privacy, HTML safety and cross-lesson references.

Every rule has an id and a level in RULES. Checking collects every finding of every file; nothing
here stops at the first problem.
"""

from __future__ import annotations

import datetime as dt
import difflib
import html
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from . import safeyaml
from .kb import KnowledgeBase, expand_paths, markdown_paths
from .lessons import (
    EXPECTED_SECTIONS,
    ID_MAX,
    ID_RE,
    RawLesson,
    Section,
    code_mask,
    headings_for,
    read_lesson,
    split_sections,
)
from .schema import FIELDS, FrontMatter, Taxonomy

Level = Literal["error", "warning"]

# rule id -> (level, what it means). Errors make a lesson unusable; warnings are about quality.
RULES: dict[str, tuple[Level, str]] = {
    "unreadable": ("error", "the file cannot be read"),
    "symlink": ("error", "lesson files must be regular files, not symbolic links"),
    "file-too-large": ("error", "the file is over 256 KiB"),
    "empty-file": ("error", "the file is empty"),
    "not-utf8": ("error", "the file is not UTF-8 text"),
    "no-front-matter": ("error", "the file does not start with '---' front matter"),
    "unclosed-front-matter": ("error", "the front matter is never closed with '---'"),
    "yaml-syntax": ("error", "the front matter is not valid YAML"),
    "yaml-unsafe": ("error", "a YAML tag that would build objects other than plain data"),
    "yaml-alias": ("error", "a YAML alias (refused: safe loading only)"),
    "front-matter-not-mapping": ("error", "the front matter is not a mapping of keys to values"),
    "invalid-id": ("error", "the file name is not a valid lesson id (kebab-case, at most 80 characters)"),
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
    "invalid-language": ("error", "a language that is not a BCP 47 tag"),
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
    "short-body": ("warning", "the body has fewer than 120 words"),
    "personal-email": ("warning", "an e-mail address in the body (the knowledge base is public)"),
    "personal-phone": ("warning", "a phone number in the body (the knowledge base is public)"),
    "personal-iban": ("warning", "a bank account number (IBAN) in the body (the knowledge base is public)"),
    "raw-html": ("warning", "raw HTML in the body (use Markdown)"),
    "unsafe-html": ("error", "a <script>, <iframe> or similar tag, or an on...= event attribute"),
    "unsafe-link": ("error", "a javascript:, vbscript: or data: link"),
}

MIN_WORDS = 120


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


@dataclass
class Lesson:
    """A lesson that passed every error-level rule: ready for the index and the site."""

    id: str
    path: Path
    meta: FrontMatter
    body: str
    body_line: int
    sections: list[Section]


@dataclass
class CheckReport:
    """All findings of one run, and the lessons without errors."""

    findings: list[Finding] = field(default_factory=list)
    lessons: list[Lesson] = field(default_factory=list)
    files: int = 0

    @property
    def errors(self) -> int:
        return sum(f.level == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.level == "warning" for f in self.findings)

    def strict(self) -> CheckReport:
        """The same report with every warning promoted to an error."""
        promoted = [Finding(f.path, f.line, f.col, "error", f.rule, f.message) for f in self.findings]
        return CheckReport(promoted, self.lessons, self.files)


class _Collector:
    def __init__(self, path: str) -> None:
        self.path, self.findings = path, []

    def add(self, rule: str, message: str, line: int = 1, col: int = 1) -> None:
        self.findings.append(Finding(self.path, max(line, 1), max(col, 1), RULES[rule][0], rule, message))


PARALLEL_FROM = 500  # below this many files a process pool costs more than it saves


def check_knowledge_base(kb: KnowledgeBase, paths: Iterable[Path] = (), today: dt.date | None = None,
                         progress: Callable[[int, int], None] | None = None) -> CheckReport:
    """Check the named lesson files (default: all) against every rule, cross-lesson rules included."""
    files = expand_paths(kb, list(paths))
    all_paths = markdown_paths(kb.lessons_dir) if paths else [str(p) for p in files]
    everything = sorted({*all_paths, *(str(p) for p in files)})
    known_ids = Counter(os.path.basename(p)[:-3] for p in everything)
    jobs = [(path, kb.relpath(path)) for path in files]
    results = _run_checks(jobs, kb.taxonomy, known_ids, today, progress)
    report = CheckReport(files=len(files))
    for (path, shown), (findings, lesson) in zip(jobs, results):
        if known_ids[path.stem] > 1:
            others = sorted(kb.relpath(Path(p)) for p in everything if Path(p).stem == path.stem and p != str(path))
            out = _Collector(shown)
            out.add("duplicate-id", f"lesson id '{path.stem}' is also used by {', '.join(others)}")
            findings = out.findings + findings
        report.findings.extend(findings)
        if lesson is not None and not any(f.level == "error" for f in findings):
            report.lessons.append(lesson)
    report.findings.sort(key=lambda f: (f.path, f.line, f.col, f.rule))
    return report


def _run_checks(jobs: list[tuple[Path, str]], taxonomy: Taxonomy, known_ids: Counter[str], today: dt.date | None,
                progress: Callable[[int, int], None] | None = None) -> list[tuple[list[Finding], Lesson | None]]:
    workers = min(os.cpu_count() or 1, 8)
    task = partial(_check_one, taxonomy=taxonomy, known_ids=known_ids, today=today)
    if len(jobs) < PARALLEL_FROM or workers < 2:
        results = map(task, jobs)
        return _collect(results, len(jobs), progress)
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    # fork is fastest, but forking while another thread runs (the ONNX session opening in `lessons index`)
    # can leave a child holding a lock nobody will release: then start clean workers instead
    method = "fork" if threading.active_count() == 1 else "forkserver"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        return _collect(pool.map(task, jobs, chunksize=max(16, len(jobs) // (workers * 8))), len(jobs), progress)


def _collect(results: Iterable, total: int, progress: Callable[[int, int], None] | None) -> list:
    out = []
    for done, result in enumerate(results, 1):
        out.append(result)
        if progress and (done % 100 == 0 or done == total):
            progress(done, total)
    return out


def _check_one(job: tuple[Path, str], taxonomy: Taxonomy, known_ids: Counter[str],
               today: dt.date | None) -> tuple[list[Finding], Lesson | None]:
    path, shown = job
    findings, lesson, raw = check_file(path, taxonomy, shown, today)
    if raw.readable:
        out = _Collector(shown)
        _check_references(raw, known_ids, out)
        findings += out.findings
    return findings, lesson


def check_file(path: Path, taxonomy: Taxonomy, shown: str | None = None,
               today: dt.date | None = None) -> tuple[list[Finding], Lesson | None, RawLesson]:
    """Check one file on its own (no cross-lesson rules). Returns findings, the lesson if it could be built, the raw file."""
    raw = read_lesson(path)
    out = _Collector(shown or str(path))
    for problem in raw.problems:
        out.add(problem.rule, problem.message, problem.line, problem.col)
    if len(raw.id) > ID_MAX or not ID_RE.match(raw.id):
        out.add("invalid-id", f"file name '{path.name}' is not a valid lesson id: use kebab-case "
                f"(lower-case letters, digits, hyphens), at most {ID_MAX} characters")
    if not raw.readable:
        return out.findings, None, raw
    data: dict[str, Any] = raw.front.data  # type: ignore[union-attr]
    meta = _check_schema(raw, data, out, today)
    _check_taxonomy(raw, data, taxonomy, out)
    language = data.get("language") if isinstance(data.get("language"), str) else "en"
    sections = split_sections(raw.body, raw.body_line, language)
    _check_body(raw, sections, language, out)
    lesson = Lesson(raw.id, path, meta, raw.body, raw.body_line, sections) if meta is not None else None
    return out.findings, lesson, raw


_PYDANTIC_RULES = {
    "missing": "missing-field",
    "extra_forbidden": "unknown-key",
    "literal_error": "invalid-choice",
    "string_too_short": "invalid-length",
    "string_too_long": "invalid-length",
    "too_short": "invalid-length",
    "too_long": "invalid-length",
    "greater_than_equal": "out-of-range",
}


def _check_schema(raw: RawLesson, data: dict[str, Any], out: _Collector, today: dt.date | None) -> FrontMatter | None:
    try:
        return FrontMatter.model_validate(data, context={"today": today} if today else None)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            rule, message = _describe(err)
            line, col = _where(raw, err["loc"], prefer_key=rule == "unknown-key")
            out.add(rule, message, line, col)
    return None


def _describe(err: Any) -> tuple[str, str]:
    loc = err["loc"]
    name = ".".join(str(part) for part in loc) or "front matter"
    kind = err["type"]
    if kind in RULES:
        return kind, f"{name}: {err['msg']}"
    rule = _PYDANTIC_RULES.get(kind) or ("invalid-type" if kind.endswith("_type") or kind.endswith("_parsing") else "invalid-value")
    if rule == "missing-field":
        return rule, f"required field '{name}' is missing"
    if rule == "unknown-key":
        return rule, f"unknown key '{name}'{_did_you_mean(str(loc[0]), FIELDS)}; allowed keys are listed by 'lessons schema'"
    message = f"{name}: {err['msg']}"
    if rule == "invalid-choice" and isinstance(err.get("input"), str):
        choices = re.findall(r"'([^']+)'", err["msg"])
        message += _did_you_mean(err["input"], choices)
    return rule, message


def _where(raw: RawLesson, loc: tuple[Any, ...], prefer_key: bool = False) -> tuple[int, int]:
    assert raw.front is not None
    pos = raw.front.positions.get(tuple(loc)) if prefer_key else None
    pos = pos or safeyaml.position(raw.front, tuple(loc))
    if pos is None:
        return 1, 1
    return pos[0] + raw.front_start, pos[1] + 1


def _did_you_mean(word: str, choices: Iterable[str], always: bool = False) -> str:
    options = list(choices)
    word = word.lower()
    match = [c for c in options if c.startswith(word) or word.startswith(c)][:1]
    match = match or difflib.get_close_matches(word, options, n=1, cutoff=0.0 if always else 0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def _check_taxonomy(raw: RawLesson, data: dict[str, Any], taxonomy: Taxonomy, out: _Collector) -> None:
    sector = data.get("sector")
    if isinstance(sector, str) and ID_RE.match(sector) and sector not in taxonomy.sectors:
        hint = _did_you_mean(sector, taxonomy.sectors) or f"; valid sectors: {', '.join(sorted(taxonomy.sectors))}"
        out.add("unknown-sector", f"sector '{sector}' is not in the taxonomy{hint}",
                *_where(raw, ("sector",)))
    for name, known, rule in (("business_function", taxonomy.business_functions, "unknown-business-function"),
                              ("technologies", taxonomy.technologies, "unknown-technology")):
        values = data.get(name)
        if not isinstance(values, list):
            continue
        for index, value in enumerate(values):
            if isinstance(value, str) and ID_RE.match(value) and value not in known:
                hint = _did_you_mean(value, known, always=rule == "unknown-technology")
                out.add(rule, f"{name}: '{value}' is not in the taxonomy{hint}", *_where(raw, (name, index)))


def _check_references(raw: RawLesson, known_ids: Counter[str], out: _Collector) -> None:
    data: dict[str, Any] = raw.front.data  # type: ignore[union-attr]
    refs: list[tuple[str, Any, tuple[Any, ...]]] = [(name, data.get(name), (name,)) for name in ("superseded_by", "duplicate_of")]
    if isinstance(data.get("related"), list):
        refs += [("related", ref, ("related", i)) for i, ref in enumerate(data["related"])]
    for name, ref, loc in refs:
        if not isinstance(ref, str) or not ID_RE.match(ref):
            continue  # absent, or already reported by the schema
        if ref == raw.id:
            out.add("self-reference", f"{name}: a lesson cannot point at itself", *_where(raw, loc))
        elif ref not in known_ids:
            out.add("missing-reference", f"{name}: no lesson with id '{ref}'{_did_you_mean(ref, known_ids)}", *_where(raw, loc))
    if data.get("status") == "superseded" and not data.get("superseded_by"):
        out.add("missing-successor", "status is 'superseded': set superseded_by to the lesson that replaces it", *_where(raw, ("status",)))


# --- body rules -------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_PHONE = re.compile(r"(?<![\w.,/-])(?:\+|00|\(0|0)\d[\d ().-]{6,18}\d(?![\w,/-]|\.\d)")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])([^>]{0,2000})>?|<!--")
_EVENT_ATTR = re.compile(r"[\s/\"']on[a-z]+\s*=", re.IGNORECASE)
_UNSAFE_TAGS = {"script", "iframe", "object", "embed", "frame", "frameset", "base", "meta"}
_LINK_TARGETS = re.compile(
    r"\]\(\s*<?([^)\s>]*)"  # [text](target)
    r"|^\s{0,3}\[[^\]]+\]:\s*<?(\S+)"  # [ref]: target
    r"|=\s*[\"']?\s*([^\"'\s>]+)"  # attribute=target
    r"|<([A-Za-z][A-Za-z0-9+.-]*:[^\s>]*)>",  # <scheme:...> autolink
    re.MULTILINE,
)
_BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")


def _check_body(raw: RawLesson, sections: list[Section], language: str, out: _Collector) -> None:
    body = raw.body
    headings = headings_for(language)
    seen = Counter(s.key for s in sections if s.key)
    for key in EXPECTED_SECTIONS:
        if not seen[key]:
            out.add("missing-section", f"expected section '## {headings[key]}' is missing", raw.body_line)
    first: set[str] = set()
    for section in sections:
        if section.key and section.key in first:
            out.add("duplicate-section", f"section '## {section.heading}' appears more than once", section.line)
        first.add(section.key or "")
    words = len(body.split())
    if words < MIN_WORDS:
        out.add("short-body", f"the body has {words} words; a useful lesson has at least {MIN_WORDS}", raw.body_line)
    _check_privacy(raw, out)
    _check_html(raw, _mask_code(body), out)


def _check_privacy(raw: RawLesson, out: _Collector) -> None:
    # Messages never repeat the value found: the output may land in a public CI log.
    body = raw.body
    for match in _EMAIL.finditer(body) if "@" in body else ():
        out.add("personal-email", "e-mail address in the body: remove contact details, the knowledge base is public",
                *raw.line_of_offset(match.start()))
    for match in _IBAN.finditer(body):
        if _iban_valid(match.group()):
            out.add("personal-iban", "bank account number (IBAN) in the body: remove it, the knowledge base is public",
                    *raw.line_of_offset(match.start()))
    for match in _PHONE.finditer(body):
        digits = re.sub(r"\D", "", match.group())
        if 9 <= len(digits) <= 15 and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", match.group()):
            out.add("personal-phone", "phone number in the body: remove contact details, the knowledge base is public",
                    *raw.line_of_offset(match.start()))


def _iban_valid(text: str) -> bool:
    code = text.replace(" ", "")
    if not 15 <= len(code) <= 34:
        return False
    moved = code[4:] + code[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _mask_code(body: str) -> str:
    """The body with fenced code blocks and inline code blanked out (same length, same offsets)."""
    lines = body.split("\n")
    for i, in_code in enumerate(code_mask(body)):
        if in_code:
            lines[i] = " " * len(lines[i])
        elif "`" in lines[i]:
            lines[i] = _INLINE_CODE.sub(lambda m: " " * len(m.group()), lines[i])
    return "\n".join(lines)


def _check_html(raw: RawLesson, masked: str, out: _Collector) -> None:
    raw_html_line = None
    for match in _TAG.finditer(masked) if "<" in masked else ():
        name = (match.group(2) or "").lower()
        where = raw.line_of_offset(match.start())
        if name in _UNSAFE_TAGS:
            if match.group(1):  # the closing tag of an element already reported
                continue
            out.add("unsafe-html", f"<{name}> is not allowed in a lesson", *where)
        elif match.group(3) and _EVENT_ATTR.search(" " + match.group(3)):
            out.add("unsafe-html", f"event attribute (on...=) in <{name}> is not allowed in a lesson", *where)
        elif raw_html_line != where[0]:
            raw_html_line = where[0]
            out.add("raw-html", f"raw HTML <{name or '!--'}>: write Markdown instead", *where)
    lowered = masked.lower()
    if not any(marker in lowered for marker in ("script", "data", "&", "%")):
        return  # no scheme we refuse can be spelled without one of these
    for match in _LINK_TARGETS.finditer(masked):
        target = next(g for g in match.groups() if g is not None)
        cleaned = re.sub(r"[\s\x00-\x1f]", "", html.unescape(target)).lower()
        if cleaned.startswith(_BAD_SCHEMES):
            out.add("unsafe-link", f"{cleaned.split(':')[0]}: links are not allowed in a lesson", *raw.line_of_offset(match.start()))
