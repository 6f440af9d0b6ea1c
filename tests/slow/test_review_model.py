"""`lessons review` with the real model and the real index, in a temporary git repository with real commits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.cli import main
from tests.helpers import propose_changes, review_repo

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return review_repo(tmp_path)


def test_review_flags_the_near_duplicate_and_not_the_unrelated(repo: Path, model_cache: Path) -> None:
    propose_changes(repo)
    result = CliRunner().invoke(
        main, ["--root", str(repo), "review", "--base", "main~1", "--format", "json"], env={"LESSONS_CACHE_DIR": str(model_cache)}
    )
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
    markdown = (
        CliRunner().invoke(main, ["--root", str(repo), "review", "--base", "main~1"], env={"LESSONS_CACHE_DIR": str(model_cache)}).stdout
    )
    assert markdown.startswith("<!-- lessons-review -->") and "**Likely duplicate**" in markdown
    assert "`lessons/online-shop-craft-brewery.md` deleted" in markdown
