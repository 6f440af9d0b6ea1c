"""Fixtures of the fast tests: a small index of a few topic lessons, built with the fake embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.core.kb import find_root
from indexer.search import build, store
from tests.helpers import FAKE_IDENTITY, FakeEmbedder, topic_lesson


@pytest.fixture
def data(kb: Path) -> store.IndexData:
    lessons = {
        "erp-success": topic_lesson("cloud erp migration", outcome="success", sector="manufacturing", country="ES"),
        "erp-failure": topic_lesson("cloud erp rollback", outcome="failure", sector="manufacturing", date="2021-03-01"),
        "backup-one": topic_lesson("ransomware backup restore", outcome="partial", sector="transport-logistics", technologies="[backup]"),
        "voip-one": topic_lesson("voip telephone system", outcome="abandoned", technologies="[voip]"),
        "draft-one": topic_lesson("cloud erp draft", status="draft"),
    }
    for name, text in lessons.items():
        if text:
            (kb / "lessons" / f"{name}.md").write_text(text)
    build.refresh(find_root(explicit=kb), FakeEmbedder(), FAKE_IDENTITY)
    return store.load(store.index_root(kb / ".lessons"), FAKE_IDENTITY)
