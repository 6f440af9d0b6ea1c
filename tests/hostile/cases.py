"""The hostile lesson corpus: each case is a file name, its bytes, and the rules `lessons check` must report for it
(an empty set: the lesson is accepted and published, so its payload must arrive escaped). `python -m
tests.hostile.cases` writes the corpus to tests/hostile/corpus/; a test keeps the folder and this table equal."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import BODY_EN, lesson_text

CORPUS = Path(__file__).resolve().parent / "corpus"
PAYLOAD = "window.__pwned=1"  # what every script payload would set; the browser test looks for it


@dataclass(frozen=True)
class Case:
    name: str  # the file stem
    content: str | bytes
    expect: frozenset[str]  # rules that must be reported (any one of them); empty: accepted and published

    @property
    def file(self) -> str:
        return f"{self.name}.md"


def _body(extra: str) -> str:
    return lesson_text(body=BODY_EN + "\n" + extra + "\n")


def _refused(name: str, content: str | bytes, *rules: str) -> Case:
    return Case(name, content, frozenset(rules))


def _accepted(name: str, content: str | bytes) -> Case:
    return Case(name, content, frozenset())


XSS = f"<script>{PAYLOAD}</script>"
CASES: list[Case] = [
    # payloads in front-matter text: accepted, and escaped wherever they are shown
    _accepted("xss-title", lesson_text(title=f'"{XSS} Our invoices"')),
    _accepted("xss-summary", lesson_text(summary=f'"\\"><img src=x onerror={PAYLOAD}> A wholesaler moved its invoices online."')),
    _accepted("xss-contributor", lesson_text(contributor=f'"<svg onload={PAYLOAD}>"')),
    _accepted("xss-region", lesson_text(region='"javascript:alert(document.domain)"')),
    _accepted("xss-products", lesson_text(products=f'["<iframe src=javascript:{PAYLOAD}>", "\\"onmouseover=alert(1)"]')),
    _accepted("xss-title-quotes", lesson_text(title="'\"--></style></script><script>window.__pwned=1</script>'")),
    _accepted("xss-template-title", lesson_text(title='"{{ config.__class__ }} {% raw %} ${7*7} invoices"')),
    _accepted("heading-clobber", _body("## __config\n\nText.\n\n## search\n\nText.\n\n## location\n\nText.")),
    # payloads in the body: refused by check (and sanitised by the site when the check is skipped)
    _refused("xss-body-script", _body(XSS), "unsafe-html"),
    _refused("xss-body-img", _body(f"<img src=x onerror={PAYLOAD}>"), "unsafe-html"),
    _refused("xss-body-link", _body("[click](javascript:alert(1))"), "unsafe-link"),
    _refused("xss-body-entity-link", _body("[click](jav&#x09;ascript:alert(1))"), "unsafe-link"),
    _refused("xss-body-image-link", _body("![x](javascript:alert(1))"), "unsafe-link"),
    _refused("xss-body-data-link", _body("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"), "unsafe-link"),
    _refused("xss-body-autolink", _body("<javascript:alert(1)>"), "unsafe-link"),
    _refused("xss-body-reference", _body("[x][r]\n\n[r]: javascript:alert(1)"), "unsafe-link"),
    _refused("xss-body-svg", _body(f"<svg><script>{PAYLOAD}</script></svg>"), "unsafe-html"),
    _refused("xss-body-mxss", _body(f"<math><mtext><table><mglyph><style><img src=x onerror={PAYLOAD}>"), "unsafe-html"),
    _refused("xss-body-iframe", _body("<iframe srcdoc='<script>parent.__pwned=1</script>'></iframe>"), "unsafe-html"),
    _refused("xss-body-form", _body("<form action=javascript:alert(1)><button>go</button></form>"), "unsafe-link"),
    _refused("unclosed-style", _body("<style>\neverything after this would vanish"), "unsafe-html"),
    _refused("unclosed-textarea", _body("<textarea>\neverything after this would vanish"), "unsafe-html"),
    # control, bidi and zero-width characters
    _refused("ctrl-title-osc", lesson_text(title='"\\e]0;PWNED\\a\\e[2J Moving our invoices"'), "control-character"),
    _refused("ctrl-title-soh", lesson_text(title='"Moving our \\x01 invoices online"'), "control-character"),
    _refused("ctrl-title-csi", lesson_text(title='"Moving our \\x9b31m invoices"'), "control-character"),
    _refused("ctrl-title-raw-del", lesson_text(title='"Moving our\x7f invoices online"'), "control-character"),
    _refused(
        "ctrl-summary",
        lesson_text(summary='"A wholesaler \\e[31mmoved\\e[0m 95% of its invoices online in five months."'),
        "control-character",
    ),
    _refused("ctrl-contributor", lesson_text(contributor='"anon\\x1b[2J"'), "control-character"),
    _refused("bidi-title", lesson_text(title='"Moving our \\u202einvoices online"'), "bidi-character"),
    _refused("bidi-isolate-products", lesson_text(products='["Fact\\u2067ura"]'), "bidi-character"),
    _accepted("zero-width-title", lesson_text(title='"Moving our in\\u200bvoices online"')),  # a warning only
    # YAML that must not be accepted
    _refused("yaml-duplicate-outcome", lesson_text().replace("sample: true", "sample: true\noutcome: failure"), "yaml-duplicate-key"),
    _refused("yaml-set", lesson_text(tags="!!set {a, b}"), "yaml-unsafe"),
    _refused("yaml-binary", lesson_text(products="[!!binary aGVsbG8=]"), "yaml-unsafe"),
    _refused("yaml-python", lesson_text(title='!!python/object/apply:os.system ["touch /tmp/pwned"]'), "yaml-unsafe"),
    _refused("yaml-local-tag", lesson_text(region="!secret x"), "yaml-unsafe"),
    _refused("yaml-inf", lesson_text(cost_eur=".inf"), "yaml-non-finite"),
    _refused("yaml-nan", lesson_text(effort_person_days=".nan"), "yaml-non-finite"),
    _refused("yaml-huge-float", lesson_text(cost_eur="1.0e+999"), "yaml-non-finite"),
    _refused("yaml-huge-int", lesson_text(cost_eur="9" * 5000), "invalid-type", "invalid-value", "yaml-syntax"),
    _refused("yaml-alias-bomb", lesson_text(tags="&a [x, x]", products="*a"), "yaml-alias"),
    _refused("yaml-deep", lesson_text(region="[" * 5000 + "]" * 5000), "yaml-syntax"),
    _refused("yaml-complex-key", lesson_text().replace("sample: true", "sample: true\n? [a, b]\n: c"), "yaml-syntax"),
    _refused("yaml-proto-key", lesson_text(__proto__='"x"'), "unknown-key"),
    _refused("yaml-colon-title", lesson_text(title="Cloud ERP: what went wrong"), "yaml-syntax"),
    _refused("yaml-impossible-date", lesson_text(date="2026-02-30"), "invalid-date"),
    _refused("yaml-tag-index", lesson_text(tags="[index]"), "invalid-value"),
    _refused("yaml-language", lesson_text(language="xx"), "invalid-language"),
    _refused("yaml-long-title", lesson_text(title='"' + "Very long title " * 1000 + '"'), "invalid-length"),
    # encodings and shapes
    _refused("latin-1", lesson_text(title='"Café invoices moved online"').encode("latin-1"), "not-utf8"),
    _refused("utf-16", lesson_text().encode("utf-16"), "not-utf8"),
    _refused("nul-byte-title", lesson_text(title='"Moving\x00 our invoices online"'), "control-character"),
    _refused("no-front-matter", "# Just a title\n\n<script>x</script>\n", "no-front-matter"),
    _refused("front-matter-list", "---\n- a\n- b\n---\nbody\n", "front-matter-not-mapping"),
    _refused("oversized-file", _body("word " * 60_000), "file-too-large", "body-too-large"),
    # bodies that are slow or deep to render (issue 12)
    _refused("render-dash-nesting", _body("- " * 500 + "deep"), "nesting-too-deep"),
    _refused("render-indented-lists", _body("\n".join("    " * i + "- x" for i in range(250))), "nesting-too-deep", "body-too-large"),
    _refused("render-bracket-link", _body("[" * 4000 + "x" + "](" * 4000), "bracket-run"),
    _refused("render-bracket-lines", _body("[\n" * 20000), "bracket-run"),
    _refused("render-tag-run", _body("<a " * 16000), "tag-run"),
    _refused("render-emphasis", _body("*" * 2000 + "x" + "*" * 2000), "nesting-too-deep"),
    _refused("render-quotes", _body(">" * 1000 + " x"), "nesting-too-deep"),
    _refused("render-unclosed-tags-pad", _body("<x\n\n" * 200 + "word " * 15000), "tag-run"),
]


def write_corpus(folder: Path = CORPUS) -> None:
    """Write every case as a file of `folder` (replacing what is there)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    for case in CASES:
        data = case.content.encode("utf-8") if isinstance(case.content, str) else case.content
        (folder / case.file).write_bytes(data)


if __name__ == "__main__":
    write_corpus(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS)
