"""`lessons check`: every rule over every named lesson file, cross-lesson rules included.

Checking collects every finding of every file; nothing here stops at the first problem. The rules are listed
in `rules.RULES`; the body rules live in `body_rules`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import safeyaml
from .body_rules import check_body
from .characters import invisible, name_of
from .choices import suggest
from .kb import KnowledgeBase, expand_paths, scan_markdown
from .lesson import Lesson
from .reader import RawLesson, read_lesson, split_sections
from .rules import RULES, Collector, Finding
from .schema import FIELDS, FrontMatter
from .taxonomy import Taxonomy
from .vocabulary import ID_MAX, SLUG_RE

Progress = Callable[[int, int], None]
CheckResult = tuple[list[Finding], Lesson | None]


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


PARALLEL_FROM = 500  # below this many files a process pool costs more than it saves


def check_knowledge_base(
    kb: KnowledgeBase, paths: Iterable[Path] = (), today: dt.date | None = None, progress: Progress | None = None
) -> CheckReport:
    """Check the named lesson files (default: all) against every rule, cross-lesson rules included."""
    paths = list(paths)
    files, unreadable = expand_paths(kb, paths)
    if paths:
        whole = scan_markdown(kb.lessons_dir)
        all_paths, unreadable = whole.files, unreadable + whole.unreadable
    else:
        all_paths = [str(p) for p in files]
    everything = sorted({*all_paths, *(str(p) for p in files)})
    known_ids = Counter(os.path.basename(p)[:-3] for p in everything)
    jobs = [(path, kb.relpath(path)) for path in files]
    results = _run_checks(jobs, kb.taxonomy, known_ids, today, progress)
    report = CheckReport(files=len(files))
    for folder, reason in sorted(set(unreadable)):
        out = Collector(kb.relpath(folder))
        out.add("unreadable-folder", f"cannot read this folder ({reason}): the lessons in it are not checked, indexed or published")
        report.findings.extend(out.findings)
    for (path, shown), (findings, lesson) in zip(jobs, results):
        if known_ids[path.stem] > 1:
            findings = _duplicate_id(kb, path, shown, everything) + findings
        report.findings.extend(findings)
        if lesson is not None and not any(f.level == "error" for f in findings):
            report.lessons.append(lesson)
    report.findings.sort(key=lambda f: (f.path, f.line, f.col, f.rule))
    return report


def _duplicate_id(kb: KnowledgeBase, path: Path, shown: str, everything: list[str]) -> list[Finding]:
    others = sorted(kb.relpath(p) for p in everything if Path(p).stem == path.stem and p != str(path))
    out = Collector(shown)
    out.add("duplicate-id", f"lesson id '{path.stem}' is also used by {', '.join(others)}")
    return out.findings


def _run_checks(
    jobs: list[tuple[Path, str]],
    taxonomy: Taxonomy,
    known_ids: Counter[str],
    today: dt.date | None,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[list[Finding], Lesson | None]]:
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


def _collect(results: Iterable[CheckResult], total: int, progress: Progress | None) -> list[CheckResult]:
    out = []
    for done, result in enumerate(results, 1):
        out.append(result)
        if progress and (done % 100 == 0 or done == total):
            progress(done, total)
    return out


def _check_one(
    job: tuple[Path, str], taxonomy: Taxonomy, known_ids: Counter[str], today: dt.date | None
) -> tuple[list[Finding], Lesson | None]:
    path, shown = job
    findings, lesson, raw = check_file(path, taxonomy, shown, today)
    if raw.mapping is not None:
        out = Collector(shown)
        _check_references(raw, raw.mapping, known_ids, out)
        findings += out.findings
    return findings, lesson


def check_file(
    path: Path, taxonomy: Taxonomy, shown: str | None = None, today: dt.date | None = None
) -> tuple[list[Finding], Lesson | None, RawLesson]:
    """Check one file on its own (no cross-lesson rules). Returns findings, the lesson if it could be built, the raw file."""
    raw = read_lesson(path)
    out = Collector(shown or str(path))
    for problem in raw.problems:
        out.add(problem.rule, problem.message, problem.line, problem.col)
    if len(raw.id) > ID_MAX or not SLUG_RE.match(raw.id):
        out.add(
            "invalid-id",
            f"file name '{path.name}' is not a valid lesson id: use kebab-case "
            f"(lower-case letters, digits, hyphens), at most {ID_MAX} characters",
        )
    data = raw.mapping
    if data is None:
        return out.findings, None, raw
    meta = _check_schema(raw, data, out, today)
    _check_characters(raw, data, out)
    _check_taxonomy(raw, data, taxonomy, out)
    language = lang if isinstance(lang := data.get("language"), str) else "en"
    sections = split_sections(raw.body, raw.body_line, language)
    check_body(raw, sections, language, out)
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


def _check_schema(raw: RawLesson, data: dict[str, Any], out: Collector, today: dt.date | None) -> FrontMatter | None:
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
    if kind == "string_too_long" and isinstance(err.get("input"), str):
        message += f" (it has {len(err['input'].strip())}): shorten it"
    if rule == "invalid-choice" and isinstance(err.get("input"), str):
        choices = re.findall(r"'([^']+)'", err["msg"])
        message += _did_you_mean(err["input"], choices)
    if kind in ("string_too_short", "string_too_long") and isinstance(err.get("input"), str):
        message += f" (it has {len(err['input'])})"  # the writer needs to know by how much
    return rule, message


def _where(raw: RawLesson, loc: tuple[Any, ...], prefer_key: bool = False) -> tuple[int, int]:
    assert raw.front is not None
    pos = raw.front.positions.get(tuple(loc)) if prefer_key else None
    pos = pos or safeyaml.position(raw.front, tuple(loc))
    if pos is None:
        return 1, 1
    return pos[0] + raw.front_start, pos[1] + 1


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    options = list(choices)
    word = word.lower()
    match = [c for c in options if c.startswith(word) or word.startswith(c)][:1]
    match = match or difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


_CHARACTER_RULES = {"control": "control-character", "bidi": "bidi-character", "zero-width": "zero-width-character"}
_CHARACTER_FIXES = {
    "control": "delete it (it can rewrite a terminal or break the site's pages)",
    "bidi": "delete it (it makes text read differently from what it says)",
    "zero-width": "delete it unless the language needs it (it hides inside words)",
}


def _check_characters(raw: RawLesson, data: dict[str, Any], out: Collector) -> None:
    """Invisible characters in front-matter text, each named, at the line of its value."""
    for key, value in data.items():
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            if not isinstance(item, str):
                continue
            loc = (key,) if index is None else (key, index)
            for kind, char in dict.fromkeys((kind, char) for _, kind, char in invisible(item)):  # each character once
                out.add(_CHARACTER_RULES[kind], f"{key}: {name_of(char)}: {_CHARACTER_FIXES[kind]}", *_where(raw, loc))


def _check_taxonomy(raw: RawLesson, data: dict[str, Any], taxonomy: Taxonomy, out: Collector) -> None:
    sector = data.get("sector")
    if isinstance(sector, str) and SLUG_RE.match(sector) and sector not in taxonomy.sectors:
        meant = suggest("sectors", sector, taxonomy)
        hint = f"; did you mean '{meant}'?" if meant else f"; valid sectors: {', '.join(sorted(taxonomy.sectors))}"
        out.add("unknown-sector", f"sector '{sector}' is not in the taxonomy{hint}", *_where(raw, ("sector",)))
    for name, known, rule in (
        ("business_function", taxonomy.business_functions, "unknown-business-function"),
        ("technologies", taxonomy.technologies, "unknown-technology"),
    ):
        values = data.get(name)
        if not isinstance(values, list):
            continue
        for index, value in enumerate(values):
            if isinstance(value, str) and SLUG_RE.match(value) and value not in known:
                meant = suggest(name if name == "technologies" else "business_functions", value, taxonomy)
                hint = f"; did you mean '{meant}'?" if meant else _did_you_mean(value, known)
                if not known:
                    hint = f"; the taxonomy has no {name.replace('_', ' ')}s: remove the field or add them to the taxonomy"
                out.add(rule, f"{name}: '{value}' is not in the taxonomy{hint}", *_where(raw, (name, index)))


def _check_references(raw: RawLesson, data: dict[str, Any], known_ids: Counter[str], out: Collector) -> None:
    refs: list[tuple[str, Any, tuple[Any, ...]]] = [(name, data.get(name), (name,)) for name in ("superseded_by", "duplicate_of")]
    if isinstance(data.get("related"), list):
        refs += [("related", ref, ("related", i)) for i, ref in enumerate(data["related"])]
    for name, ref, loc in refs:
        if not isinstance(ref, str) or not SLUG_RE.match(ref):
            continue  # absent, or already reported by the schema
        if ref == raw.id:
            out.add("self-reference", f"{name}: a lesson cannot point at itself", *_where(raw, loc))
        elif ref not in known_ids:
            out.add("missing-reference", f"{name}: no lesson with id '{ref}'{_did_you_mean(ref, known_ids)}", *_where(raw, loc))
    if data.get("status") == "superseded" and not data.get("superseded_by"):
        out.add("missing-successor", "status is 'superseded': set superseded_by to the lesson that replaces it", *_where(raw, ("status",)))
