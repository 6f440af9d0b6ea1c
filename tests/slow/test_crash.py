"""A `kill -9` at any moment of indexing leaves the previous index loadable (real processes, real model)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.core.kb import find_root
from indexer.core.settings import Settings
from indexer.search import store
from indexer.search.session import open_session
from tests.helpers import REPO

pytestmark = pytest.mark.slow


def _index(root: Path, cache: Path) -> subprocess.Popen:
    env = dict(os.environ, LESSONS_CACHE_DIR=str(cache))
    return subprocess.Popen(
        [sys.executable, "-m", "indexer", "--root", str(root), "index", "--rebuild"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _loadable_ids(root: Path, cache: Path) -> set[str]:
    kb = find_root(explicit=root)
    identity = open_session(kb, Settings(), cache_dir=cache).identity
    data = store.load(store.index_root(kb.index_dir), identity)
    assert data.vectors.ntotal == len(data.passage_lesson) and data.keyword.size == len(data.lessons)
    return {rec["id"] for rec in data.lessons}


def test_kill_9_at_many_points_leaves_a_loadable_index(model_cache: Path, tmp_path: Path) -> None:
    root = tmp_path / "kb"
    (root / "lessons").mkdir(parents=True)
    shutil.copy(REPO / "lessons" / "taxonomy.yml", root / "lessons")
    lessons = sorted((REPO / "lessons").glob("*.md"))
    for path in lessons[:10]:
        shutil.copy(path, root / "lessons")
    assert _index(root, model_cache).wait(120) == 0
    before = _loadable_ids(root, model_cache)
    for path in lessons[10:14]:
        shutil.copy(path, root / "lessons")
    after = before | {p.stem for p in lessons[10:14]}
    assert after != before

    started = time.monotonic()
    assert _index(root, model_cache).wait(120) == 0  # one full run, to know how long a run takes
    duration = time.monotonic() - started
    assert _loadable_ids(root, model_cache) == after

    seen = set()
    toggle = root / "lessons" / lessons[14].name
    for fraction in (0.05, 0.2, 0.4, 0.6, 0.75, 0.85, 0.92, 0.97, 1.0):
        old = _loadable_ids(root, model_cache)
        if toggle.exists():  # each run has something to change, so old and new index differ
            toggle.unlink()
        else:
            shutil.copy(lessons[14], toggle)
        new = {p.stem for p in (root / "lessons").glob("*.md")}
        proc = _index(root, model_cache)
        time.sleep(duration * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        ids = _loadable_ids(root, model_cache)
        assert ids in (old, new), fraction  # the previous index or the finished new one, never a mix
        seen.add(proc.returncode)
    assert -signal.SIGKILL in seen  # at least some runs really were killed midway

    assert _index(root, model_cache).wait(120) == 0
    index_dir = store.index_root(root / ".lessons")
    assert not list(index_dir.glob(".gen-*.tmp"))  # leftovers of killed runs are cleaned by the next writer
    assert len([p for p in index_dir.iterdir() if p.name.startswith("gen-")]) == 2
