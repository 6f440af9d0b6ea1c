"""Contributing without git: the GitHub issue form (generated from the taxonomy) and turning the body
of a filled-in form back into a lesson file. The form's questions are defined once, here."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from ..core.countries import country_code
from ..core.taxonomy import Taxonomy
from ..core.vocabulary import (
    EXPECTED_SECTIONS,
    LANGUAGE_NAMES,
    MAX_TECHNOLOGIES,
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
from .answers import parse_number, quote_answer
from .issue_reply import SUBMITTED_LABEL
from .new import slugify

NO_RESPONSE = "_No response_"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1 controls but tab and newline: never text
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


def questions(taxonomy: Taxonomy) -> tuple[Question, ...]:
    """The form's questions in the knowledge base's wording: its taxonomy may rename the company size."""
    company, size = taxonomy.word("company"), taxonomy.word("company_size")
    asked = Question("company_size", size, "dropdown", f"How many people work in your {company}?", True)
    return tuple(asked if q.id == "company_size" else q for q in QUESTIONS)


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
    for q in questions(taxonomy):
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
        "description": f"Tell others what happened when your {taxonomy.word('company')} adopted a technology.",
        "title": "Lesson: ",
        # not the maintainers' `lesson` label: a label given at creation would open a pull request unread
        "labels": [SUBMITTED_LABEL],
        "body": body,
    }
    import yaml

    header = "# Generated from lessons/taxonomy.yml by `lessons issue-form`; do not edit by hand.\n"
    return header + yaml.safe_dump(form, sort_keys=False, allow_unicode=True, width=120)


def parse_issue_body(text: str, taxonomy: Taxonomy | None = None) -> dict[str, str]:
    """The answers of an issue-form body ('### Label' then the answer), by question id; missing answers are ''.
    The labels are the project's and, given the taxonomy, the knowledge base's own wording of them.

    GitHub writes the questions in the form's order, so the real headings are the longest run of known labels in
    that order: a `### Title` line typed inside a later answer is out of order and stays part of that answer."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    order = {q.label: i for i, q in enumerate(QUESTIONS)}
    if taxonomy is not None:
        order |= {q.label: i for i, q in enumerate(questions(taxonomy))}
    candidates = [(n, order[line[4:].strip()]) for n, line in enumerate(lines) if line.startswith("### ") and line[4:].strip() in order]
    headings = _in_form_order(candidates)
    answers = {q.id: "" for q in QUESTIONS}
    for (n, index), following in zip(headings, [*headings[1:], (len(lines), -1)]):
        value = "\n".join(lines[n + 1 : following[0]]).strip()
        answers[QUESTIONS[index].id] = "" if value == NO_RESPONSE else value
    return answers


