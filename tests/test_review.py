"""`lessons review` in a temporary git repository with real commits, the real model and the real index."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.cli import main
from indexer.kb import find_root
from indexer.review import changed_lessons, to_markdown
from indexer.review import review as run_review
from indexer.search import SimilarHit
from indexer.settings import Settings
from tests.conftest import REPO, topic_lesson

KEEP = ["mfa-rollout-dental-clinic", "ransomware-recovery-accounting-firm", "ransomware-attack-logistics-company",
        "cloud-erp-food-distributor", "cloud-erp-furniture-maker-failure", "voip-phone-system-plumbing-company",
        "online-shop-craft-brewery", "crm-engineering-consultancy-abandoned"]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    (root / "lessons").mkdir(parents=True)
    shutil.copy(REPO / "lessons" / "taxonomy.yml", root / "lessons")
    for lesson_id in KEEP:
        shutil.copy(REPO / "lessons" / f"{lesson_id}.md", root / "lessons")
    (root / ".gitignore").write_text(".lessons/\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "add", ".")
    _git(root, "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "commit", "-q", "-m", "base")
    return root


def _change(root: Path) -> None:
    lessons = root / "lessons"
    original = (lessons / "mfa-rollout-dental-clinic.md").read_text()
    body_start = original.index("\n---\n", 4) + 5
    # a near-duplicate told again under another name: front matter kept, body lightly reworded and cut
    draft = original[:body_start] + original[body_start:].replace("clinic", "practice").rsplit("\n\n", 2)[0] + "\n"
    (lessons / "two-factor-login-at-our-dental-practice.md").write_text(draft)
    (lessons / "beekeeping-hive-sensors.md").write_text(topic_lesson("beekeeping hive monitoring", technologies="[iot-sensors]"))
    _git(root, "rm", "-q", "lessons/online-shop-craft-brewery.md")
    _git(root, "mv", "lessons/voip-phone-system-plumbing-company.md", "lessons/voip-for-a-plumbing-company.md")
    _git(root, "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "commit", "-q", "-m", "pr")


def test_changes_are_found_with_git(repo: Path) -> None:
    _change(repo)
    (repo / "lessons" / "untracked-draft.md").write_text(topic_lesson("draft"))
    changes = {c.path: (c.status, c.old_path) for c in changed_lessons(find_root(explicit=repo), "main~1")}
    assert changes == {
        "lessons/two-factor-login-at-our-dental-practice.md": ("added", None),
        "lessons/beekeeping-hive-sensors.md": ("added", None),
        "lessons/online-shop-craft-brewery.md": ("deleted", None),
        "lessons/voip-for-a-plumbing-company.md": ("renamed", "lessons/voip-phone-system-plumbing-company.md"),
        "lessons/untracked-draft.md": ("added", None),
    }


@pytest.mark.slow
def test_review_flags_the_near_duplicate_and_not_the_unrelated(repo: Path, model_cache: Path) -> None:
    _change(repo)
    result = CliRunner().invoke(main, ["--root", str(repo), "review", "--base", "main~1", "--format", "json"],
                                env={"LESSONS_CACHE_DIR": str(model_cache)})
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    by_id = {lesson["id"]: lesson for lesson in data["lessons"]}
    duplicate = by_id["two-factor-login-at-our-dental-practice"]
    assert duplicate["similar"][0]["id"] == "mfa-rollout-dental-clinic"
    assert duplicate["similar"][0]["tier"] == "likely duplicate"
    unrelated = by_id["beekeeping-hive-sensors"]
    assert all(hit["tier"] != "likely duplicate" for hit in unrelated["similar"])
    assert by_id["online-shop-craft-brewery"]["status"] == "deleted"
    renamed = by_id["voip-for-a-plumbing-company"]
    assert renamed["status"] == "renamed"
    assert {"voip-for-a-plumbing-company", "voip-phone-system-plumbing-company"}.isdisjoint(h["id"] for h in renamed["similar"])
    markdown = CliRunner().invoke(main, ["--root", str(repo), "review", "--base", "main~1"],
                                  env={"LESSONS_CACHE_DIR": str(model_cache)}).stdout
    assert markdown.startswith("<!-- lessons-review -->") and "**Likely duplicate**" in markdown
    assert "`lessons/online-shop-craft-brewery.md` deleted" in markdown


def test_errors_make_the_review_fail_but_similar_lessons_do_not(repo: Path) -> None:
    (repo / "lessons" / "broken-one.md").write_text(topic_lesson("broken", outcome="sucess"))
    result = run_review(find_root(explicit=repo), "main", Settings())
    assert result.errors == 1
    (repo / "lessons" / "broken-one.md").write_text(topic_lesson("fine now"))
    similar = [SimilarHit("mfa-rollout-dental-clinic", "T", "lessons/x.md", 0.95, "likely duplicate", "success", "health-social", "s")]
    ok = run_review(find_root(explicit=repo), "main", Settings(), similar_finder=lambda path, exclude: similar)
    assert ok.errors == 0 and ok.entries[0].similar
    text = to_markdown(ok, site_url="https://kb.example.org")
    assert "(https://kb.example.org/lessons/mfa-rollout-dental-clinic/)" in text


def test_bad_base_is_a_usage_error(repo: Path) -> None:
    result = CliRunner().invoke(main, ["--root", str(repo), "review", "--base", "no-such-branch"])
    assert result.exit_code == 2 and "'no-such-branch' is not a commit" in result.output


def test_contributed_text_cannot_inject_markdown(repo: Path) -> None:
    from indexer.review import _md

    assert _md("<img src=x onerror=alert(1)> [link](javascript:x)") == "\\<img src=x onerror=alert(1)\\> \\[link\\](javascript:x)"
