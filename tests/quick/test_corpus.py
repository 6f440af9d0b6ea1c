"""The starter knowledge base: valid under --strict and broad enough to be worth reading."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from indexer.core.check import check_knowledge_base
from indexer.core.kb import find_root
from tests.helpers import REPO


@pytest.fixture(scope="module")
def report():
    return check_knowledge_base(find_root(explicit=REPO))


def test_starter_corpus_passes_strict(report) -> None:
    assert [f.format() for f in report.findings] == []
    assert len(report.lessons) == report.files


def test_starter_corpus_is_broad(report) -> None:
    metas = [lesson.meta for lesson in report.lessons]
    assert len(metas) >= 40
    assert len({m.sector for m in metas}) >= 10
    assert len({t for m in metas for t in m.technologies}) >= 25
    outcomes = Counter(m.outcome for m in metas)
    assert set(outcomes) == {"success", "partial", "failure", "abandoned", "ongoing"}
    assert outcomes["failure"] + outcomes["abandoned"] + outcomes["partial"] >= 8
    assert sum(m.language == "es" for m in metas) >= 6
    assert all(m.sample for m in metas)


def test_every_lesson_has_250_to_900_words_with_numbers(report) -> None:
    for lesson in report.lessons:
        words = len(re.findall(r"\w+", lesson.body))
        assert 250 <= words <= 900, (lesson.id, words)
        assert len(re.findall(r"\d", lesson.body)) >= 10, lesson.id
        assert lesson.meta.cost_eur is not None, lesson.id


def test_at_least_three_pairs_tell_the_same_problem(report) -> None:
    ids = {lesson.id: lesson for lesson in report.lessons}
    pairs = {
        tuple(sorted((a.id, b)))
        for a in report.lessons
        for b in a.meta.related
        if a.id in ids[b].meta.related and a.meta.contributor == ids[b].meta.contributor == "anonymous"
    }
    assert len(pairs) >= 3, pairs
    for a, b in pairs:  # a pair shares a technology: the same problem, told by two companies
        assert set(ids[a].meta.technologies) & set(ids[b].meta.technologies), (a, b)
