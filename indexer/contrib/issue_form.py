"""Contributing without git: the GitHub issue form (generated from the taxonomy) and turning the body
of a filled-in form back into a lesson file. The form's questions are defined once, here."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from ..core.taxonomy import Taxonomy
from ..core.vocabulary import (
    EXPECTED_SECTIONS,
    LANGUAGE_NAMES,
    OPTIONAL_SECTIONS,
    OUTCOME_LABELS,
    OUTCOMES,
    SECTION_GUIDANCE,
    SECTION_HEADINGS,
    SHORT_TEXT_MAX,
    SIZE_LABELS,
    SIZES,
    TITLE_MAX,
    TITLE_MIN,
    WOULD_DO_AGAIN_LABELS,
    headings_for,
)
from ..errors import UsageError
from .issue_reply import SUBMITTED_LABEL
from .new import slugify

NO_RESPONSE = "_No response_"
MAX_FIELD = 20_000  # characters per answer; a lesson file must stay under 256 KiB
CONSENT = "Publish my name or my organisation's name with the lesson"
SECTION_KEYS = (*EXPECTED_SECTIONS, *OPTIONAL_SECTIONS)  # every body section is a question of the form


@dataclass(frozen=True)
class Question:
    id: str
    label: str
    kind: str  # input, textarea, dropdown, checkboxes
    description: str
    required: bool = False


QUESTIONS = (
    Question("title", "Title", "input", f"What is the lesson about, in one line ({TITLE_MIN} to {TITLE_MAX} characters)?", True),
    Question("summary", "Summary", "textarea", "The lesson in one or two sentences, with the key figures (cost, time, result).", True),
    Question("sector", "Sector", "dropdown", "Your line of business.", True),
    Question("company_size", "Company size", "dropdown", "How many people work in your company?", True),
    Question("outcome", "Outcome", "dropdown", "How did it turn out?", True),
    Question(
        "technologies",
        "Technologies",
        "input",
        "Which technologies, separated by commas (for example: cloud ERP, e-invoicing, backups).",
        True,
    ),
    Question("language", "Language of the lesson", "dropdown", "The language you write the lesson in."),
    Question("country", "Country", "input", "Two-letter country code, for example ES, DE or IE."),
    Question("cost_eur", "Total cost in euros", "input", "What it cost in total, as a number (for example 14000)."),
    Question("duration_months", "Duration in months", "input", "How long it took, as a number."),
    Question("would_do_again", "Would you do it again?", "dropdown", "Knowing what you know now."),
    *(
        Question(key, SECTION_HEADINGS["en"][key], "textarea", SECTION_GUIDANCE["en"][key], key in EXPECTED_SECTIONS)
        for key in SECTION_KEYS
    ),
    Question("contributor", "Your name or organisation", "input", "Optional. Only published if you tick the box below."),
    Question("consent", "Publishing your name", "checkboxes", "Leave unticked to stay anonymous."),
)


def dropdown_options(question: Question, taxonomy: Taxonomy) -> dict[str, str]:
    """Option label shown in the form -> value written in the lesson."""
    if question.id == "sector":
        return {name: slug for slug, name in taxonomy.sectors.items()}
    if question.id == "company_size":
        return {SIZE_LABELS[size]: size for size in SIZES}
    if question.id == "outcome":
        return {OUTCOME_LABELS[outcome]: outcome for outcome in OUTCOMES}
    if question.id == "language":
        return {name: code for code, name in LANGUAGE_NAMES.items()}
    if question.id == "would_do_again":
        return {label: value for value, label in WOULD_DO_AGAIN_LABELS.items()}
    raise KeyError(question.id)


def render_issue_form(taxonomy: Taxonomy) -> str:
    """The YAML of .github/ISSUE_TEMPLATE/lesson.yml (`lessons issue-form` writes it; a test checks it is current)."""
    body: list[dict] = [
        {
            "type": "markdown",
            "attributes": {
                "value": (
                    "Thank you for sharing your experience! Answer in plain words; a maintainer turns your answers into a lesson "
                    "and publishes it. Please do not include e-mail addresses, phone numbers or names of private people: the "
                    "knowledge base is public."
                )
            },
        }
    ]
    for q in QUESTIONS:
        attributes: dict = {"label": q.label, "description": q.description}
        if q.kind == "dropdown":
            attributes["options"] = list(dropdown_options(q, taxonomy))
        if q.kind == "checkboxes":
            attributes["options"] = [{"label": CONSENT}]
        item = {"type": q.kind, "id": q.id, "attributes": attributes}
        if q.required:
            item["validations"] = {"required": True}
        body.append(item)
    form = {
        "name": "Share a lesson",
        "description": "Tell other small businesses what happened when you adopted a technology.",
        "title": "Lesson: ",
        # not the maintainers' `lesson` label: a label given at creation would open a pull request unread
        "labels": [SUBMITTED_LABEL],
        "body": body,
    }
    import yaml

    header = "# Generated from lessons/taxonomy.yml by `lessons issue-form`; do not edit by hand.\n"
    return header + yaml.safe_dump(form, sort_keys=False, allow_unicode=True, width=120)


def parse_issue_body(text: str) -> dict[str, str]:
    """The answers of an issue-form body ('### Label' then the answer), by question id; missing answers are ''."""
    by_label = {q.label: q.id for q in QUESTIONS}
    answers = {q.id: "" for q in QUESTIONS}
    current = None
    buffer: list[str] = []
    for line in [*text.replace("\r\n", "\n").split("\n"), "### "]:
        if line.startswith("### "):
            if current is not None:
                value = "\n".join(buffer).strip()
                answers[current] = "" if value == NO_RESPONSE else value
            current = by_label.get(line[4:].strip())
            buffer = []
        elif current is not None:
            buffer.append(line)
    return answers


@dataclass
class IssueLesson:
    """A lesson made from an issue: its file name, its text, and notes about answers that were dropped."""

    filename: str
    text: str
    notes: list[str]


def lesson_from_issue(body: str, taxonomy: Taxonomy, today: dt.date | None = None) -> IssueLesson:
    """Turn an issue-form body into a lesson file. Contributed text is kept as text: HTML is escaped."""
    answers = parse_issue_body(body)
    notes: list[str] = []
    missing = [q.label for q in QUESTIONS if q.required and not answers[q.id]]
    if missing:
        raise UsageError(f"the issue does not answer: {', '.join(missing)}")
    for q in QUESTIONS:
        if len(answers[q.id]) > MAX_FIELD:
            raise UsageError(f"the answer to '{q.label}' is {len(answers[q.id]):,} characters long; the limit is {MAX_FIELD:,}")
    title = re.sub(r"\s+", " ", answers["title"]).strip()
    slug = slugify(title)
    if not slug:
        raise UsageError("the title has no letters or digits to make a file name from")
    choice = {q.id: _choose(q, answers[q.id], taxonomy) for q in QUESTIONS if q.kind == "dropdown"}
    language = choice.get("language") or "en"
    front: dict[str, object] = {
        "title": title,
        "summary": re.sub(r"\s+", " ", answers["summary"]).strip(),
        "date": (today or dt.date.today()).isoformat(),
        "sector": choice["sector"],
        "company_size": choice["company_size"],
        "technologies": _technologies(answers["technologies"], taxonomy),
        "outcome": choice["outcome"],
        "language": language,
    }
    country = answers["country"].strip().upper()
    if country:
        if re.fullmatch(r"[A-Z]{2}", country):
            front["country"] = country
        else:
            notes.append(f"country '{country[:20]}' is not a two-letter code: left out")
    for key in ("cost_eur", "duration_months"):
        number = _number(answers[key])
        if number is not None:
            front[key] = number
        elif answers[key]:
            notes.append(f"{key} '{answers[key][:20]}' is not a number: left out")
    if choice.get("would_do_again"):
        front["would_do_again"] = choice["would_do_again"]
    named = "[x]" in answers["consent"].lower() and answers["contributor"].strip()
    front["contributor"] = re.sub(r"\s+", " ", answers["contributor"]).strip()[:SHORT_TEXT_MAX] if named else "anonymous"
    headings = headings_for(language)
    lines = ["---", *(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in front.items()), "---", ""]
    for key in SECTION_KEYS:
        if answers[key]:
            lines += [f"## {headings[key]}", "", _plain(answers[key]), ""]
    return IssueLesson(f"{slug}.md", "\n".join(lines), notes)


def _choose(question: Question, answer: str, taxonomy: Taxonomy) -> str | None:
    if not answer:
        return None
    options = dropdown_options(question, taxonomy)
    value = options.get(answer.strip()) or (answer.strip() if answer.strip() in options.values() else None)
    if value is None:
        raise UsageError(f"'{answer[:60]}' is not one of the choices for '{question.label}'")
    return value


def _technologies(answer: str, taxonomy: Taxonomy) -> list[str]:
    names = {name.lower(): slug for slug, name in taxonomy.technologies.items()}
    out = []
    for part in re.split(r"[,;\n]", answer):
        words = part.strip()
        if not words:
            continue
        slug = names.get(words.lower()) or slugify(words, 40)
        if slug and slug not in out:
            out.append(slug)
    if not out:
        raise UsageError("the issue names no technology")
    return out[:10]


def _number(answer: str) -> float | int | None:
    cleaned = re.sub(r"[€\s]|eur(os)?", "", answer.strip(), flags=re.IGNORECASE).replace(",", "")
    if not re.fullmatch(r"\d+(\.\d+)?", cleaned):
        return None
    value = float(cleaned)
    return int(value) if value.is_integer() else value


def _plain(text: str) -> str:
    """Contributed text as Markdown text: '<' escaped, so no tag in an issue becomes markup."""
    return text.replace("\r\n", "\n").replace("<", "&lt;").strip()
