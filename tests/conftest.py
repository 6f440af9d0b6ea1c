"""Fixtures shared by every test: a temporary knowledge base, click's runner, and the real model's ONNX export.

Helpers that are not fixtures live in tests/helpers.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers import REPO


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """An empty knowledge base (taxonomy only) in a temporary folder; returns its root."""
    (tmp_path / "lessons").mkdir()
    shutil.copy(REPO / "lessons" / "taxonomy.yml", tmp_path / "lessons" / "taxonomy.yml")
    return tmp_path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the ONNX export of the bundled model, made once per test session (imports torch once)."""
    from indexer.search.embedding import ensure_onnx, resolve_model

    cache = tmp_path_factory.mktemp("model-cache")
    ensure_onnx(resolve_model("bundled"), cache)
    return cache
