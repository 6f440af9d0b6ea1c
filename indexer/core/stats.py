"""Counting lessons by facet, for `lessons stats` and the site."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .lesson import Lesson
from .vocabulary import FACETS, STATS_FACETS


@dataclass
class Stats:
    """Lesson counts per facet value, most common first."""

    total: int
    counts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "counts": {facet: dict(rows) for facet, rows in self.counts.items()}}


def facet_values(lesson: Lesson, facet: str) -> list[str]:
    """The values a lesson has for a facet of `vocabulary.FACETS` (several for technologies and tags)."""
    value = getattr(lesson.meta, FACETS[facet].field)
    if isinstance(value, list):
        return list(dict.fromkeys(value))
    if facet == "year":
        return [str(value.year)]
    return [value] if value else []


def compute_stats(lessons: list[Lesson]) -> Stats:
    """Count lessons per value of every facet; a lesson without a country counts as 'unknown'."""
    stats = Stats(total=len(lessons))
    for facet in STATS_FACETS:
        counter: Counter[str] = Counter()
        for lesson in lessons:
            counter.update(facet_values(lesson, facet) or ["unknown"])
        stats.counts[facet] = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return stats
