"""`lessons review` in a temporary git repository with real commits (the real model's review is in tests/slow)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.cli import main
from indexer.contrib.review import changed_lessons, to_markdown
from indexer.contrib.review import review as run_review
from indexer.core.kb import find_root
from indexer.search.similar import SimilarHit
from tests.helpers import propose_changes, review_repo, topic_lesson


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return review_repo(tmp_path)


def test_changes_are_found_with_git(repo: Path) -> None:
    propose_changes(repo)
    (repo / "lessons" / "untracked-draft.md").write_text(topic_lesson("draft"))
    changes = {c.path: (c.status, c.old_path) for c in changed_lessons(find_root(explicit=repo), "main~1")}
    assert changes == {
        "lessons/two-factor-login-at-our-dental-practice.md": ("added", None),
        "lessons/beekeeping-hive-sensors.md": ("added", None),
        "lessons/online-shop-craft-brewery.md": ("deleted", None),
        "lessons/voip-for-a-plumbing-company.md": ("renamed", "lessons/voip-phone-system-plumbing-company.md"),
        "lessons/untracked-draft.md": ("added", None),
    }


def test_errors_make_the_review_fail_but_similar_lessons_do_not(repo: Path) -> None:
    (repo / "lessons" / "broken-one.md").write_text(topic_lesson("broken", outcome="sucess"))
    result = run_review(find_root(explicit=repo), "main")
    assert result.errors == 1
    (repo / "lessons" / "broken-one.md").write_text(topic_lesson("fine now"))
    similar = [SimilarHit("mfa-rollout-dental-clinic", "T", "lessons/x.md", 0.95, "likely duplicate", "success", "health-social", "s")]
    ok = run_review(find_root(explicit=repo), "main", similar_finder=lambda path, exclude: similar)
    assert ok.errors == 0 and ok.entries[0].similar
    text = to_markdown(ok, site_url="https://kb.example.org")
    assert "(https://kb.example.org/lessons/mfa-rollout-dental-clinic/)" in text


def test_bad_base_is_a_usage_error(repo: Path) -> None:
    result = CliRunner().invoke(main, ["--root", str(repo), "review", "--base", "no-such-branch"])
    assert result.exit_code == 2 and "'no-such-branch' is not a commit" in result.output


def test_contributed_text_cannot_inject_markdown(repo: Path) -> None:
    from indexer.contrib.review import markdown_text

    assert markdown_text("<img src=x onerror=alert(1)> [link](javascript:x)") == "\\<img src=x onerror=alert(1)\\> \\[link\\](javascript:x)"


def test_a_bad_base_fails_before_the_model_is_opened(repo: Path, tmp_path: Path) -> None:
    """A mistyped ref fails at once: no PyTorch, no ONNX Runtime, no export, no index."""
    cache = tmp_path / "cache"
    code = (
        "import sys\n"
        "from indexer.cli import main\n"
        "try:\n"
        "    main(['--root', sys.argv[1], 'review', '--base', 'no-such-ref', '--cache-dir', sys.argv[2]])\n"
        "except SystemExit as e:\n"
        "    print('EXIT', e.code)\n"
        "print('HEAVY', [m for m in ('torch', 'onnxruntime', 'faiss', 'sentence_transformers') if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(repo), str(cache)], capture_output=True, text=True, check=True)
    assert "EXIT 2" in proc.stdout and "HEAVY []" in proc.stdout, proc.stdout + proc.stderr
    assert "'no-such-ref' is not a commit" in proc.stderr
    assert not cache.exists() and not (repo / ".lessons").exists()


HOSTILE_NAMES = [
    "lessons/x`[click me](https:evil.example)`y.md",
    "lessons/x\n\n### ✅ lessons/ok.md added\n\n**Check:** no problems.\n\ny.md",
    "lessons/``` ```[a](https://evil.example).md",
    "lessons/<img src=x onerror=alert(1)>.md",
    "lessons/\x1b]0;PWNED\x07.md",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_file_names_cannot_inject_markdown_into_the_review_comment(name: str) -> None:
    """Rendered as CommonMark (as GitHub does): one heading per changed file, no link, no HTML, the name inside code."""
    from markdown_it import MarkdownIt

    from indexer.contrib.review import Change, Review, ReviewEntry

    review = Review("main", [ReviewEntry(Change("added", name)), ReviewEntry(Change("renamed", "lessons/b.md", old_path=name))])
    text = to_markdown(review)
    tokens = MarkdownIt("commonmark").parse(text)
    inline = [child for token in tokens if token.children for child in token.children]
    assert [t.tag for t in tokens if t.type == "heading_open"] == ["h2", "h3", "h3"]
    assert not [t for t in inline if t.type in ("link_open", "html_inline", "image")]
    assert [t.content.strip() for t in tokens if t.type == "html_block"] == ["<!-- lessons-review -->"]  # only the marker
    codes = [t.content for t in inline if t.type == "code_inline"]
    shown = name.replace("\n", "\\n").replace("\x1b", "\\x1b").replace("\x07", "\\x07")
    assert shown in codes or shown.strip() in codes, codes
    if "\n" in name or "\x1b" in name:
        assert text.count("holds line breaks or control characters") == 2