def _in_form_order(candidates: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of (line, question index) whose question indexes increase (patience sorting, n log n)."""
    import bisect

    tails: list[int] = []  # tails[k]: question index ending the best run of length k + 1 so far
    ends: list[int] = []  # the candidate position ending that run
    previous: list[int] = []
    for position, (_, index) in enumerate(candidates):
        k = bisect.bisect_left(tails, index)
        previous.append(ends[k - 1] if k else -1)
        if k == len(tails):
            tails.append(index)
            ends.append(position)
        else:
            tails[k], ends[k] = index, position
    run, position = [], ends[-1] if ends else -1
    while position >= 0:
        run.append(candidates[position])
        position = previous[position]
    return run[::-1]


@dataclass
class IssueLesson:
    """A lesson made from an issue: its file name, its text, and notes about answers that were dropped."""

    filename: str
    text: str
    notes: list[str]


def lesson_from_issue(body: str, taxonomy: Taxonomy, today: dt.date | None = None) -> IssueLesson:
    """Turn an issue-form body into a lesson file. Contributed text is kept as text: HTML is escaped, control
    characters dropped, and the front matter written by a YAML emitter, so any title stays valid YAML."""
    answers = {key: _CONTROL.sub("", value) for key, value in parse_issue_body(body, taxonomy).items()}
    asked = questions(taxonomy)
    missing = [q.label for q in asked if q.required and not answers[q.id]]
    if missing:
        raise UsageError(f"the issue does not answer: {', '.join(missing)}")
    for q in asked:
        if len(answers[q.id]) > MAX_FIELD:
            raise UsageError(f"the answer to '{q.label}' is {len(answers[q.id]):,} characters long; the limit is {MAX_FIELD:,}")
    choice = {q.id: _choose(q, answers[q.id], taxonomy) for q in asked if q.kind == "dropdown"}
    language = choice.get("language") or "en"
    title = " ".join(answers["title"].split())
    technologies = _technologies(answers["technologies"], taxonomy)
    front: dict[str, object] = {
        "title": title,
        "summary": " ".join(answers["summary"].split()),
        "date": today or dt.date.today(),
        "sector": choice["sector"],
        "company_size": choice["company_size"],
        "technologies": technologies,
        "outcome": choice["outcome"],
        "language": language,
    }
    notes = _optional_fields(front, answers, language)
    if choice.get("would_do_again"):
        front["would_do_again"] = choice["would_do_again"]
    named = "[x]" in answers["consent"].lower() and answers["contributor"].strip()
    front["contributor"] = " ".join(answers["contributor"].split())[:SHORT_TEXT_MAX] if named else "anonymous"
    headings = headings_for(language)
    lines = ["---", _yaml_front_matter(front).rstrip("\n"), "---", ""]
    for key in SECTION_KEYS:
        if answers[key]:
            lines += [f"## {headings[key]}", "", _plain(answers[key]), ""]
    return IssueLesson(f"{_slug(title)}.md", "\n".join(lines), notes)


def _optional_fields(front: dict[str, object], answers: dict[str, str], language: str) -> list[str]:
    """Country, cost and duration into `front`; numbers read as the contributor's language writes them."""
    notes = []
    country = answers["country"].strip()
    if country:
        code = country_code(country)  # 'ES', 'es', 'Spain' or 'España'
        if code:
            front["country"] = code
        else:
            notes.append(f"country {quote_answer(country, 20)} is not a country code or name: left out")
    for key in ("cost_eur", "duration_months"):
        if answers[key]:
            front[key] = parse_number(answers[key], language, next(q.label for q in QUESTIONS if q.id == key))
    return notes


def _slug(title: str) -> str:
    """The file name's slug. A title mostly in another script (Greek, Cyrillic, Chinese) keeps its Latin words and
    gets 'lesson-' and a short hash of the title, so it is still unique to that title."""
    slug = slugify(title)
    letters = [ch for ch in title if ch.isalnum()]
    if not letters:
        raise UsageError("the title has no letters or digits to make a file name from")
    if len(slug.replace("-", "")) * 2 >= len(letters):
        return slug
    return "-".join(filter(None, [slugify(title, 40), "lesson", hashlib.sha256(title.encode("utf-8")).hexdigest()[:10]]))


def _yaml_front_matter(front: dict[str, object]) -> str:
    """Front matter as a YAML emitter writes it: quoting and escapes are the emitter's job, never hand-made."""
    import yaml

    return yaml.safe_dump(front, sort_keys=False, allow_unicode=True, default_flow_style=None, width=1_000_000)


def _choose(question: Question, answer: str, taxonomy: Taxonomy) -> str | None:
    if not answer:
        return None
    options = dropdown_options(question, taxonomy)
    value = options.get(answer.strip()) or (answer.strip() if answer.strip() in options.values() else None)
    if value is None and question.id == "sector":
        value = taxonomy.lookup("sectors", answer)
    if value is None:
        raise UsageError(f"{quote_answer(answer)} is not one of the choices for '{question.label}'")
    return value


def _technologies(answer: str, taxonomy: Taxonomy) -> list[str]:
    """Slugs for the technologies named, through the taxonomy's names, labels and synonyms in every language
    (TPV -> point-of-sale, TicketBAI -> e-invoicing); a name it does not know becomes a slug of its own."""
    out = []
    for part in re.split(r"[,;\n]", answer):
        words = part.strip()
        if not words:
            continue
        slug = taxonomy.lookup("technologies", words) or slugify(words, 40)
        if slug and slug not in out:
            out.append(slug)
    if not out:
        raise UsageError("the issue names no technology")
    return out[:MAX_TECHNOLOGIES]


def _plain(text: str) -> str:
    """Contributed text as Markdown text: '<' escaped, so no tag in an issue becomes markup."""
    return text.replace("\r\n", "\n").replace("<", "&lt;").strip()
