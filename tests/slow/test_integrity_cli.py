"""Damage and concurrency end to end (real model, real CLI): every damaged index file gives one clean message and
`lessons index` repairs it; a damaged model export is exported again; searches never fail because of a writer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.cli import main
from indexer.search import embedding, store
from tests.helpers import REPO, lock_held
from tests.quick.test_integrity import INDEX_FILES, flip

pytestmark = pytest.mark.slow
QUERY = "our backups were encrypted by ransomware"


@pytest.fixture(scope="module")
def starter(model_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The starter knowledge base, indexed twice (the second time after one edit, so a previous generation exists)."""
    root = tmp_path_factory.mktemp("starter")
    shutil.copytree(REPO / "lessons", root / "lessons")
    for _ in range(2):
        assert _run(root, model_cache, "index").exit_code == 0
        _edit(root)
    assert _run(root, model_cache, "index").exit_code == 0
    return root


@pytest.fixture
def kb(starter: Path, tmp_path: Path) -> Path:
    shutil.copytree(starter, tmp_path / "kb")
    return tmp_path / "kb"


def _run(root: Path, cache: Path, *args: str):
    return CliRunner().invoke(main, ["--root", str(root), *args], env={"LESSONS_CACHE_DIR": str(cache)})


def _edit(root: Path) -> None:
    path = sorted((root / "lessons").glob("*.md"))[0]
    path.write_text(path.read_text(encoding="utf-8") + f"\nOne more sentence, number {path.stat().st_size}.\n", encoding="utf-8")


def _top(result) -> list[tuple[str, float]]:
    assert result.exit_code == 0, result.output
    return _hits(json.loads(result.output[result.output.index("{") :]))


def _hits(payload: dict) -> list[tuple[str, float]]:
    """Ids and scores; a vector embedded again may differ from the first in the last bits, so scores are rounded."""
    return [(hit["id"], round(hit["score"], 3)) for hit in payload["results"]]


@pytest.mark.parametrize("name", [*INDEX_FILES, "CURRENT"])
def test_damage_gives_one_clean_message_and_index_repairs_it(kb: Path, model_cache: Path, name: str) -> None:
    expected = _top(_run(kb, model_cache, "search", QUERY, "--json"))
    root = store.index_root(kb / ".lessons")
    flip(root / name if name == "CURRENT" else store.current_generation(root) / name, at=0.1 if name == "CURRENT" else 0.5)
    damaged = _run(kb, model_cache, "search", QUERY, "--json")
    assert damaged.exit_code == 1 and isinstance(damaged.exception, SystemExit)
    assert "the index is damaged" in damaged.output and "run 'lessons index' to repair it" in damaged.output
    assert "Traceback" not in damaged.output
    repaired = _run(kb, model_cache, "index", "--json")
    assert repaired.exit_code == 0, repaired.output
    assert json.loads(repaired.output[repaired.output.index("{") :])["repaired"]
    assert _top(_run(kb, model_cache, "search", QUERY, "--json")) == expected


@pytest.mark.parametrize("damage", ["flip-model", "delete-export-json"])
def test_a_damaged_model_export_is_exported_again_with_one_line(kb: Path, model_cache: Path, tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(model_cache, cache)
    expected = _top(_run(kb, cache, "search", QUERY, "--json"))
    folder = embedding.export_dir(cache, embedding.bundled_source())  # the fp32 export (the site's int8 copy sits beside it)
    if damage == "flip-model":
        flip(folder / "model.onnx")
    else:
        (folder / "export.json").unlink()
    result = subprocess.run(
        [sys.executable, "-m", "indexer", "--root", str(kb), "search", QUERY, "--json"],
        env=dict(os.environ, LESSONS_CACHE_DIR=str(cache)),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if "Exporting the embedding model" in line]
    assert "cannot be used" in line and ("model.onnx does not match" in line or "export.json" in line)
    assert "Traceback" not in result.stderr
    assert _hits(json.loads(result.stdout)) == expected


def test_search_answers_from_the_last_index_while_a_writer_holds_the_lock(kb: Path, model_cache: Path) -> None:
    expected = _top(_run(kb, model_cache, "search", QUERY, "--json"))
    with lock_held(kb / ".lessons") as pid:
        _edit(kb)  # lessons changed: the search would update the index, but a writer is at work
        result = _run(kb, model_cache, "search", QUERY, "--json")
    assert result.exit_code == 0, result.output
    assert f"The index is being updated by another process (pid {pid}, 'lessons index'" in result.output
    payload = json.loads(result.output[result.output.index("{") :])
    assert payload["index_updating"] is True
    assert _hits(payload) == expected


def test_thirty_searches_during_repeated_reindexing_all_succeed(kb: Path, model_cache: Path) -> None:
    env = dict(os.environ, LESSONS_CACHE_DIR=str(model_cache))
    lessons = [sys.executable, "-m", "indexer", "--root", str(kb)]
    stop, writer_runs = threading.Event(), []

    def reindex() -> None:
        while not stop.is_set():
            _edit(kb)
            run = subprocess.run([*lessons, "index", "--wait", "60"], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
            writer_runs.append(run.returncode)

    writer = threading.Thread(target=reindex)
    writer.start()
    try:
        searches = [
            subprocess.run([*lessons, "search", QUERY, "-k", "3"], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
            for _ in range(30)
        ]
    finally:
        stop.set()
        writer.join(300)
    failures = [(s.returncode, s.stderr[-500:]) for s in searches if s.returncode != 0]
    assert failures == []
    assert all("ransomware" in s.stdout for s in searches)
    assert writer_runs and set(writer_runs) == {0}
    assert any("being updated by another process" in s.stderr for s in searches)  # the writer was caught at work
