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
from .fusion import PARAMETERS
from .likeness import containment, shingles
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
    chosen_by_author: bool = False  # listed in the lesson's own `related:` front matter

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


MEANING_WEIGHT = 0.8  # the rest is shared technologies; calibrated on the starter corpus (docs/how-search-works.md)
# The bundled model is English-only: lessons in two languages about the same problem score 0.24-0.35, distinct
# ones at most 0.29 (bench/similar_calibration.py), so across languages "related" starts lower.
RELATED_OTHER_LANGUAGE = 0.30
# Share of the smaller lesson's 4-word shingles found in the other from which it is a likely duplicate: retold
# copies (sections and paragraphs moved, new title) share 0.93-0.96, distinct lessons at most 0.006.
DUPLICATE_SHINGLES = 0.5
MODEL_LANGUAGE = PARAMETERS.model_language
CANDIDATES = 20  # lessons closest by meaning whose shingles are compared


@dataclass(frozen=True)
class Tiers:
    """Scores from which a lesson is a likely duplicate, and from which it is related at all."""

    duplicate: float
    related: float
    related_other_language: float = RELATED_OTHER_LANGUAGE

    @classmethod
    def of(cls, settings: Settings) -> Tiers:
        return cls(settings.duplicate_threshold, settings.related_threshold)

    def floor(self, same_language: bool) -> float:
        return self.related if same_language else min(self.related, self.related_other_language)


@dataclass(frozen=True)
class Target:
    """The lesson whose similar lessons are wanted: its vector, technologies, language, text shingles and author's picks."""

    vector: np.ndarray
    technologies: Sequence[str]
    language: str | None = None
    shingles: frozenset[int] = frozenset()
    chosen: tuple[str, ...] = ()


def meaning_scores(data: IndexData, target: Target, cos: np.ndarray, rows: np.ndarray) -> list[tuple[float, int, float]]:
    """(score, row, shared technologies) for the lessons FAISS found (cosines `cos` at `rows`), best first: 0.8 x cosine of lesson vectors
    + 0.2 x overlap (Jaccard) of technologies.

    Meaning alone ranks same-language lessons about different problems too close (the bundled model
    is English-only); sharing a technology separates the pairs that tell the same problem.
    """
    techs = set(target.technologies)
    scored = []
    for c, row in zip(cos, rows):
        if row < 0:
            continue
        other = set(data.facets["technologies"][int(row)])
        overlap = len(techs & other) / len(techs | other) if techs | other else 0.0
        scored.append((MEANING_WEIGHT * float(c) + (1 - MEANING_WEIGHT) * overlap, int(row), overlap))
    scored.sort(key=lambda item: -item[0])
    return scored


def similar_to_vector(data: IndexData, target: Target, exclude: Collection[str], top: int, tiers: Tiers) -> list[SimilarHit]:
    """Similar lessons for a target compared with every indexed lesson (see `select`)."""
    n = data.lesson_vectors.ntotal
    if n == 0:
        return []
    cos, rows = data.lesson_vectors.search(np.ascontiguousarray(target.vector.reshape(1, -1), dtype=np.float32), n)
    return select(data, target, meaning_scores(data, target, cos[0], rows[0]), exclude, top, tiers)


def select(
    data: IndexData, target: Target, scored: list[tuple[float, int, float]], exclude: Collection[str], top: int, tiers: Tiers
) -> list[SimilarHit]:
    """The author's `related:` lessons first, then lessons above the related threshold (lower across languages; two
    lessons in another language than the model's must also share a technology, as the model scores any two of them
    high); a lesson sharing most of its wording (shingles) or scoring above the duplicate threshold is a likely duplicate."""
    chosen, found = [], []
    for rank, (score, row, overlap) in enumerate(scored):
        lesson_id = data.ids[row]
        if lesson_id in exclude or data.facets["status"][row] in HIDDEN_STATUSES:
            continue
        same = target.language is None or data.facets["language"][row] == target.language
        copy = (
            rank < CANDIDATES and bool(target.shingles) and containment(target.shingles, lesson_shingles(data, row)) >= DUPLICATE_SHINGLES
        )
        tier = "likely duplicate" if copy or score >= tiers.duplicate else "related"
        if lesson_id in target.chosen:
            chosen.append(_hit(data, row, score, tier, True))
        elif tier == "likely duplicate" or (
            score >= tiers.floor(same) and (overlap > 0 or not same or target.language in (None, MODEL_LANGUAGE))
        ):
            found.append(_hit(data, row, score, tier, False))
    chosen.sort(key=lambda hit: target.chosen.index(hit.id))
    return (chosen + found)[: max(top, len(chosen))]


