"""A reusable harness for hostile input: a knowledge base holding a corpus, every command run as a user runs it
(a child process under a timeout), and the checks that fail a run on a traceback, a hang, a live payload in
built HTML or feed, or a control character on the terminal."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from tests.helpers import REPO

TIMEOUT = 120  # seconds for one command; the hostile files took minutes or hung
TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def make_kb(root: Path, files: dict[str, str | bytes], site: bool = False) -> Path:
    """A knowledge base at `root` with the starter taxonomy and `files` (name -> content) under lessons/; with
    `site`, also mkdocs.yml, lessons.toml and docs/ so that a real site can be built."""
    (root / "lessons").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "lessons" / "taxonomy.yml", root / "lessons" / "taxonomy.yml")
    for name, content in files.items():
        (root / "lessons" / name).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    if site:
        shutil.copytree(REPO / "docs", root / "docs", ignore=shutil.ignore_patterns("generated"))
        (root / "docs" / "generated").mkdir(exist_ok=True)
        for name in ("mkdocs.yml", "lessons.toml"):
            shutil.copy(REPO / name, root / name)
    return root


def add_hostile_paths(lessons: Path) -> dict[str, str]:
    """File-system cases that cannot be committed as files: name -> the rule `lessons check` must report."""
    os.mkfifo(lessons / "fifo-lesson.md")
    (lessons / "dev-zero-link.md").symlink_to("/dev/zero")
    (lessons / "passwd-link.md").symlink_to("/etc/passwd")
    (lessons / "x\x1b]0;PWNED\x07.md").write_text("---\ntitle: x\n---\n")
    (lessons / "x`[click me](https:evil.example)`y.md").write_text("---\ntitle: x\n---\n")
    return {
        "fifo-lesson.md": "not-regular",
        "dev-zero-link.md": "symlink",
        "passwd-link.md": "symlink",
        "x\x1b]0;PWNED\x07.md": "invalid-id",
        "x`[click me](https:evil.example)`y.md": "invalid-id",
    }


def run_lessons(root: Path, *args: str, timeout: float = TIMEOUT, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`lessons --root ROOT ARGS...` in a child process; fails on a hang (TimeoutExpired), a traceback, or a control
    character in its output."""
    env = {**os.environ, **({"LESSONS_CACHE_DIR": str(cache)} if cache else {})}
    proc = subprocess.run(
        [sys.executable, "-m", "indexer", "--root", str(root), *args], capture_output=True, text=True, timeout=timeout, env=env
    )
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output[-3000:]
    unsafe = TERMINAL_UNSAFE.findall(output)
    assert not unsafe, f"control characters on the terminal: {unsafe[:5]!r}"
    return proc


class _Live(HTMLParser):
    """Markup that would run: script-capable elements, event attributes, script URLs, inline styles."""

    # the site draws its charts as inline SVG: an <svg> is not live, a <script> or an on...= inside one is
    ELEMENTS: ClassVar[set[str]] = {
        "script",
        "iframe",
        "object",
        "embed",
        "frame",
        "base",
        "form",
        "style",
        "meta",
        "link",
        "textarea",
    }

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.ELEMENTS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            scheme = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name.startswith("on") or (
                name in {"href", "src", "action", "formaction", "data"} and scheme.startswith(("javascript:", "vbscript:", "data:"))
            ):
                self.found.append(f"<{tag} {name}={value}>")


def live_markup(html: str) -> list[str]:
    """What in `html` could run script (an empty list for safe markup)."""
    parser = _Live()
    parser.feed(html)
    return parser.found


def lesson_markup(page: str) -> str:
    """The part of a built MkDocs page that comes from lessons: the article, without the theme's own scripts."""
    start = page.find('<article class="md-content__inner')
    end = page.find("</article>", start)
    return page[start:end] if start >= 0 and end > start else page
