"""Rendering is bounded and shared: the pathological bodies of issue 12 fail `lessons check` fast, are left out of
the site fast, and the renderer's time grows linearly with the input (timed against a baseline in the same run)."""

from __future__ import annotations

import time
from pathlib import Path

import markdown
import pytest

from bench.render_linear import FAMILIES, LINEAR_LIMIT, ratios, sizes
from indexer.core.check import check_knowledge_base
from indexer.core.kb import find_root
from indexer.core.prescan import scan_body
from indexer.core.settings import Settings
from indexer.web import pages
from indexer.web.build import prepare
from indexer.web.fragments import RenderFailed, render_body
from tests.helpers import BODY_EN, lesson_text

PATHOLOGICAL = {name: build(n) for name, (build, n) in FAMILIES.items()}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_renderer_time_is_linear_in_the_input(name: str) -> None:
    build, issue_n = FAMILIES[name]
    for n in sizes(issue_n):
        t1, t10, b1, b10 = ratios(build, n)
        assert t10 / t1 < LINEAR_LIMIT, f"{name} at n={n}: {t1 * 1e3:.3f} ms, at 10n {t10 * 1e3:.3f} ms (baseline x{b10 / b1:.1f})"


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_check_reports_each_family_fast_with_its_line(kb: Path, name: str) -> None:
    path = kb / "lessons" / "hostile-one.md"
    path.write_text(lesson_text(body=BODY_EN + "\n" + PATHOLOGICAL[name]))
    started = time.process_time()  # CPU time: a busy machine does not make it flaky
    report = check_knowledge_base(find_root(explicit=kb), [path])
    assert time.process_time() - started < 1.5  # 4.6 s for '[\n' * 20000 when the link rule rescanned each line
    limits = [f for f in report.findings if f.rule in {"nesting-too-deep", "bracket-run", "tag-run", "body-too-large"}]
    assert limits and all(f.level == "error" for f in limits), [f.format() for f in report.findings]
    assert limits[0].line in (11, 33)  # the body's first line (size) or the line of the hostile text
    assert report.lessons == []


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ("* " * 30 + "x", "nesting-too-deep"),
        ("*" * 1000 + "x" + "*" * 1000, "nesting-too-deep"),  # emphasis nested 300 deep: RecursionError in Markdown
        ("[ x\n" * 4000, "bracket-run"),
        (("[ " * 400 + "\n\n") * 100, "bracket-run"),  # each paragraph small, the sum is what costs
        ("<x\n\n" * 100 + "word " * 18000, "tag-run"),  # each unclosed tag makes the HTML parser read to the end
        ("<!-- >\n\n" * 100 + "word " * 18000, "tag-run"),
    ],
)
def test_prescan_bounds_what_makes_markdown_slow_or_deep(body: str, rule: str) -> None:
    assert [limit.rule for limit in scan_body(body)] == [rule]


def test_ordinary_markdown_passes_the_prescan() -> None:
    body = BODY_EN + "\n- a\n    - b\n        - c\n\n> quoted\n\n" + "[a link](https://example.org) " * 300 + "\n\n***\n"
    assert scan_body(body) == []
    assert scan_body("```\n" + "[\n" * 20000 + "```\n") == []  # fenced code is not parsed for links


def test_site_leaves_out_a_lesson_that_fails_to_render_and_keeps_the_rest(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (kb / "lessons" / "good-one.md").write_text(lesson_text())
    (kb / "lessons" / "crash-one.md").write_text(lesson_text(body=BODY_EN + "\nRENDERER-CRASH\n"))
    real = markdown.Markdown.convert

    def crashing(self: markdown.Markdown, text: str) -> str:  # a renderer bug on one input, as RecursionError was
        if "RENDERER-CRASH" in text:
            raise IndexError("list index out of range")
        return real(self, text)

    monkeypatch.setattr(markdown.Markdown, "convert", crashing)  # the one renderer, reset for every body, goes on
    out = kb / "docs" / "generated"
    report = prepare(find_root(explicit=kb), Settings(), out, related=lambda shown: {})
    failed = [f for f in report.left_out if f.rule == "render-failed"]
    assert [(Path(f.path).name, f.line) for f in failed] == [("crash-one.md", 11)]
    assert "IndexError" in failed[0].message
    assert (out / "lessons" / "good-one.md").is_file() and not (out / "lessons" / "crash-one.md").exists()
    assert "crash-one" not in (out / "index.md").read_text() and report.lessons == 1


def test_generator_leaves_out_an_unchecked_pathological_body(kb: Path) -> None:
    base = find_root(explicit=kb)
    (kb / "lessons" / "good-one.md").write_text(lesson_text())
    good = check_knowledge_base(base).lessons
    hostile = [good[0].__class__(f"hostile-{i}", good[0].path, good[0].meta, body, 11, []) for i, body in enumerate(PATHOLOGICAL.values())]
    started = time.perf_counter()
    rendered = pages.render_bodies(good + hostile)
    assert time.perf_counter() - started < 5
    assert sorted(rendered.bodies) == ["good-one"]
    assert {exc.rule for _, exc in rendered.failed} <= {"nesting-too-deep", "bracket-run", "tag-run", "body-too-large"}
    with pytest.raises(RenderFailed):
        render_body("- " * 500 + "deep")
