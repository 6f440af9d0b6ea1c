"""Creating new lesson files: slugs and the template."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..core.choices import resolve, size_for_staff
from ..core.files import create_exclusive, write_atomic
from ..core.kb import KnowledgeBase
from ..core.taxonomy import Taxonomy
from ..core.vocabulary import (
    EXPECTED_SECTIONS,
    ID_MAX,
    OPTIONAL_SECTIONS,
    OUTCOMES,
    SIZE_HINT,
    SIZES,
    SLUG_WORD,
    SUMMARY_MAX,
    SUMMARY_MIN,
    TITLE_MAX,
    TITLE_MIN,
    guidance_for,
    headings_for,
    is_slug,
)
from ..errors import UsageError
from .answers import yaml_string

SCHEMA_FILE = Path("schema") / "lesson.schema.json"


def slugify(title: str, limit: int = ID_MAX) -> str:
    """A kebab-case lesson id from a title: accents dropped, words joined by hyphens, cut at a word boundary."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    words = re.findall(SLUG_WORD, ascii_text)
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or (words[0][:limit] if words else "")


@dataclass
class NewLesson:
    """What `lessons new` needs: the answers a contributor gives."""

    title: str
    sector: str
    size: str
    outcome: str
    technologies: list[str]
    language: str = "en"
    summary: str = ""


def validate_answers(kb: KnowledgeBase, answers: NewLesson) -> None:
    """Refuse answers the checker would refuse, naming the valid values."""
    taxonomy = kb.taxonomy
    check_title(answers.title)
    if answers.sector not in taxonomy.sectors:
        resolve("sector", answers.sector, taxonomy)
    if answers.size not in SIZES:
        raise UsageError(f"unknown company size '{answers.size}'; valid sizes: {', '.join(SIZES)}")
    if answers.outcome not in OUTCOMES:
        raise UsageError(f"unknown outcome '{answers.outcome}'; valid outcomes: {', '.join(OUTCOMES)}")
    if not answers.technologies:
        raise UsageError("give at least one technology (--technology SLUG)")
    for tech in answers.technologies:
        if not is_slug(tech):
            raise UsageError(f"technology '{tech}' is not a kebab-case slug (for example cloud-erp)")


def check_title(title: str) -> str:
    """The title, trimmed, if a lesson can have it; UsageError saying its length otherwise."""
    text = " ".join(title.split())
    if not TITLE_MIN <= len(text) <= TITLE_MAX:
        raise UsageError(f"the title is {len(text)} characters long; write {TITLE_MIN} to {TITLE_MAX}")
    if not slugify(text):
        raise UsageError("the title needs letters or digits (the file name is made from them)")
    return text


def interpret(kind: str, answer: str, taxonomy: Taxonomy) -> str:
    """A typed answer as the stored value: a slug, or a name, label or synonym in any language the taxonomy gives
    (hostelería -> hospitality, TPV -> point-of-sale); a head count for the size (12 -> small). UsageError with
    the value probably meant otherwise."""
    text = answer.strip()
    if kind == "size" and text.isdigit():
        size = size_for_staff(int(text))
        if size is None:
            raise UsageError(f"{text} staff is not a small or medium-sized company: {SIZE_HINT}")
        return size
    section = {"sector": "sectors", "technology": "technologies"}.get(kind)
    found = taxonomy.lookup(section, text) if section else None
    return found or resolve(kind, text, taxonomy)


def interpret_list(kind: str, answer: str, taxonomy: Taxonomy) -> list[str]:
    """A comma-separated answer, each part interpreted; at least one."""
    values = [interpret(kind, part, taxonomy) for part in answer.split(",") if part.strip()]
    if not values:
        raise UsageError(f"give at least one {kind}")
    return list(dict.fromkeys(values))


def render_template(answers: NewLesson, schema_ref: str, today: dt.date) -> str:
    """The text of a new lesson: front matter with the answers, every section with one line of guidance."""
    guidance = guidance_for(answers.language)
    headings = headings_for(answers.language)
    front = [
        "---",
        f"# yaml-language-server: $schema={schema_ref}",
        f"title: {yaml_string(answers.title.strip())}",
        f"# One or two sentences ({SUMMARY_MIN}-{SUMMARY_MAX} characters) with the key figures: what you did, what it cost, how it went.",
        f"summary: {yaml_string(answers.summary.strip())}",
        f"date: {today.isoformat()}",
        f"sector: {answers.sector}",
        f"company_size: {answers.size}",
        f"technologies: [{', '.join(answers.technologies)}]",
        f"outcome: {answers.outcome}",
        f"language: {answers.language}",
        "# Optional, remove what you do not know: country (ISO code), cost_eur, effort_person_days, duration_months,",
        "# would_do_again (yes, no, with-changes), products, tags, business_function, adoption_phase.",
        "contributor: anonymous",
        "---",
        "",
    ]
    body = []
    for key in (*EXPECTED_SECTIONS, *OPTIONAL_SECTIONS):
        body += [f"## {headings[key]}", "", f"_{guidance[key]}_", ""]
    return "\n".join(front + body)


def create_lesson(kb: KnowledgeBase, answers: NewLesson, folder: Path | None = None, today: dt.date | None = None) -> Path:
    """Write a new lesson file from the template; never overwrites. Returns its path."""
    validate_answers(kb, answers)
    slug = slugify(answers.title)
    if not slug:
        raise UsageError("the title has no letters or digits to make a file name from")
    folder = folder or kb.lessons_dir
    path = folder / f"{slug}.md"
    existing = [p for p in kb.lesson_files() if p.stem == slug]
    if path.exists() or existing:
        where = kb.relpath(existing[0] if existing else path)
        raise UsageError(f"{where} already exists: choose a different title (lesson ids must be unique)")
    schema_path = kb.root / SCHEMA_FILE
    if not schema_path.exists():
        from ..core.schema import json_schema

        write_atomic(schema_path, json.dumps(json_schema(kb.taxonomy), indent=2) + "\n")
    ref = Path(os.path.relpath(schema_path, folder)).as_posix()
    try:
        create_exclusive(path, render_template(answers, ref, today or dt.date.today()))
    except FileExistsError:
        raise UsageError(f"{kb.relpath(path)} already exists: choose a different title") from None
    return path