def lesson_shingles(data: IndexData, row: int) -> frozenset[int]:
    """The shingles of an indexed lesson's passages."""
    lo, hi = np.searchsorted(data.passage_lesson, [row, row + 1])
    return shingles([data.passage(i) for i in range(int(lo), int(hi))])


def _hit(data: IndexData, row: int, score: float, tier: str, chosen: bool) -> SimilarHit:
    rec = data.record(row)
    return SimilarHit(rec["id"], rec["title"], rec["path"], round(score, 4), tier, rec["outcome"], rec["sector"], rec["summary"], chosen)


def indexed_target(data: IndexData, lesson_id: str) -> Target:
    """An indexed lesson as a target: the unit-length mean of its passages, its metadata and its shingles."""
    row = data.row_of(lesson_id)
    if row is None:
        raise UsageError(f"no indexed lesson with id '{lesson_id}'")
    rec = data.record(row)
    chosen = tuple(rec.get("related") or ())
    return Target(data.lesson_vectors.reconstruct(row), list(rec["technologies"]), rec["language"], lesson_shingles(data, row), chosen)


def centroid(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def find_similar(
    kb: KnowledgeBase, data: IndexData, embedder: Embedder, target: str, top: int, tiers: Tiers
) -> tuple[str, list[SimilarHit]]:
    """Similar lessons for `target`, an indexed lesson's id or a lesson file (even a draft); its own id is left out."""
    if target.endswith(".md") or Path(target).exists():
        lesson_id, found = draft_target(kb, embedder, Path(target))
    else:
        lesson_id, found = target, indexed_target(data, target)
    return lesson_id, similar_to_vector(data, found, {lesson_id}, top, tiers)


def draft_target(kb: KnowledgeBase, embedder: Embedder, path: Path) -> tuple[str, Target]:
    """Embed a lesson file that may not be in the index (its errors other than schema ones are tolerated)."""
    if not path.is_file():
        raise UsageError(f"{path}: no such lesson file")
    findings, lesson, _ = check_file(path, kb.taxonomy, kb.relpath(path))
    if lesson is None:
        first = next((f.format() for f in findings if f.level == "error"), f"{path}: unreadable")
        raise UsageError(f"cannot compare {path}: fix its front matter first ({first})")
    passages = lesson_passages(lesson, kb.taxonomy)
    meta = lesson.meta
    vector = centroid(embedder.encode([p.embed_text for p in passages]))
    return lesson.id, Target(vector, list(meta.technologies), meta.language, shingles([p.text for p in passages]), tuple(meta.related))


def similar_to_text(data: IndexData, embedder: Embedder, text: str, technologies: list[str], top: int, tiers: Tiers) -> list[SimilarHit]:
    """The lessons closest to a few words (a new lesson's title and summary), whatever their score."""
    vector = embedder.encode([text])[0]
    return similar_to_vector(data, Target(vector, technologies), set(), top, Tiers(tiers.duplicate, -1.0, -1.0))


def related_lessons(data: IndexData, shown: set[str], tiers: Tiers, k: int = 5) -> dict[str, list[str]]:
    """Up to k lessons related by meaning (above the related thresholds, likely duplicates included) for every
    shown lesson, from one batched query. The author's own `related:` lessons are left out: the site puts them first."""
    index = data.lesson_vectors
    n = index.ntotal
    if n < 2:
        return {}
    hidden = {lesson_id for lesson_id in data.ids if lesson_id not in shown}
    records = data.lessons  # parsed once and kept, for select() too: it reads the record of every lesson it keeps
    vectors = index.reconstruct_n(0, n)
    cos, rows = index.search(vectors, min(n, k + 1 + len(hidden) + CANDIDATES))
    related = {}
    for row, lesson_id in enumerate(data.ids):
        if lesson_id in shown:
            rec = records[row]
            target = Target(vectors[row], list(rec["technologies"]), rec["language"])
            scored = meaning_scores(data, target, cos[row], rows[row])
            hits = select(data, target, scored, hidden | {lesson_id, *(rec.get("related") or ())}, k, tiers)
            related[lesson_id] = [hit.id for hit in hits]
    return related
