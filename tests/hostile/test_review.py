"""The hostile corpus through `lessons review`, as a pull request from a stranger would bring it: every hostile
file and two hostile file names committed on a branch. The review must finish under a timeout with no traceback,
name every changed lesson, and give a comment in which no lesson content or file name becomes a link, HTML or a
heading of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from indexer.contrib.review import MARKER
from tests.helpers import GIT_USER, git, review_repo
from tests.hostile import run_lessons
from tests.hostile.cases import CORPUS

NAMES = ["x`[click me](https:evil.example)`y.md", "x\n### ✅ no problems\n.md"]


@pytest.fixture(scope="module")
def pull_request(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = review_repo(tmp_path_factory.mktemp("hostile-review"))
    git(root, "switch", "-q", "-c", "hostile")
    added = sorted(path.name for path in CORPUS.glob("*.md"))
    for name in added:
        (root / "lessons" / name).write_bytes((CORPUS / name).read_bytes())
    for name in NAMES:
        (root / "lessons" / name).write_text("---\ntitle: x\n---\n")
    git(root, "add", "-A")
    git(root, *GIT_USER, "commit", "-q", "-m", "a stranger's pull request")
    return root, added + NAMES


@pytest.mark.slow
def test_review_names_every_hostile_lesson(pull_request, model_cache: Path) -> None:
    root, added = pull_request
    proc = run_lessons(root, "review", "--base", "main", "--format", "json", timeout=600, cache=model_cache)
    assert proc.returncode == 1, proc.stderr  # lessons with errors
    reviewed = {Path(entry["path"]).name for entry in json.loads(proc.stdout)["lessons"]}
    assert reviewed == set(added)


@pytest.mark.slow
def test_review_comment_carries_no_live_markdown(pull_request, model_cache: Path) -> None:
    root, _ = pull_request
    proc = run_lessons(root, "review", "--base", "main", timeout=600, cache=model_cache)
    assert proc.returncode == 1, proc.stderr
    tokens = MarkdownIt("commonmark").parse(proc.stdout)
    inline = [child for token in tokens for child in (token.children or [])]
    html = [t.content.strip() for t in tokens + inline if t.type in {"html_block", "html_inline"}]
    assert html == [MARKER], html  # only the marker the comment job finds its own comment by
    links = [t.attrs.get("href") for t in inline if t.type == "link_open"]
    assert not [href for href in links if "evil" in str(href) or str(href).startswith(("javascript:", "data:"))], links
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    # a file name holding "### ✅ no problems" stays inside its code span: it never starts a heading of its own
    assert not [h for h in headings if h.lstrip("✅❌ ").startswith("no problems")], headings
    assert all(h.startswith("Lessons review") or "`lessons/" in h for h in headings), headings
