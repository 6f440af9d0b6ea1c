"""Lessons close in meaning to a lesson, a draft file or a few words: `lessons similar`, the duplicate check of
`lessons new` and `lessons review`, and the related lessons of the site."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.check import check_file
from ..core.kb import KnowledgeBase
from ..core.settings import Settings
from ..core.vocabulary import HIDDEN_STATUSES
from ..errors import UsageError
from .build import Embedder
from .passages import lesson_passages
from .store import IndexData


@dataclass
class SimilarHit:
    """A lesson close in meaning to another, with its tier."""

    id: str
    title: str
    path: str
    score: float
    tier: str  # "likely duplicate" or "related"
    outcome: str
    sector: str
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


MEANING_WEIGHT = 0.8  # the rest is shared technologies; calibrated on the starter corpus (docs/how-search-works.md)


@dataclass(frozen=True)
class Tiers:
    """Scores from which a lesson is a likely duplicate, and from which it is related at all."""

    duplicate: float
    related: float

    @classmethod
    def of(cls, settings: Settings) -> Tiers:
        return cls(settings.duplicate_threshold, settings.related_threshold)


def similar_to_vector(
    data: IndexData, vector: np.ndarray, technologies: Sequence[str], exclude: Collection[str], top: int, tiers: Tiers
) -> list[SimilarHit]:
    """Lessons closest to a lesson, scored 0.8 x cosine of lesson vectors + 0.2 x overlap (Jaccard) of technologies.

    Meaning alone ranks same-language lessons about different problems too close (the bundled model
    is English-only); sharing a technology separates the pairs that tell the same problem.
    """
    n = data.lesson_vectors.ntotal
    if n == 0:
        return []
    cos, rows = data.lesson_vectors.search(np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32), n)
    techs = set(technologies)
    scored = []
    for c, row in zip(cos[0], rows[0]):
        row = int(row)
        if data.ids[row] in exclude or data.facets["status"][row] in HIDDEN_STATUSES:
            continue
        other = set(data.facets["technologies"][row])
        overlap = len(techs & other) / len(techs | other) if techs | other else 0.0
        score = MEANING_WEIGHT * float(c) + (1 - MEANING_WEIGHT) * overlap
        if score >= tiers.related:
            scored.append((score, row))
    scored.sort(key=lambda item: -item[0])
    return [_hit(data, row, score, tiers) for score, row in scored[:top]]


def _hit(data: IndexData, row: int, score: float, tiers: Tiers) -> SimilarHit:
    rec = data.record(row)
    tier = "likely duplicate" if score >= tiers.duplicate else "related"
    return SimilarHit(rec["id"], rec["title"], rec["path"], round(score, 4), tier, rec["outcome"], rec["sector"], rec["summary"])


def indexed_vector(data: IndexData, lesson_id: str) -> tuple[np.ndarray, list[str]]:
    """An indexed lesson's vector (the unit-length mean of its passages) and its technologies."""
    row = data.row_of(lesson_id)
    if row is None:
        raise UsageError(f"no indexed lesson with id '{lesson_id}'")
    return data.lesson_vectors.reconstruct(row), list(data.facets["technologies"][row])


def centroid(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def find_similar(
    kb: KnowledgeBase, data: IndexData, embedder: Embedder, target: str, top: int, tiers: Tiers
) -> tuple[str, list[SimilarHit]]:
    """Similar lessons for `target`, an indexed lesson's id or a lesson file (even a draft); its own id is left out."""
    if target.endswith(".md") or Path(target).exists():
        vector, lesson_id, technologies = draft_vector(kb, embedder, Path(target))
    else:
        lesson_id = target
        vector, technologies = indexed_vector(data, target)
    return lesson_id, similar_to_vector(data, vector, technologies, {lesson_id}, top, tiers)


def draft_vector(kb: KnowledgeBase, embedder: Embedder, path: Path) -> tuple[np.ndarray, str, list[str]]:
    """Embed a lesson file that may not be in the index (its errors other than schema ones are tolerated)."""
    if not path.is_file():
        raise UsageError(f"{path}: no such lesson file")
    findings, lesson, _ = check_file(path, kb.taxonomy, kb.relpath(path))
    if lesson is None:
        first = next((f.format() for f in findings if f.level == "error"), f"{path}: unreadable")
        raise UsageError(f"cannot compare {path}: fix its front matter first ({first})")
    passages = lesson_passages(lesson, kb.taxonomy)
    return centroid(embedder.encode([p.embed_text for p in passages])), lesson.id, list(lesson.meta.technologies)


def similar_to_text(data: IndexData, embedder: Embedder, text: str, technologies: list[str], top: int, tiers: Tiers) -> list[SimilarHit]:
    """The lessons closest to a few words (a new lesson's title and summary), whatever their score."""
    vector = embedder.encode([text])[0]
    return similar_to_vector(data, vector, technologies, set(), top, Tiers(tiers.duplicate, -1.0))


def related_lessons(data: IndexData, shown: set[str], k: int = 5) -> dict[str, list[str]]:
    """The k nearest lessons by meaning for every shown lesson, from the index's lesson vectors in one batched query."""
    index = data.lesson_vectors
    n = index.ntotal
    if n < 2:
        return {}
    hidden = sum(1 for lesson_id in data.ids if lesson_id not in shown)
    _, rows = index.search(index.reconstruct_n(0, n), min(n, k + 1 + hidden))
    related = {}
    for row, neighbours in enumerate(rows):
        lesson_id = data.ids[row]
        if lesson_id in shown:
            related[lesson_id] = [data.ids[j] for j in neighbours if j >= 0 and j != row and data.ids[j] in shown][:k]
    return related
