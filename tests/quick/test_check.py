"""`lessons check`: one bad input per rule, each asserting the rule id, the path and the line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from indexer.core.check import check_knowledge_base
from indexer.core.kb import find_root
from indexer.core.rules import RULES
from tests.helpers import BODY_EN, lesson_text, make_unreadable_folder

SCRIPT_BODY = BODY_EN + "\n<script>alert(1)</script>\n"

# (case name, file name, file content (str or bytes), expected rule, expected line)
CASES: list[tuple[str, str, str | bytes, str, int]] = [
    ("empty", "empty-one.md", "", "empty-file", 1),
    ("whitespace only", "blank-one.md", "\n \n", "empty-file", 1),
    ("latin-1 bytes", "latin-one.md", lesson_text().encode() + b"\ncaf\xe9\n", "not-utf8", 33),
    ("no front matter", "plain-one.md", "# Title\n\nSome text\n", "no-front-matter", 1),
    ("unclosed front matter", "open-one.md", "---\ntitle: x\n", "unclosed-front-matter", 1),
    ("yaml syntax", "syntax-one.md", lesson_text(title="[unclosed"), "yaml-syntax", 3),
    ("yaml python tag", "tag-one.md", lesson_text(title='!!python/object/apply:os.system ["id"]'), "yaml-unsafe", 2),
    ("yaml custom tag", "custom-tag.md", lesson_text(region="!secret x"), "yaml-unsafe", 10),
    ("yaml alias", "alias-one.md", lesson_text(tags="&t [a, b]", products="*t"), "yaml-alias", 11),
    ("front matter is a list", "list-one.md", "---\n- a\n- b\n---\nbody\n", "front-matter-not-mapping", 1),
    ("bad file name", "Bad_Name.md", lesson_text(), "invalid-id", 1),
    ("file name too long", "a" * 81 + ".md", lesson_text(), "invalid-id", 1),
    ("unknown key", "typo-one.md", lesson_text(outcom="success"), "unknown-key", 10),
    ("missing title", "notitle-one.md", lesson_text(title=None), "missing-field", 1),
    ("title is a number", "numtitle-one.md", lesson_text(title="12345678901"), "invalid-type", 2),
    ("outcome misspelt", "choice-one.md", lesson_text(outcome="sucess"), "invalid-choice", 8),
    ("company size wrong", "size-one.md", lesson_text(company_size="large"), "invalid-choice", 6),
    ("title too short", "short-title.md", lesson_text(title='"Too short"'), "invalid-length", 2),
    ("summary too long", "long-summary.md", lesson_text(summary='"' + "x" * 401 + '"'), "invalid-length", 3),
    ("no technologies", "notech-one.md", lesson_text(technologies="[]"), "invalid-length", 7),
    ("date not ISO", "date-one.md", lesson_text(date='"14/09/2025"'), "invalid-date", 4),
    ("date impossible", "date-two.md", lesson_text(date='"2025-02-30"'), "invalid-date", 4),
    ("date in future", "future-one.md", lesson_text(date="2999-01-01"), "future-date", 4),
    ("technology not a slug", "slug-one.md", lesson_text(technologies="[e-invoicing, Cloud ERP]"), "invalid-slug", 7),
    ("country not ISO", "country-one.md", lesson_text(country="ZZ"), "invalid-country", 10),
    ("language not BCP 47", "lang-one.md", lesson_text(language='"english please"'), "invalid-language", 10),
    ("negative cost", "cost-one.md", lesson_text(cost_eur="-5"), "out-of-range", 10),
    ("cost with units", "cost-two.md", lesson_text(cost_eur='"12k EUR"'), "invalid-type", 10),
    ("sample not boolean", "sample-one.md", lesson_text(sample="[1]"), "invalid-type", 9),
    ("unknown sector", "sector-one.md", lesson_text(sector="retail"), "unknown-sector", 5),
    ("unknown business function", "bf-one.md", lesson_text(business_function="[finanse]"), "unknown-business-function", 10),
    ("unknown technology", "tech-one.md", lesson_text(technologies="[e-invoicing, cloud-erpp]"), "unknown-technology", 7),
    ("missing reference", "ref-one.md", lesson_text(related="[no-such-lesson]"), "missing-reference", 10),
    ("self reference", "self-one.md", lesson_text(duplicate_of="self-one"), "self-reference", 10),
    ("superseded without successor", "sup-one.md", lesson_text(status="superseded"), "missing-successor", 10),
    ("missing section", "nosec-one.md", lesson_text(body=BODY_EN.replace("## What happened", "## Results")), "missing-section", 11),
    ("duplicate section", "dupsec-one.md", lesson_text(body=BODY_EN + "\n## Context\n\nMore.\n"), "duplicate-section", 33),
    ("short body", "tiny-one.md", lesson_text(body="## Context\n\nToo short.\n"), "short-body", 11),
    ("e-mail address", "mail-one.md", lesson_text(body=BODY_EN + "\nWrite to owner@example.org for details.\n"), "personal-email", 33),
    ("phone number", "phone-one.md", lesson_text(body=BODY_EN + "\nCall us on +34 612 345 678 any day.\n"), "personal-phone", 33),
    ("IBAN", "iban-one.md", lesson_text(body=BODY_EN + "\nPay to DE89 3704 0044 0532 0130 00 please.\n"), "personal-iban", 33),
    ("raw html", "html-one.md", lesson_text(body=BODY_EN + "\nSome <b>bold</b> words.\n"), "raw-html", 33),
    ("script tag", "script-one.md", lesson_text(body=SCRIPT_BODY), "unsafe-html", 33),
    ("iframe", "iframe-one.md", lesson_text(body=BODY_EN + '\n<iframe src="x"></iframe>\n'), "unsafe-html", 33),
    ("event attribute", "event-one.md", lesson_text(body=BODY_EN + "\n<img src=x onerror=alert(1)>\n"), "unsafe-html", 33),
    ("javascript link", "js-one.md", lesson_text(body=BODY_EN + "\n[click](javascript:alert(1))\n"), "unsafe-link", 33),
    ("encoded javascript link", "js-two.md", lesson_text(body=BODY_EN + "\n[click](jav&#x61;script:alert(1))\n"), "unsafe-link", 33),
    ("list nested 500 deep", "deep-one.md", lesson_text(body=BODY_EN + "\n" + "- " * 500 + "deep\n"), "nesting-too-deep", 33),
    (
        "indented list 40 deep",
        "deep-two.md",
        lesson_text(body=BODY_EN + "\n" + "\n".join("    " * i + "- x" for i in range(40))),
        "nesting-too-deep",
        49,
    ),
    ("quotes 100 deep", "deep-three.md", lesson_text(body=BODY_EN + "\n" + "> " * 100 + "x\n"), "nesting-too-deep", 33),
    ("bracket run", "brackets-one.md", lesson_text(body=BODY_EN + "\n" + "[" * 4000 + "x" + "](" * 4000), "bracket-run", 33),
    ("bracket lines", "brackets-two.md", lesson_text(body=BODY_EN + "\n" + "[\n" * 20000), "bracket-run", 33),
    ("tag run", "tags-one.md", lesson_text(body=BODY_EN + "\n" + "<a " * 16000), "tag-run", 33),
    ("body too large", "huge-one.md", lesson_text(body=BODY_EN + "\n" + "word " * 25000), "body-too-large", 11),
    ("escape in title", "esc-one.md", lesson_text(title='"\\e]0;PWNED\\a\\e[2J Moving our invoices"'), "control-character", 2),
    ("raw DELETE in title", "del-one.md", lesson_text(title='"Moving our\x7f invoices online"'), "control-character", 2),
    ("bidi override in title", "bidi-one.md", lesson_text(title='"Moving our \\u202einvoices online"'), "bidi-character", 2),
    ("zero width in product", "zw-one.md", lesson_text(products='["Fac\\u200btura"]'), "zero-width-character", 10),
    ("duplicate key", "dupkey-one.md", lesson_text().replace("sample: true", "sample: true\noutcome: failure"), "yaml-duplicate-key", 10),
    ("set tag", "set-one.md", lesson_text(tags="!!set {a, b}"), "yaml-unsafe", 10),
    ("binary tag", "binary-one.md", lesson_text(products="[!!binary aGVsbG8=]"), "yaml-unsafe", 10),
    ("infinite cost", "inf-one.md", lesson_text(cost_eur=".inf"), "yaml-non-finite", 10),
    ("not-a-number effort", "nan-one.md", lesson_text(effort_person_days=".NaN"), "yaml-non-finite", 10),
    ("tag named like a page", "tagindex-one.md", lesson_text(tags="[index]"), "invalid-value", 10),
    ("unclosed style", "style-one.md", lesson_text(body=BODY_EN + "\n<style>\nthe rest\n"), "unsafe-html", 33),
    ("language not ISO 639-1", "lang-two.md", lesson_text(language="xx"), "invalid-language", 10),
]


def _check(root: Path, name: str, content: str | bytes):
    path = root / "lessons" / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path, check_knowledge_base(find_root(explicit=root), [path])


@pytest.mark.parametrize(("name", "content", "rule", "line"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_reported_with_rule_path_and_line(kb: Path, name: str, content: str | bytes, rule: str, line: int) -> None:
    path, report = _check(kb, name, content)
    hits = [f for f in report.findings if f.rule == rule]
    assert hits, f"expected [{rule}], got {[f.format() for f in report.findings]}"
    assert hits[0].path == os.path.relpath(path)
    assert hits[0].line == line
    assert hits[0].level == RULES[rule][0]


def test_every_rule_has_a_case() -> None:
    covered = {c[3] for c in CASES} | {"symlink", "file-too-large", "duplicate-id", "unreadable", "invalid-value", "unreadable-folder"}
    covered |= {"render-failed", "not-regular"}  # tests/quick/test_render_bounds.py, test_hostile_files.py
    assert covered >= set(RULES)


def test_a_valid_lesson_has_no_findings(kb: Path) -> None:
    _, report = _check(kb, "good-one.md", lesson_text())
    assert report.findings == []
    assert [lesson.id for lesson in report.lessons] == ["good-one"]


def test_crlf_and_bom_are_accepted(kb: Path) -> None:
    text = "\ufeff" + lesson_text().replace("\n", "\r\n")
    _, report = _check(kb, "crlf-one.md", text)
    assert report.findings == []


def test_yaml_12_booleans_keep_norway_a_country(kb: Path) -> None:
    _, report = _check(kb, "norway-one.md", lesson_text(country="NO", would_do_again="yes"))
    assert report.findings == []
    assert report.lessons[0].meta.country == "NO"
    assert report.lessons[0].meta.would_do_again == "yes"


def test_symlink_is_refused_and_not_followed(kb: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    secret = tmp_path_factory.mktemp("outside") / "secret.md"
    secret.write_text(lesson_text())
    link = kb / "lessons" / "link-one.md"
    link.symlink_to(secret)
    report = check_knowledge_base(find_root(explicit=kb))
    assert [(f.rule, f.path) for f in report.findings] == [("symlink", os.path.relpath(link))]
    assert report.lessons == []


def test_file_over_256_kib_is_refused(kb: Path) -> None:
    _, report = _check(kb, "huge-one.md", lesson_text(body=BODY_EN + "word " * 60_000))
    assert [f.rule for f in report.findings] == ["file-too-large"]


def test_an_unreadable_folder_is_reported_not_skipped(kb: Path) -> None:
    """A folder whose path the system refuses (here: longer than PATH_MAX, which stops root too) is an error finding."""
    (kb / "lessons" / "fine-one.md").write_text(lesson_text())
    deep = make_unreadable_folder(kb / "lessons" / "archive")
    report = check_knowledge_base(find_root(explicit=kb))
    [finding] = report.findings
    assert finding.rule == "unreadable-folder" and finding.level == "error" and "cannot read this folder" in finding.message
    assert deep.startswith(str(kb)) and [lesson.id for lesson in report.lessons] == ["fine-one"]


@pytest.mark.parametrize(
    "spelling", ["lessons/one-lesson.md", "./lessons/one-lesson.md", "lessons", "lessons/", "../kb-name/lessons/one-lesson.md"]
)
def test_a_file_named_on_the_command_line_is_not_its_own_duplicate(kb: Path, monkeypatch: pytest.MonkeyPatch, spelling: str) -> None:
    root = kb / "kb-name"  # a knowledge base inside the temporary one, so '../kb-name' names it too
    (root / "lessons").mkdir(parents=True)
    (kb / "lessons" / "taxonomy.yml").rename(root / "lessons" / "taxonomy.yml")
    (root / "lessons" / "one-lesson.md").write_text(lesson_text())
    monkeypatch.chdir(root)
    report = check_knowledge_base(find_root(), [Path(spelling)])
    assert report.findings == [] and [lesson.id for lesson in report.lessons] == ["one-lesson"]


def test_duplicate_ids_across_subfolders(kb: Path) -> None:
    (kb / "lessons" / "a").mkdir()
    (kb / "lessons" / "b").mkdir()
    (kb / "lessons" / "a" / "same-id.md").write_text(lesson_text())
    (kb / "lessons" / "b" / "same-id.md").write_text(lesson_text())
    report = check_knowledge_base(find_root(explicit=kb))
    dup = [f for f in report.findings if f.rule == "duplicate-id"]
    assert len(dup) == 2 and all("same-id" in f.message for f in dup)
    assert report.lessons == []


def test_every_problem_is_collected_in_one_run(kb: Path) -> None:
    text = lesson_text(outcome="sucess", sector="retail", body=SCRIPT_BODY + "\nowner@example.org\n")
    _, report = _check(kb, "many-one.md", text)
    assert {"invalid-choice", "unknown-sector", "unsafe-html", "personal-email"} <= {f.rule for f in report.findings}


def test_privacy_messages_never_repeat_the_value(kb: Path) -> None:
    body = BODY_EN + "\nowner@example.org, +34 612 345 678, DE89 3704 0044 0532 0130 00\n"
    _, report = _check(kb, "privacy-one.md", lesson_text(body=body))
    assert len(report.findings) == 3
    for finding in report.findings:
        assert "example.org" not in finding.format() and "612" not in finding.format() and "3704" not in finding.format()


@pytest.mark.parametrize(
    "text",
    [
        "It cost 14,000 euros over 2025-03-14 to 2025-09-30.",
        "We moved 1,800 invoices a month, 95 per cent, 6 days sooner.",
        "Version 2.14.1 and order 20250914 shipped.",
        "We used JavaScript: it was fine. The <https://example.org> page and `<script>` in code are fine.",
        "```\n<script>alert(1)</script>\n```",
    ],
)
def test_ordinary_text_is_not_flagged(kb: Path, text: str) -> None:
    _, report = _check(kb, "ordinary-one.md", lesson_text(body=BODY_EN + "\n" + text + "\n"))
    assert report.findings == []


def test_unknown_key_suggests_the_closest_field(kb: Path) -> None:
    _, report = _check(kb, "typo-two.md", lesson_text(sumary='"x"'))
    assert any("did you mean 'summary'" in f.message for f in report.findings)


def test_unknown_technology_names_the_closest_slug(kb: Path) -> None:
    _, report = _check(kb, "tech-two.md", lesson_text(technologies="[einvoicing]"))
    [finding] = report.findings
    assert finding.level == "warning" and "'e-invoicing'" in finding.message


def test_spanish_lessons_use_spanish_headings(kb: Path) -> None:
    body = BODY_EN.replace("## Context", "## Contexto").replace("## What we did", "## Qué hicimos")
    body = body.replace("## What happened", "## Qué pasó").replace("## Lessons learned", "## Lecciones aprendidas")
    _, report = _check(kb, "espanol-one.md", lesson_text(language="es", body=body))
    assert report.findings == []
    _, report = _check(kb, "espanol-two.md", lesson_text(language="es"))
    assert {f.rule for f in report.findings} == {"missing-section"}


@pytest.mark.parametrize("other_thread", [False, True], ids=["fork", "forkserver"])
def test_parallel_check_matches_the_serial_one(kb: Path, monkeypatch: pytest.MonkeyPatch, other_thread: bool) -> None:
    import threading

    from indexer.core import check as checks

    for i, (name, content, *_rest) in enumerate(c[1:] for c in CASES[:12]):
        (kb / "lessons" / f"{i}-{name}").write_bytes(content.encode() if isinstance(content, str) else content)
    (kb / "lessons" / "good-one.md").write_text(lesson_text())
    serial = check_knowledge_base(find_root(explicit=kb))
    monkeypatch.setattr(checks, "PARALLEL_FROM", 2)
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    if other_thread:
        thread.start()  # a running thread makes the pool start clean workers instead of forking
    try:
        parallel = check_knowledge_base(find_root(explicit=kb))
    finally:
        release.set()
        if other_thread:
            thread.join()
    assert parallel.findings == serial.findings and len(serial.findings) > 10
    assert [lesson.id for lesson in parallel.lessons] == [lesson.id for lesson in serial.lessons] == ["good-one"]


PHONES = [
    "612 345 678", "612345678", "947 20 30 40", "91 123 45 67", "+34 612 345 678", "0034 947203040",  # Spain
    "01 23 45 67 89", "06 12 34 56 78", "0612345678", "+33 6 12 34 56 78",  # France
    "030 12345678", "0171 1234567", "0151-12345678", "(030) 123 456 78", "+49 30 1234567",  # Germany
    "02 1234 5678", "347 123 4567", "3471234567", "06 12345678",  # Italy
    "912 345 678", "21 123 4567", "213 456 789", "+351 912 345 678",  # Portugal
]  # fmt: skip
NOT_PHONES = [
    "2025", "in 2024 and 2025", "from 2019 to 2025", "2025-03-14", "14/03/2025", "14.03.2025", "2019-2020",  # years, dates
    "18,000 €", "1.234.567 EUR", "12 000 €", "250 000 000 €", "250 000 000 euros", "3 400 users", "99.9%",  # amounts
    "order 612345678", "pedido nº 612 345 678", "invoice 947203040", "Ref: 912 345 678", "ticket #3471234567",  # references
    "28013 Madrid", "75001 Paris", "10115 Berlin", "1000-001 Lisboa", "ISO 27001", "ISO 9001:2015",  # postcodes, norms
    "version 10.2.3", "1-2 weeks", "between 20 and 30 staff", "1.234,56 €", "612.345.678 EUR",
]  # fmt: skip


@pytest.mark.parametrize("number", PHONES)
def test_phone_numbers_in_national_formats_are_found(number: str) -> None:
    from indexer.core.body_rules import phone_numbers

    text = f"Call us on {number} any day."
    assert phone_numbers(text) == [len("Call us on ")]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_years_prices_dates_and_references_are_not_phone_numbers(text: str) -> None:
    from indexer.core.body_rules import phone_numbers

    assert phone_numbers(f"We paid {text} in the end.") == []


def test_a_spanish_mobile_without_prefix_is_reported_on_its_line(kb: Path) -> None:
    _, report = _check(kb, "movil-one.md", lesson_text(body=BODY_EN + "\nLlamadnos al 612 345 678.\n"))
    assert [(f.rule, f.line) for f in report.findings] == [("personal-phone", 33)]


def test_unknown_taxonomy_values_suggest_through_names_and_synonyms(kb: Path) -> None:
    """tpv and ticketbai are synonyms in the taxonomy: the suggestion is what they mean, not the nearest spelling."""
    content = lesson_text(sector="retail", technologies="[tpv, ticketbai, cloud-erpp, quantum-widgets]")
    _, report = _check(kb, "tpv-one.md", content)
    messages = [f.message for f in report.findings if f.rule in ("unknown-sector", "unknown-technology")]
    assert messages == [
        "sector 'retail' is not in the taxonomy; did you mean 'retail-wholesale'?",
        "technologies: 'tpv' is not in the taxonomy; did you mean 'point-of-sale'?",
        "technologies: 'ticketbai' is not in the taxonomy; did you mean 'e-invoicing'?",
        "technologies: 'cloud-erpp' is not in the taxonomy; did you mean 'cloud-erp'?",
        "technologies: 'quantum-widgets' is not in the taxonomy",
    ]


@pytest.mark.parametrize(("title", "length"), [("Too short", 9), ("A title far too long " * 7, 147)])
def test_a_title_of_the_wrong_length_says_its_length(kb: Path, title: str, length: int) -> None:
    _, report = _check(kb, "length-one.md", lesson_text(title=f'"{title}"'))
    [finding] = [f for f in report.findings if f.rule == "invalid-length"]
    assert finding.message.endswith(f"(it has {length})") and finding.line == 2, finding.format()


@pytest.mark.parametrize(
    ("content", "rule", "line", "words"),
    [
        (lesson_text(title="Cloud ERP: what went wrong for us"), "yaml-syntax", 2, 'put the value in quotes, for example title: "'),
        (lesson_text(title='"' + "A very long title " * 8 + '"'), "invalid-length", 2, "at most 120 characters (it has 143)"),
        (lesson_text(title='"Café invoices moved online"').encode("latin-1"), "not-utf8", 2, "save it as UTF-8"),
        (lesson_text(date="2026-02-30"), "invalid-date", 4, "'2026-02-30' is not a real calendar date"),
        (lesson_text(language="xx"), "invalid-language", 10, "'xx' is not an ISO 639-1 language code"),
        (lesson_text(title='"Moving our \\u202einvoices online"'), "bidi-character", 2, "U+202E RIGHT-TO-LEFT OVERRIDE"),
        (lesson_text(title='"Moving \\e]0;PWNED\\a invoices"'), "control-character", 2, "U+001B ESCAPE"),
        (lesson_text().replace("sample: true", "sample: true\noutcome: failure"), "yaml-duplicate-key", 10, "first on line 8"),
    ],
    ids=["colon in title", "long title", "latin-1", "impossible date", "language", "bidi", "escape", "duplicate key"],
)
def test_messages_say_how_to_fix_on_the_right_line(kb: Path, content: str | bytes, rule: str, line: int, words: str) -> None:
    _, report = _check(kb, "message-one.md", content)
    hits = [f for f in report.findings if f.rule == rule]
    assert hits and hits[0].line == line and words in hits[0].message, [f.format() for f in report.findings]


def test_a_regional_language_tag_is_accepted(kb: Path) -> None:
    _, report = _check(kb, "regional-one.md", lesson_text(language="pt-BR"))
    assert not [f for f in report.findings if f.rule == "invalid-language"]
